"""The black-box attacker's view of the victim: a recogniser that counts every signal it
is asked about, so a query budget is measured where the victim is called, not inferred
from the attack's own bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from advspeech.asr.recognizer import Recognizer


class CountingRecognizer(Recognizer):
    """Wraps a recogniser with output scores; ``signals`` counts every waveform passed to
    :meth:`transcribe` or :meth:`log_probs` (one query each). No gradient: ``loss`` is
    not offered, so a black-box attack cannot reach the victim's gradient through it."""

    differentiable = False

    def __init__(self, inner: Recognizer):
        if not hasattr(inner, "log_probs"):
            raise TypeError(f"{type(inner).__name__} exposes no output scores (log_probs)")
        self.inner = inner
        self.signals = 0

    @property
    def device(self) -> torch.device:
        return getattr(self.inner, "device", torch.device("cpu"))

    def transcribe(self, waveforms: Sequence[np.ndarray | torch.Tensor]) -> list[str]:
        self.signals += len(waveforms)
        return self.inner.transcribe(waveforms)

    def log_probs(self, waveforms: torch.Tensor, lengths: torch.Tensor):
        self.signals += int(waveforms.shape[0])
        return self.inner.log_probs(waveforms, lengths)

    def can_emit(self, n_samples: int, text: str) -> bool:
        can_emit = getattr(self.inner, "can_emit", None)
        return True if can_emit is None else can_emit(n_samples, text)

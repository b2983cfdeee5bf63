"""The adaptive attacker of the paper's Fig. 3: it knows the enhancement front end.

:class:`DefendedRecognizer` composes a defence and a recogniser into one
:class:`~advspeech.asr.model.Recognizer` (defend, then recognise); :class:`EnhancedRecognizer`
is the paper's case, an enhancement model. It is differentiable
end to end, so ``grad`` attacks *through* the enhancement model (white box), and it
exposes output scores, so ``evo`` queries the composite (black box). It is the defence
as deployed: each utterance is enhanced alone, over its own length, by the same
segment-wise overlap-add as the ``enhance`` rule (:func:`advspeech.se.enhance.overlap_add_enhance`),
so an utterance's result never depends on its batch-mates or on padding.

:mod:`advspeech.attacks.budget_search` finds, per utterance, the quietest budget at which an
attack through the composite still succeeds (Fig. 3's measure).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advspeech.asr.model import greedy_decode, pad_batch
from advspeech.asr.recognizer import Recognizer
from advspeech.core.seeding import stable_seed
from advspeech.se.enhance import overlap_add_enhance


class DefendedRecognizer(Recognizer):
    """``recognizer(defend(x))`` as one recogniser: each utterance is defended alone,
    over its own length (``defend(wave, seed)``, a 1-D signal in, the same length out).
    With ``samples`` > 1 (a randomised defence) the loss is the mean over that many
    draws, expectation over transformations; every call draws fresh seeds from a
    counter, so a run is deterministic given ``seed``."""

    def __init__(
        self,
        defend: Callable[[torch.Tensor, int], torch.Tensor],
        recognizer: Recognizer,
        device: torch.device,
        samples: int = 1,
        seed: int = 0,
    ):
        if not getattr(recognizer, "differentiable", False):
            raise TypeError("the composite needs a differentiable recogniser")
        self.defend = defend
        self.recognizer = recognizer
        self.device = device
        self.samples = int(samples)
        self.seed = int(seed)
        self.calls = 0
        self.differentiable = True

    def _defended(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        rows = [
            self.defend(waveforms[i, :n], stable_seed(self.seed, "defence", self.calls, i))
            for i, n in enumerate(lengths.tolist())
        ]
        return torch.stack([F.pad(r, (0, waveforms.shape[-1] - r.shape[0])) for r in rows])

    @torch.no_grad()
    def transcribe(self, waveforms: Sequence[np.ndarray | torch.Tensor]) -> list[str]:
        """Transcripts of the defended signals (the defence applied to each alone)."""
        texts: list[str] = []
        for start in range(0, len(waveforms), 32):
            batch, lengths = pad_batch(waveforms[start : start + 32])
            log_probs, out_len = self.log_probs(batch.to(self.device), lengths.to(self.device))
            texts += greedy_decode(log_probs, out_len)
        return texts

    def loss(self, waveforms: torch.Tensor, lengths: torch.Tensor, targets: Sequence[str]):
        """Per-example CTC loss through the defence (BPDA or EOT where the defence needs
        it)."""
        losses = [
            self.recognizer.loss(self._defended(waveforms, lengths), lengths, targets)
            for _ in range(self.samples)
        ]
        return losses[0] if self.samples == 1 else torch.stack(losses).mean(dim=0)

    def log_probs(self, waveforms: torch.Tensor, lengths: torch.Tensor):
        """Recogniser scores of the defended batch (a black-box query of the composite)."""
        return self.recognizer.log_probs(self._defended(waveforms, lengths), lengths)

    def can_emit(self, n_samples: int, text: str) -> bool:
        """Whether an input of ``n_samples`` can be transcribed as ``text`` (the defence
        keeps lengths)."""
        return self.recognizer.can_emit(n_samples, text)


class EnhancedRecognizer(DefendedRecognizer):
    """``recognizer(enhance(x))``, ``enhance`` being the ``enhance`` rule's
    per-utterance overlap-add with ``segment``-sample windows (the defence of Fig. 3)."""

    def __init__(
        self,
        enhancer: nn.Module,
        recognizer: Recognizer,
        device: torch.device,
        segment: int,
    ):
        self.enhancer = enhancer.to(device).eval()
        for p in self.enhancer.parameters():
            p.requires_grad_(False)
        self.segment = segment
        super().__init__(
            lambda wave, seed: overlap_add_enhance(self.enhancer, wave, segment),
            recognizer,
            device,
        )

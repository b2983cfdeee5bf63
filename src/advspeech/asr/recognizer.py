"""The interface attacks and scoring use of a victim (:class:`Recognizer`), and a
trained CTC model behind it (:class:`CTCRecognizer`)."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from advspeech.asr.model import ctc_loss, greedy_decode, pad_batch


class Recognizer(abc.ABC):
    """What attacks, enhancement evaluation and over-the-air scoring need of a victim."""

    differentiable: bool = False

    @abc.abstractmethod
    def transcribe(self, waveforms: Sequence[np.ndarray | torch.Tensor]) -> list[str]:
        """16 kHz mono signals -> transcripts (normalised lower-case text)."""

    def loss(
        self, waveforms: torch.Tensor, lengths: torch.Tensor, targets: Sequence[str]
    ) -> torch.Tensor:
        """Per-example loss of the target transcripts, differentiable w.r.t. ``waveforms``."""
        raise NotImplementedError(f"{type(self).__name__} is not differentiable")


@contextmanager
def differentiable_rnns(model: nn.Module) -> Iterator[None]:
    """Let gradients flow through the RNNs of a model in eval mode at cuDNN speed.

    cuDNN computes RNN gradients only for a forward pass in training mode, and PyTorch's
    native GPU RNN, the alternative, is a loop over time steps (an attack gradient was
    5.3x slower with it on an H200, bench/gpu_check.py). For an ``nn.RNNBase`` the only difference between the
    modes is its inter-layer dropout, so each RNN in eval mode is switched to training
    mode with dropout 0 for the forward pass: the same function, cuDNN's kernels.
    Everything else (batch norm, dropout layers) keeps its mode; RNNs already in
    training mode are left alone."""
    switched = [m for m in model.modules() if isinstance(m, nn.RNNBase) and not m.training]
    dropouts = [m.dropout for m in switched]
    for m in switched:
        m.dropout = 0.0
        m.train()
    try:
        yield
    finally:
        for m, dropout in zip(switched, dropouts, strict=True):
            m.dropout = dropout
            m.eval()


class CTCRecognizer(Recognizer):
    """A trained CTC model (any entry of :data:`advspeech.asr.RECOGNISERS`) on a device."""

    differentiable = True

    def __init__(self, model: nn.Module, device: torch.device, batch_size: int = 32):
        self.model = model.to(device).eval()
        self.device = device
        self.batch_size = batch_size
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def transcribe(self, waveforms: Sequence[np.ndarray | torch.Tensor]) -> list[str]:
        """Greedy CTC transcripts of 16 kHz mono signals of any lengths, batched by length."""
        texts: list[str] = []
        order = np.argsort([len(w) for w in waveforms])  # similar lengths share a batch
        results: dict[int, str] = {}
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch, lengths = pad_batch([waveforms[i] for i in idx])
            log_probs, out_len = self.model(batch.to(self.device), lengths.to(self.device))
            for i, text in zip(idx, greedy_decode(log_probs, out_len), strict=True):
                results[int(i)] = text
        texts = [results[i] for i in range(len(waveforms))]
        return texts

    def loss(
        self, waveforms: torch.Tensor, lengths: torch.Tensor, targets: Sequence[str]
    ) -> torch.Tensor:
        """Per-example CTC loss (B,) of ``targets`` for ``waveforms`` (B, N) with
        ``lengths`` (B,), differentiable in the waveforms."""
        with differentiable_rnns(self.model):
            log_probs, out_len = self.model(waveforms, lengths)
        return ctc_loss(log_probs, out_len, targets, reduction="none")

    def log_probs(self, waveforms: torch.Tensor, lengths: torch.Tensor):
        """The model output, log-probabilities (T, B, 29) and output lengths (B,): the
        scores a black-box attacker may query."""
        return self.model(waveforms, lengths)

    def can_emit(self, n_samples: int, text: str) -> bool:
        """Whether an input of ``n_samples`` has enough CTC frames for ``text``
        (one frame per character plus a blank between repeated characters)."""
        frames = self.model.front_end.frame_lengths(torch.tensor([n_samples]))
        out = int(self.model.output_lengths(frames)[0])
        needed = len(text) + sum(a == b for a, b in zip(text, text[1:], strict=False))
        return out >= needed

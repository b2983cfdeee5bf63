"""An enhancement model applied to whole utterances: segment-wise overlap-add, as the
``enhance`` rule and the adaptive attacker use it."""

from __future__ import annotations

import torch
from torch import nn


def overlap_add_enhance(model: nn.Module, wave: torch.Tensor, segment: int) -> torch.Tensor:
    """Enhance a 1-D signal of any length by 50 %-overlap-add of ``segment``-sample windows,
    on the signal's device and differentiable in the signal (the adaptive attacker
    attacks exactly this function).

    A signal no longer than ``segment`` is enhanced in one piece. Longer ones are cut into
    windows at half-segment hops (the last one ending at the signal's end), each weighted
    by a Hann window and normalised by the summed window, so the weights add to one
    everywhere; the output has exactly the input's length.
    """
    if wave.ndim != 1:
        raise ValueError(f"overlap_add_enhance expects a 1-D signal, got {tuple(wave.shape)}")
    n = wave.shape[0]
    if n <= segment:
        return model(wave[None])[0]
    hop = segment // 2
    starts = list(range(0, n - segment + 1, hop))
    if starts[-1] + segment < n:
        starts.append(n - segment)
    window = torch.hann_window(segment, periodic=False, dtype=wave.dtype, device=wave.device)
    window = window.clamp(min=1e-3)
    batch = torch.stack([wave[s : s + segment] for s in starts])
    enhanced = torch.cat([model(chunk) for chunk in batch.split(16)])
    out = wave.new_zeros(n)
    norm = wave.new_zeros(n)
    for s, seg in zip(starts, enhanced, strict=True):
        out[s : s + segment] += seg * window
        norm[s : s + segment] += window
    return out / norm


@torch.no_grad()
def enhance_signal(
    model: nn.Module, wave: torch.Tensor, segment: int, device: torch.device
) -> torch.Tensor:
    """:func:`overlap_add_enhance` of a CPU signal on ``device``, without gradients;
    returns a CPU tensor."""
    if wave.ndim != 1:
        raise ValueError(f"enhance_signal expects a 1-D signal, got shape {tuple(wave.shape)}")
    if not torch.isfinite(wave).all():
        raise ValueError("input contains NaN or Inf samples")
    return overlap_add_enhance(model, wave.to(device), segment).cpu()

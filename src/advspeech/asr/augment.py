"""Training-time augmentation of the recogniser: speed perturbation, a random gain
and room on the waveform, SpecAugment-style masks on its MFCCs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio

from advspeech import SAMPLE_RATE
from advspeech.core.fft import fftconvolve


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentation of the recogniser: a random gain and room on the
    waveform, SpecAugment-style masks (Park et al. 2019) on its MFCCs."""

    gain_db: tuple[float, float] = (-6.0, 6.0)  # uniform gain range per utterance
    # speed factors, one drawn per utterance (1.0 leaves it as is): resampling changes
    # rate, pitch and formants together, a cheap stand-in for unseen voices (Ko et al.,
    # "Audio augmentation for speech recognition", Interspeech 2015)
    speed_factors: tuple[float, ...] = ()
    reverb_prob: float = 0.3  # chance that an utterance is played in a random room
    # masks per utterance and their maximum widths (MFCC coefficients, frames)
    freq_masks: int = 2
    freq_mask_width: int = 4
    time_masks: int = 2
    time_mask_width: int = 15


def augment_waves(
    waves: list[np.ndarray], rirs: Sequence[np.ndarray], cfg: AugmentConfig, gen: torch.Generator
) -> list[np.ndarray]:
    """Each waveform at a random speed of ``cfg.speed_factors`` (when given), with
    probability ``cfg.reverb_prob`` convolved with a random room of ``rirs`` (rescaled
    to its own peak), and with a random gain (``cfg.gain_db``)."""
    out = []
    for w in waves:
        x = torch.from_numpy(w)
        if cfg.speed_factors:
            factor = cfg.speed_factors[
                int(torch.randint(len(cfg.speed_factors), (1,), generator=gen))
            ]
            if factor != 1.0:
                x = torchaudio.functional.speed(x, SAMPLE_RATE, factor)[0]
        if rirs and torch.rand(1, generator=gen).item() < cfg.reverb_prob:
            rir = torch.from_numpy(rirs[int(torch.randint(len(rirs), (1,), generator=gen))])
            y = fftconvolve(x, rir)[: len(x)]
            x = y * (x.abs().max() / y.abs().max().clamp(min=1e-8))
        lo, hi = cfg.gain_db
        gain = 10 ** ((lo + (hi - lo) * torch.rand(1, generator=gen).item()) / 20)
        out.append((x * gain).clamp(-1, 1).numpy())
    return out


def spec_augment(
    feats: torch.Tensor, frames: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator
) -> torch.Tensor:
    """Zero random frequency bands and time spans of (B, F, T) features (SpecAugment)."""
    feats = feats.clone()
    n_freq = feats.shape[1]
    for b in range(feats.shape[0]):
        for _ in range(cfg.freq_masks):
            width = int(torch.randint(0, cfg.freq_mask_width + 1, (1,), generator=gen))
            start = int(torch.randint(0, max(1, n_freq - width), (1,), generator=gen))
            feats[b, start : start + width, :] = 0.0
        t_max = int(frames[b])
        for _ in range(cfg.time_masks):
            width = int(torch.randint(0, cfg.time_mask_width + 1, (1,), generator=gen))
            start = int(torch.randint(0, max(1, t_max - width), (1,), generator=gen))
            feats[b, :, start : start + width] = 0.0
    return feats

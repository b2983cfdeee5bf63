"""Training-data augmentation for the enhancement models (``se.train.remix_*``)."""

from __future__ import annotations

import torch

from advspeech import SAMPLE_RATE


def remix_noise(
    noisy: torch.Tensor,
    clean: torch.Tensor,
    fraction: float,
    noises: int,
    tilt_db: float,
    gen: torch.Generator,
) -> torch.Tensor:
    """Dynamic remixing: a ``fraction`` share of the rows get a new noise.

    The noise of a row is ``noisy - clean`` (the mixtures are additive). A remixed row's
    new noise is the sum of ``noises`` donor noises drawn from the batch, each
    given a random spectral tilt of up to +-``tilt_db`` dB per decade and scaled
    to unit power, and the sum is scaled to the row's own noise power, so the row keeps
    its SNR. A model trained on a few fixed noise recordings otherwise learns those
    recordings; new (speech, noise) combinations, coloured and combined noises were the
    hope for noise types it has not met. Measured on dev, they raise quality on the
    training recordings' types and not on held-out ones (docs/decisions.md), so the
    default leaves remixing off."""
    noise = noisy - clean
    rows, length = noise.shape
    chosen = torch.rand(rows, generator=gen) < fraction
    power = noise.pow(2).mean(dim=-1, keepdim=True)
    chosen &= power[:, 0] > 0
    if not bool(chosen.any()):
        return noisy
    donors = noise[torch.randint(rows, (rows, noises), generator=gen)]
    if tilt_db > 0:
        freqs = torch.fft.rfftfreq(length, 1.0 / SAMPLE_RATE).clamp(min=50.0)
        slope = (2 * torch.rand(rows, noises, 1, generator=gen) - 1) * tilt_db
        gain = 10.0 ** (slope * torch.log10(freqs / 1000.0) / 20.0)  # amplitude, 0 dB at 1 kHz
        donors = torch.fft.irfft(torch.fft.rfft(donors, dim=-1) * gain, n=length, dim=-1)
    donors = donors / donors.pow(2).mean(dim=-1, keepdim=True).clamp_min(1e-12).sqrt()
    new = donors.sum(dim=1)
    new = new * (power / new.pow(2).mean(dim=-1, keepdim=True).clamp_min(1e-12)).sqrt()
    return torch.where(chosen[:, None], clean + new.to(noisy.dtype), noisy)

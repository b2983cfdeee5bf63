"""Signal processing shared by every stage: format conversion, levels, SNR, mixing.

NumPy at import: torch (resampling, the SNR-budget projection of tensors) is imported
where it is used, so the many scoring, table and data jobs that need only levels and
SNRs do not pay for it. The differentiable FFTs of the attack path are in
:mod:`advspeech.core.fft`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from advspeech import SAMPLE_RATE
from advspeech.core.io import DataError

if TYPE_CHECKING:
    import torch
    import torchaudio


def to_mono(audio: np.ndarray) -> np.ndarray:
    """(channels, samples) or (samples,) -> (samples,) by averaging channels."""
    audio = np.asarray(audio, dtype=np.float32)
    return audio.mean(axis=0) if audio.ndim == 2 else audio


@functools.lru_cache(maxsize=8)
def _resampler(orig_rate: int, new_rate: int) -> torchaudio.transforms.Resample:
    # the transform precomputes its sinc kernel once; the functional form rebuilds it
    # on every call, which dominated the cost of resampling many short utterances
    import torchaudio

    return torchaudio.transforms.Resample(
        orig_rate, new_rate, resampling_method="sinc_interp_kaiser"
    )


def resample(audio: np.ndarray, orig_rate: int, new_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling with torchaudio (sinc, Kaiser window)."""
    if orig_rate == new_rate:
        return np.asarray(audio, dtype=np.float32)
    import torch

    wave = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    with torch.no_grad():
        out = _resampler(int(orig_rate), int(new_rate))(wave)
    return out.numpy()


def to_mono_16k(
    audio: np.ndarray, rate: int, source: str, min_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Convert a (channels, samples) signal to 16 kHz mono.

    Rates below ``min_rate`` are refused: up-sampling narrow-band audio would pass it
    off as wide-band speech and silently bias wide-band PESQ and the recogniser.
    """
    if rate < min_rate:
        raise DataError(
            f"{source}: sample rate {rate} Hz is below the minimum {min_rate} Hz "
            "(config key data.min_sample_rate); refusing to up-sample narrow-band audio"
        )
    return resample(to_mono(audio), rate, SAMPLE_RATE)


def rms(x: np.ndarray) -> float:
    """Root mean square of ``x``."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def normalize_level(x: np.ndarray, rms_dbfs: float, max_peak: float) -> tuple[np.ndarray, float]:
    """Scale to ``rms_dbfs`` RMS unless that would push the peak above ``max_peak``.

    Returns the scaled signal and the gain applied.
    """
    level = rms(x)
    peak = float(np.max(np.abs(x)))
    if level <= 0.0 or peak <= 0.0:
        raise DataError("cannot normalise a silent signal")
    gain = min(10 ** (rms_dbfs / 20.0) / level, max_peak / peak)
    return (x * gain).astype(np.float32), float(gain)


def snr_db(clean: np.ndarray, degraded: np.ndarray) -> float:
    """The paper's SNR (Sec. 3.3): 10 log10(P_x / P_v) with v = degraded - clean.

    P is the mean square over all T samples. Identical signals give +inf.
    """
    clean = np.asarray(clean, dtype=np.float64)
    degraded = np.asarray(degraded, dtype=np.float64)
    if clean.shape != degraded.shape:
        raise ValueError(f"snr_db needs equal shapes, got {clean.shape} and {degraded.shape}")
    p_x = np.mean(clean**2)
    p_v = np.mean((degraded - clean) ** 2)
    if p_v == 0.0:
        return float("inf")
    if p_x == 0.0:
        return float("-inf")
    return float(10.0 * np.log10(p_x / p_v))


def scale_noise_to_snr(clean: np.ndarray, noise: np.ndarray, target_snr_db: float) -> np.ndarray:
    """Scale ``noise`` so that 10 log10(P_clean / P_noise) equals ``target_snr_db``."""
    p_x = np.mean(np.square(clean, dtype=np.float64))
    p_n = np.mean(np.square(noise, dtype=np.float64))
    if p_x == 0.0:
        raise DataError("cannot mix a silent utterance at a target SNR")
    if p_n == 0.0:
        raise DataError("cannot mix silent noise at a target SNR")
    gain = np.sqrt(p_x / (p_n * 10 ** (target_snr_db / 10.0)))
    return (noise * gain).astype(np.float32)


def take_segment(noise: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``length``-sample segment of ``noise``; a shorter noise is refused (tiled
    it would be a periodic buzz, not the recorded condition)."""
    if len(noise) < length:
        raise ValueError(f"noise of {len(noise)} samples is shorter than the {length} needed")
    start = int(rng.integers(0, len(noise) - length + 1))
    return noise[start : start + length]


# projected a little inside an SNR budget: a 16-bit file adds quantisation noise, and the
# budget must hold for the file the attacker writes
SNR_MARGIN_DB = 0.01


def snr_budget_scale(
    clean_energy: torch.Tensor, perturbation_energy: torch.Tensor, snr_db: float
) -> torch.Tensor:
    """Factor (<= 1) by which to scale a perturbation of ``perturbation_energy`` (sum of
    squares) so that the paper's SNR against speech of ``clean_energy`` is at least
    ``snr_db`` (plus :data:`SNR_MARGIN_DB`): the projection onto the SNR budget."""
    allowed = clean_energy * 10.0 ** (-(snr_db + SNR_MARGIN_DB) / 10.0)
    return (allowed / perturbation_energy.clamp(min=1e-20)).sqrt().clamp(max=1.0)

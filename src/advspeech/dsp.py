"""Signal processing shared by every stage: format conversion, levels, SNR, mixing."""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft
import torch
import torchaudio

from advspeech import SAMPLE_RATE
from advspeech.io import DataError


def to_mono(audio: np.ndarray) -> np.ndarray:
    """(channels, samples) or (samples,) -> (samples,) by averaging channels."""
    audio = np.asarray(audio, dtype=np.float32)
    return audio.mean(axis=0) if audio.ndim == 2 else audio


@functools.lru_cache(maxsize=8)
def _resampler(orig_rate: int, new_rate: int) -> torchaudio.transforms.Resample:
    # the transform precomputes its sinc kernel once; the functional form rebuilds it
    # on every call, which dominated the cost of resampling many short utterances
    return torchaudio.transforms.Resample(
        orig_rate, new_rate, resampling_method="sinc_interp_kaiser"
    )


def _rfft_adjoint(grad: torch.Tensor, n: int, width: int) -> torch.Tensor:
    """Gradient of real input x (``width`` samples) from the gradient ``grad`` of
    X = rfft(x, n), ``n >= width``, by one inverse real FFT.

    PyTorch differentiates rfft by zero-filling the one-sided gradient to a full
    spectrum and running a complex FFT on it. Here dL/dx_j = Re sum_k G_k
    e^{+2 pi i k j / n} over the one-sided bins k, which is (n / 2) * irfft(G) once the
    DC and Nyquist bins (counted once by irfft) are doubled. Faster on sizes with small
    prime factors only; on an awkward size PyTorch's inverse real FFT is the slower one
    (see :func:`advspeech.attacks.common.bandpass`)."""
    grad = grad.clone()
    grad[..., 0] *= 2
    if n % 2 == 0:
        grad[..., -1] *= 2
    return torch.fft.irfft(grad, n=n)[..., :width] * (n / 2)


class _RealFFT(torch.autograd.Function):
    """``torch.fft.rfft(x, n)`` for real x, ``n >= x.shape[-1]``, with the backward of
    :func:`_rfft_adjoint`, which autograd computes by padding the one-sided gradient to a
    full spectrum and running a complex FFT on it."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, n: int) -> torch.Tensor:
        ctx.n, ctx.width = n, x.shape[-1]
        return torch.fft.rfft(x, n=n)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return _rfft_adjoint(grad, ctx.n, ctx.width), None


def fftconvolve(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Full linear convolution along the last dimension (leading dimensions broadcast),
    as ``torchaudio.functional.fftconvolve`` but on an FFT size with small prime factors:
    torchaudio transforms at the exact output length, and a length with a large prime
    factor made a batch of room convolutions about 3x slower."""
    n = x.shape[-1] + h.shape[-1] - 1
    size = scipy.fft.next_fast_len(n, real=True)
    spectrum = _RealFFT.apply(x, size) * _RealFFT.apply(h, size)
    return torch.fft.irfft(spectrum, n=size)[..., :n]


class _PowerSpectrum(torch.autograd.Function):
    """|rfft(frames, n)|^2 with a backward of one inverse real FFT: the gradient of
    P = |X|^2 with respect to X is 2 g X, passed through :func:`_rfft_adjoint`.
    Autograd's own chain differentiates the complex magnitude and then the rFFT; this
    is one transform (docs/experiments.md has the timings)."""

    @staticmethod
    def forward(ctx, frames: torch.Tensor, n_fft: int) -> torch.Tensor:
        spectrum = torch.fft.rfft(frames, n=n_fft)
        ctx.save_for_backward(spectrum)
        ctx.n_fft, ctx.width = n_fft, frames.shape[-1]
        return spectrum.real.square() + spectrum.imag.square()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (spectrum,) = ctx.saved_tensors
        # 2 g X, scaling the real and imaginary parts alike (cheaper than a complex product)
        weighted = torch.view_as_complex(torch.view_as_real(spectrum) * (2 * grad)[..., None])
        return _rfft_adjoint(weighted, ctx.n_fft, ctx.width), None


def power_spectrum(frames: torch.Tensor, n_fft: int) -> torch.Tensor:
    """Power of the one-sided spectrum of each frame (last dimension, zero-padded to
    ``n_fft``): ``torch.fft.rfft(frames, n_fft).abs() ** 2``, with a faster gradient."""
    if frames.shape[-1] > n_fft:
        raise ValueError(f"frames of {frames.shape[-1]} samples exceed n_fft={n_fft}")
    return _PowerSpectrum.apply(frames, n_fft)


def resample(audio: np.ndarray, orig_rate: int, new_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling with torchaudio (sinc, Kaiser window)."""
    if orig_rate == new_rate:
        return np.asarray(audio, dtype=np.float32)
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
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def dbfs(x: np.ndarray) -> float:
    return 20.0 * np.log10(max(rms(x), 1e-12))


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

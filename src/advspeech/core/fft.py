"""Differentiable FFTs of the attack path with hand-written adjoints: room convolution
(:func:`fftconvolve`) and the power spectrum under the recogniser's MFCC front end
(:func:`power_spectrum`). Autograd's own backward of these pads or transforms more than
needed (docs/benchmarks.md has the timings)."""

from __future__ import annotations

import scipy.fft
import torch


def _rfft_adjoint(grad: torch.Tensor, n: int, width: int) -> torch.Tensor:
    """Gradient of real input x (``width`` samples) from the gradient ``grad`` of
    X = rfft(x, n), ``n >= width``, by one inverse real FFT.

    PyTorch differentiates rfft by zero-filling the one-sided gradient to a full
    spectrum and running a complex FFT on it. Here dL/dx_j = Re sum_k G_k
    e^{+2 pi i k j / n} over the one-sided bins k, which is (n / 2) * irfft(G) once the
    DC and Nyquist bins (counted once by irfft) are doubled. Faster on sizes with small
    prime factors only; on an awkward size PyTorch's inverse real FFT is the slower one
    (see :func:`advspeech.attacks.base.bandpass`)."""
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
    is one transform (docs/benchmarks.md has the timings)."""

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

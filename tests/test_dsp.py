"""SNR definition, mixing accuracy, format conversion."""

import numpy as np
import pytest
from testkit import tone

from advspeech import SAMPLE_RATE
from advspeech.core.dsp import (
    normalize_level,
    resample,
    scale_noise_to_snr,
    snr_db,
    take_segment,
    to_mono_16k,
)
from advspeech.core.fft import fftconvolve, power_spectrum
from advspeech.core.io import DataError, read_audio, write_audio


def test_snr_matches_paper_definition():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16000)
    v = 0.1 * rng.standard_normal(16000)
    expected = 10 * np.log10(np.mean(x**2) / np.mean(v**2))
    assert snr_db(x, x + v) == pytest.approx(expected)
    assert snr_db(x, x) == float("inf")
    with pytest.raises(ValueError, match="equal shapes"):
        snr_db(x, x[:-1])


@pytest.mark.parametrize("target", [15.0, 10.0, 5.0, 0.0, -5.0])
def test_mixture_snr_within_0p1_db_after_writing(tmp_path, target):
    rng = np.random.default_rng(1)
    clean = tone(2.0, SAMPLE_RATE) * 0.3
    noise = take_segment(rng.standard_normal(50_000).astype(np.float32), len(clean), rng)
    noisy = clean + scale_noise_to_snr(clean, noise, target)
    write_audio(tmp_path / "c.wav", clean, SAMPLE_RATE)
    write_audio(tmp_path / "n.wav", noisy, SAMPLE_RATE)
    c = read_audio(tmp_path / "c.wav")[0][0]
    n = read_audio(tmp_path / "n.wav")[0][0]
    assert abs(snr_db(c, n) - target) < 0.1


def test_take_segment_refuses_short_noise():
    rng = np.random.default_rng(2)
    assert len(take_segment(np.arange(30, dtype=np.float32), 25, rng)) == 25
    with pytest.raises(ValueError, match="shorter"):
        take_segment(np.arange(10, dtype=np.float32), 25, rng)


def test_resample_and_mixdown_to_16k():
    x = tone(1.0, 48_000, channels=2)
    y = to_mono_16k(x, 48_000, source="x.wav")
    assert y.shape == (16_000,)
    # a 220 Hz tone survives resampling: its energy stays
    assert np.std(y) == pytest.approx(np.std(x.mean(axis=0)), rel=0.05)
    assert resample(y, 16_000, 16_000) is not None


def test_narrowband_audio_is_refused_with_its_name():
    with pytest.raises(DataError, match=r"narrow.wav.*8000 Hz.*data.min_sample_rate"):
        to_mono_16k(tone(1.0, 8000), 8000, source="narrow.wav")


def test_normalize_level_respects_peak_cap():
    x = tone(1.0, SAMPLE_RATE)
    y, gain = normalize_level(x, rms_dbfs=-10.0, max_peak=0.5)
    assert np.max(np.abs(y)) <= 0.5 + 1e-6
    with pytest.raises(DataError, match="silent"):
        normalize_level(np.zeros(100, dtype=np.float32), -25.0, 0.5)


def test_fftconvolve_equals_torchaudio_on_awkward_lengths():
    """The fast-size FFT gives torchaudio's full convolution (batched, broadcast)."""
    import torch
    import torchaudio.functional as AF

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 29123, generator=gen)  # 29123 + 7919 - 1: a slow FFT size
    h = torch.randn(3, 7919, generator=gen)
    expected = AF.fftconvolve(x, h)
    got = fftconvolve(x, h)
    assert got.shape == expected.shape == (3, 29123 + 7919 - 1)
    assert torch.allclose(got, expected, atol=1e-3 * expected.abs().max())
    assert torch.allclose(fftconvolve(x[0], h[0]), expected[0], atol=1e-3 * expected.abs().max())


@pytest.mark.parametrize("n_fft", [12, 9])  # even (a Nyquist bin) and odd
def test_power_spectrum_values_and_gradient(n_fft):
    """|rfft|^2 forward; the hand-derived backward passes autograd's numerical check."""
    import torch

    gen = torch.Generator().manual_seed(0)
    frames = torch.randn(3, 5, 7, dtype=torch.float64, generator=gen, requires_grad=True)
    expected = torch.fft.rfft(frames, n=n_fft).abs() ** 2
    assert torch.allclose(power_spectrum(frames, n_fft), expected)
    assert torch.autograd.gradcheck(lambda f: power_spectrum(f, n_fft), (frames,))
    with pytest.raises(ValueError, match="exceed n_fft"):
        power_spectrum(frames, 6)


def test_fftconvolve_gradients_match_torchaudio():
    """The real-FFT backward gives autograd's gradients (both inputs, broadcast)."""
    import torch
    import torchaudio.functional as AF

    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 301, dtype=torch.float64, generator=gen)
    h = torch.randn(1, 3, 40, dtype=torch.float64, generator=gen)
    weights = torch.randn(2, 3, 340, dtype=torch.float64, generator=gen)
    grads = []
    for conv in (AF.fftconvolve, fftconvolve):
        xs, hs = x.clone().requires_grad_(True), h.clone().requires_grad_(True)
        grads.append(torch.autograd.grad((conv(xs, hs) * weights).sum(), [xs, hs]))
    for expected, got in zip(*grads, strict=True):
        assert torch.allclose(got, expected, atol=1e-9)
    xs = x[0, 0, :50].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a: fftconvolve(a, h[0, 0, :7]), (xs,))

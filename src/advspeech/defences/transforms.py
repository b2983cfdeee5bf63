"""The input transformations; see :mod:`advspeech.defences`."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from advspeech import SAMPLE_RATE


class Transform:
    """A transformation of one utterance. ``exact_gradient``: autograd differentiates
    it; otherwise :meth:`__call__` applies BPDA. ``randomised``: its output depends
    on the seed."""

    exact_gradient = True
    randomised = False

    def apply(self, wave: torch.Tensor, seed: int) -> torch.Tensor:
        """``wave`` (N,) at 16 kHz -> the transformed signal (N,); ``seed`` draws a
        randomised transformation."""
        raise NotImplementedError

    def __call__(self, wave: torch.Tensor, seed: int = 0) -> torch.Tensor:
        if self.exact_gradient:
            return self.apply(wave, seed)
        # BPDA: the transformation forward, the identity's gradient backward
        with torch.no_grad():
            out = self.apply(wave.detach(), seed)
        return wave + (out - wave).detach()


class Mp3Compression(Transform):
    """MPEG layer III at a constant bitrate (libsndfile's encoder, as shipped with the
    pinned soundfile), decoded and aligned back to the input's samples."""

    exact_gradient = False

    # libsndfile sets an MPEG-2 (16 kHz) bitrate linearly from its compression level:
    # level 0 -> 160 kbps, level 1 -> 8 kbps
    MAX_KBPS, MIN_KBPS = 160.0, 8.0

    def __init__(self, bitrate_kbps: float = 32.0):
        if not self.MIN_KBPS <= bitrate_kbps <= self.MAX_KBPS:
            raise ValueError(
                f"defences.transforms.mp3.bitrate_kbps: {bitrate_kbps} outside "
                f"{self.MIN_KBPS:g}-{self.MAX_KBPS:g} (MPEG-2 layer III at 16 kHz)"
            )
        self.level = (self.MAX_KBPS - bitrate_kbps) / (self.MAX_KBPS - self.MIN_KBPS)

    def apply(self, wave: torch.Tensor, seed: int) -> torch.Tensor:
        """MP3-encoded and decoded ``wave``, aligned to its samples."""
        x = wave.detach().cpu().numpy().astype(np.float32)
        buf = io.BytesIO()
        sf.write(
            buf,
            np.clip(x, -1.0, 1.0),
            SAMPLE_RATE,
            format="MP3",
            subtype="MPEG_LAYER_III",
            compression_level=self.level,
            bitrate_mode="CONSTANT",
        )
        buf.seek(0)
        y, _ = sf.read(buf, dtype="float32")
        return torch.from_numpy(_align(y, x)).to(wave.device, wave.dtype)


def _align(decoded: np.ndarray, original: np.ndarray) -> np.ndarray:
    """``decoded`` shifted by the encoder's delay (the lag of the largest
    cross-correlation within the decoded surplus) and cut or zero-padded to the
    original's length. Without a gapless header the decoder returns the encoder delay
    and padding as well."""
    n = len(original)
    surplus = len(decoded) - n
    lag = 0
    if surplus > 0 and np.any(original):
        size = 1 << int(np.ceil(np.log2(len(decoded) + n)))
        corr = np.fft.irfft(np.fft.rfft(decoded, size) * np.conj(np.fft.rfft(original, size)))
        lag = int(np.argmax(corr[: surplus + 1]))
    out = decoded[lag : lag + n]
    return np.pad(out, (0, n - len(out))).astype(np.float32)


class Resampling(Transform):
    """Down-sampling to ``rate`` and back (torchaudio's windowed-sinc resampler):
    removes everything above rate / 2."""

    def __init__(self, rate: int = 8000):
        if not 0 < rate < SAMPLE_RATE:
            raise ValueError(f"defences.transforms.resample.rate: {rate} not in (0, {SAMPLE_RATE})")
        self.rate = int(rate)

    def apply(self, wave: torch.Tensor, seed: int) -> torch.Tensor:
        """``wave`` down-sampled to ``rate`` Hz and back to 16 kHz."""
        low = AF.resample(wave, SAMPLE_RATE, self.rate)
        return AF.resample(low, self.rate, SAMPLE_RATE)[..., : wave.shape[-1]]


class Quantisation(Transform):
    """Amplitude quantisation to ``bits`` bits (uniform, mid-tread, over [-1, 1])."""

    exact_gradient = False

    def __init__(self, bits: int = 8):
        if not 2 <= bits <= 16:
            raise ValueError(f"defences.transforms.quantise.bits: {bits} not in 2-16")
        self.step = 2.0 ** (1 - int(bits))

    def apply(self, wave: torch.Tensor, seed: int) -> torch.Tensor:
        """``wave`` rounded to ``bits`` of amplitude resolution."""
        return torch.round(wave / self.step) * self.step


class LowPass(Transform):
    """A low-pass filter at ``cutoff_hz``: two cascaded biquads (4th order,
    Butterworth Q), run forwards and backwards so that the phase is kept."""

    def __init__(self, cutoff_hz: float = 4000.0):
        if not 0 < cutoff_hz < SAMPLE_RATE / 2:
            raise ValueError(
                f"defences.transforms.lowpass.cutoff_hz: {cutoff_hz} not below Nyquist"
            )
        self.cutoff = float(cutoff_hz)

    def apply(self, wave: torch.Tensor, seed: int) -> torch.Tensor:
        """``wave`` low-pass filtered at ``cutoff_hz`` (zero phase)."""
        y = wave
        for _ in range(2):
            y = AF.lowpass_biquad(y, SAMPLE_RATE, self.cutoff)
            y = AF.lowpass_biquad(y.flip(-1), SAMPLE_RATE, self.cutoff).flip(-1)
        return y


class RandomNoise(Transform):
    """Additive white Gaussian noise at ``snr_db`` below the utterance's own power,
    drawn afresh for every seed (a randomised smoothing of the input)."""

    randomised = True

    def __init__(self, snr_db: float = 20.0):
        self.snr_db = float(snr_db)

    def apply(self, wave: torch.Tensor, seed: int) -> torch.Tensor:
        """``wave`` plus white noise ``snr_db`` below it, drawn from ``seed``."""
        gen = torch.Generator().manual_seed(int(seed))
        noise = torch.randn(wave.shape, generator=gen).to(wave.device, wave.dtype)
        power = wave.detach().pow(2).mean().clamp(min=1e-10)
        return wave + noise * torch.sqrt(power * 10 ** (-self.snr_db / 10))

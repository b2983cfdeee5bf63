"""Scores: PESQ (wide-band), STOI, speech-based STI, the paper's SNR, WER/CER, bootstrap CIs.

PESQ and STOI come from the reference packages (``pesq``, ``pystoi``). A pair PESQ
cannot score (silence, too short) is returned as NaN with the reason, never as a crash
and never as a zero, so tables count it in n and report it.

STI: no maintained Python package computes the *speech-based* STI, so it is
implemented here after IEC 60268-16 (ed. 4) with the modulation-spectrum method of
Houtgast & Steeneken: for each octave band, the intensity envelopes of the clean and the
degraded signal are compared at the 14 modulation frequencies 0.63-12.5 Hz (1/3-octave
modulation bands); m(F) = (|Y(F)| / mean_y) / (|X(F)| / mean_x), clipped to [0, 1];
apparent SNR = 10 log10(m / (1 - m)) clipped to +-15 dB; TI = (SNR + 15) / 30; MTI per
band = mean TI; STI = sum a_k MTI_k - sum b_k sqrt(MTI_k MTI_k+1) with the male weights.
At 16 kHz the 8 kHz octave band (5.7-11.3 kHz) exceeds Nyquist, so it is dropped and
the remaining six bands' weights are renormalised (divided by sum(a) - sum(b) over the
six bands), so identical signals still give exactly 1.0.
"""

from __future__ import annotations

import math
import multiprocessing
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal

from advspeech import SAMPLE_RATE
from advspeech.dsp import snr_db

# --- PESQ / STOI -------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    value: float
    reason: str = ""  # why value is NaN, if it is


def pesq_wb(clean: np.ndarray, degraded: np.ndarray, rate: int = SAMPLE_RATE) -> Score:
    """Wide-band PESQ (ITU-T P.862.2) of one pair; NaN with the reason when unscorable."""
    from pesq import pesq as _pesq

    clean, degraded = _equal_length(clean, degraded)
    if np.max(np.abs(clean)) < 1e-6:
        return Score(float("nan"), "silent reference")
    try:
        return Score(float(_pesq(rate, clean, degraded, "wb")))
    except Exception as err:  # NoUtterancesError, BufferTooShortError, ...
        return Score(float("nan"), f"{type(err).__name__}: {err}".strip())


def _pesq_job(args: tuple[np.ndarray, np.ndarray]) -> Score:
    return pesq_wb(*args)


def pesq_many(pairs: Sequence[tuple[np.ndarray, np.ndarray]], processes: int = 1) -> list[Score]:
    """PESQ of many pairs, in parallel over ``processes`` worker processes."""
    if processes <= 1 or len(pairs) < 2:
        return [pesq_wb(c, d) for c, d in pairs]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        return pool.map(_pesq_job, pairs, chunksize=max(1, len(pairs) // (4 * processes)))


def stoi(clean: np.ndarray, degraded: np.ndarray, rate: int = SAMPLE_RATE) -> Score:
    """STOI (Taal et al. 2011) via pystoi; NaN when too few speech frames remain."""
    from pystoi import stoi as _stoi

    clean, degraded = _equal_length(clean, degraded)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(clean, degraded, rate, extended=False))
    if any(
        "fewer than 30" in str(w.message).lower() or "not enough" in str(w.message).lower()
        for w in caught
    ):
        return Score(float("nan"), "fewer than 30 speech frames for STOI")
    return Score(value)


def _equal_length(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"clean and degraded differ in length: {a.shape} vs {b.shape}")
    return a, b


def snr(clean: np.ndarray, degraded: np.ndarray) -> Score:
    """The paper's SNR (Sec. 3.3): 10 log10(P_x / P_v), v = degraded - clean."""
    value = snr_db(*_equal_length(clean, degraded))
    if not math.isfinite(value):
        return Score(float("nan"), "identical signals (infinite SNR)")
    return Score(value)


# --- STI -----------------------------------------------------------------------------------

OCTAVE_CENTRES = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
MODULATION_FREQS = (0.63, 0.8, 1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0, 10.0, 12.5)
STI_ALPHA_MALE = (0.085, 0.127, 0.230, 0.233, 0.309, 0.224, 0.173)
STI_BETA_MALE = (0.085, 0.078, 0.065, 0.011, 0.047, 0.095)
_ENVELOPE_RATE = 100.0  # Hz; modulation frequencies stay below 12.5 Hz


def sti_bands(rate: int) -> int:
    """Number of octave bands whose upper edge (fc * sqrt 2) lies below Nyquist."""
    return sum(fc * math.sqrt(2) < rate / 2 for fc in OCTAVE_CENTRES)


def _band_envelopes(x: np.ndarray, rate: int, n_bands: int) -> np.ndarray:
    """Intensity envelopes (n_bands, T) at 100 Hz of the octave bands of ``x``."""
    step = int(round(rate / _ENVELOPE_RATE))
    envs = []
    for fc in OCTAVE_CENTRES[:n_bands]:
        sos = signal.butter(
            4, [fc / math.sqrt(2), fc * math.sqrt(2)], "bandpass", fs=rate, output="sos"
        )
        band = signal.sosfiltfilt(sos, x)
        intensity = band**2
        # low-pass the intensity below 50 Hz before decimating to the envelope rate
        lp = signal.butter(4, 0.4 * _ENVELOPE_RATE, "lowpass", fs=rate, output="sos")
        envs.append(np.maximum(signal.sosfiltfilt(lp, intensity)[::step], 0.0))
    return np.asarray(envs)


def _modulation_depths(env: np.ndarray) -> np.ndarray:
    """m(F) (bands, 14) of intensity envelopes, from 1/3-octave modulation bands."""
    n = env.shape[-1]
    spec = np.fft.rfft(env, axis=-1)
    freqs = np.fft.rfftfreq(n, d=1.0 / _ENVELOPE_RATE)
    mean = env.mean(axis=-1, keepdims=True)
    out = np.zeros((env.shape[0], len(MODULATION_FREQS)))
    for j, fm in enumerate(MODULATION_FREQS):
        sel = (freqs >= fm * 2 ** (-1 / 6)) & (freqs < fm * 2 ** (1 / 6))
        if not sel.any():  # signal too short to resolve fm: use the nearest bin
            sel = np.abs(freqs - fm) == np.min(np.abs(freqs - fm))
        power = np.sum(np.abs(spec[:, sel]) ** 2, axis=-1)
        out[:, j] = 2.0 * np.sqrt(power) / (n * np.maximum(mean[:, 0], 1e-20))
    return out


def sti(clean: np.ndarray, degraded: np.ndarray, rate: int = SAMPLE_RATE) -> Score:
    """Speech-based STI of ``degraded`` against ``clean`` (see module docstring)."""
    clean, degraded = _equal_length(clean, degraded)
    if np.max(np.abs(clean)) < 1e-6:
        return Score(float("nan"), "silent reference")
    if len(clean) < rate:  # below ~1 s the 0.63 Hz modulation is meaningless
        return Score(float("nan"), "shorter than 1 s for STI")
    n_bands = sti_bands(rate)
    m_clean = _modulation_depths(_band_envelopes(clean, rate, n_bands))
    m_deg = _modulation_depths(_band_envelopes(degraded, rate, n_bands))
    ratio = np.clip(m_deg / np.maximum(m_clean, 1e-12), 0.0, 1.0)
    return Score(sti_from_mtf(ratio))


def sti_from_mtf(mtf: np.ndarray) -> float:
    """STI from a modulation transfer matrix (bands, 14) with the male weights,
    renormalised to the bands present (identical signals -> 1.0)."""
    with np.errstate(divide="ignore"):
        apparent_snr = 10.0 * np.log10(mtf / np.maximum(1.0 - mtf, 1e-12))
    apparent_snr = np.clip(
        np.nan_to_num(apparent_snr, nan=-15.0, posinf=15.0, neginf=-15.0), -15.0, 15.0
    )
    mti = ((apparent_snr + 15.0) / 30.0).mean(axis=1)
    k = len(mti)
    alpha = np.asarray(STI_ALPHA_MALE[:k])
    beta = np.asarray(STI_BETA_MALE[: k - 1])
    raw = float(np.sum(alpha * mti) - np.sum(beta * np.sqrt(mti[:-1] * mti[1:])))
    return raw / float(alpha.sum() - beta.sum())


# --- WER -----------------------------------------------------------------------------------


def wer_percent(reference: str, hypothesis: str) -> float:
    """Word error rate of one utterance in percent (jiwer); an empty hypothesis is 100."""
    import jiwer

    return 100.0 * jiwer.wer(reference, hypothesis) if reference else float("nan")


# --- confidence intervals ------------------------------------------------------------------


def bootstrap_ci(
    values: Sequence[float], n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float, int]:
    """Mean of the finite values with a percentile bootstrap CI: (mean, low, high, n)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan"), float("nan"), 0
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(x.mean()), float(lo), float(hi), int(x.size)

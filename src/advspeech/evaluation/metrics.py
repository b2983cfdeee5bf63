"""Scores: PESQ (wide-band), STOI, speech-based STI, the paper's SNR, SI-SDR, WER/CER of one item
(intervals over items: :mod:`advspeech.evaluation.statistics`).

PESQ and STOI come from the reference packages (``pesq``, ``pystoi``). A pair PESQ
cannot score (silence, too short) is returned as NaN with the reason, never as a crash
and never as a zero, so tables count it in n and report it.

STI: no maintained Python package computes the *speech-based* STI, so it is
implemented here after IEC 60268-16 (ed. 4) with the envelope-regression method of
Ludvigsen, Elberling, Keidser and Poulsen (1990, "Prediction of intelligibility of
non-linearly processed speech", Acta Otolaryngol. Suppl. 469), as analysed by
Goldsworthy and Greenberg (2004, "Analysis of speech-based speech transmission index
methods with implications for nonlinear operations", JASA 116(6)). For each octave band
the intensity envelopes x(t) of the clean and y(t) of the degraded signal (band-pass,
square, low-pass at 12.5 Hz, 100 Hz rate) are compared *in time*: y is regressed on x,
y ~ a x + b, and the transmitted share of the speech modulation is
m = a mean(x) / mean(y) (clipped to [0, 1]; a <= 0 gives 0). For stationary additive
noise a = 1 and m = S / (S + N), the classical MTF of noise. Because it follows the
envelope's time course, a time-reversed copy, or a signal whose envelope is shifted by
200 ms, scores near 0; the magnitude-ratio method it replaces compared envelope spectra
in magnitude only and scored them 0.98 and 0.88. Apparent SNR = 10 log10(m / (1 - m))
clipped to +-15 dB; TI = (SNR + 15) / 30 per band; STI = sum a_k TI_k - sum b_k
sqrt(TI_k TI_k+1) with the male weights. At 16 kHz the 8 kHz octave band (5.7-11.3 kHz)
exceeds Nyquist, so it is dropped and the remaining six bands' weights are renormalised
(divided by sum(a) - sum(b) over the six bands), so identical signals give exactly 1.0.

Known bias: on linear reverberation the regression also sees the phase lag that the
room adds to the envelope, so it reads lower than the indirect STI of the impulse
response (by about 0.05-0.13 on the rooms of ``tests/test_metrics.py``; the indirect
STI is magnitude-only by definition). Tables compare systems on the same items, so the
bias is shared by the columns.
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
from advspeech.core.dsp import snr_db

# --- PESQ / STOI -------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A metric value (NaN when it cannot be computed) and why it could not."""

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


# ITU-T P.862.2's mapping of the raw P.862 score x to the wide-band MOS-LQO that pesq_wb
# returns: 0.999 + 4 / (1 + exp(-1.3669 x + 3.8224)) (the ``pesq`` package's pesqmain.h)
_WB_FLOOR, _WB_SPAN, _WB_SLOPE, _WB_OFFSET = 0.999, 4.0, 1.3669, 3.8224


def pesq_wb_raw(mos_lqo: np.ndarray | float) -> np.ndarray:
    """The raw P.862 score behind a wide-band MOS-LQO (the inverse of P.862.2's mapping).

    The mapping is a logistic that is flat near its floor: around MOS-LQO 1.2 a change of
    the raw score moves MOS-LQO about a quarter as much as around 2.0. Gains of systems
    whose inputs differ in quality (or that are compared with a paper's) are comparable
    on this scale, not on MOS-LQO. NaN stays NaN; a value outside the mapping's open
    range (0.999, 4.999) is an error, as no PESQ score can be there.
    """
    mos = np.asarray(mos_lqo, dtype=np.float64)
    share = (mos - _WB_FLOOR) / _WB_SPAN
    outside = ~np.isnan(share) & ((share <= 0) | (share >= 1))
    if outside.any():
        raise ValueError(
            f"MOS-LQO {mos[outside].ravel()[0]:g} is outside the P.862.2 range "
            f"({_WB_FLOOR}, {_WB_FLOOR + _WB_SPAN})"
        )
    return (_WB_OFFSET + np.log(share / (1 - share))) / _WB_SLOPE


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


def si_sdr(clean: np.ndarray, degraded: np.ndarray) -> Score:
    """Scale-invariant SDR (Le Roux et al. 2019), dB: the degraded signal projected on
    the clean one is the target, the rest the distortion; unlike the paper's SNR it does
    not penalise a model for scaling speech down."""
    x, y = (a.astype(np.float64) for a in _equal_length(clean, degraded))
    energy = float(np.dot(x, x))
    if energy == 0.0:
        return Score(float("nan"), "silent reference")
    target = (np.dot(y, x) / energy) * x
    residual = y - target
    err = float(np.dot(residual, residual))
    if err == 0.0:
        return Score(float("nan"), "identical signals (infinite SI-SDR)")
    return Score(10.0 * math.log10(max(float(np.dot(target, target)), 1e-30) / err))


def pesq_stoi_snr(
    clean: Sequence[np.ndarray], degraded: Sequence[np.ndarray], processes: int = 1
) -> dict[str, np.ndarray]:
    """PESQ, STOI and the paper's SNR of aligned pairs, as arrays (NaN where a pair is
    unscorable): what the tuning benchmarks compare settings by."""
    pairs = list(zip(clean, degraded, strict=True))
    return {
        "pesq": np.array([s.value for s in pesq_many(pairs, processes)]),
        "stoi": np.array([stoi(c, d).value for c, d in pairs]),
        "snr": np.array([snr(c, d).value for c, d in pairs]),
    }


# --- STI -----------------------------------------------------------------------------------

OCTAVE_CENTRES = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
STI_ALPHA_MALE = (0.085, 0.127, 0.230, 0.233, 0.309, 0.224, 0.173)
STI_BETA_MALE = (0.085, 0.078, 0.065, 0.011, 0.047, 0.095)
_ENVELOPE_RATE = 100.0  # Hz; modulation frequencies stay below 12.5 Hz


def sti_bands(rate: int) -> int:
    """Number of octave bands whose upper edge (fc * sqrt 2) lies below Nyquist."""
    return sum(fc * math.sqrt(2) < rate / 2 for fc in OCTAVE_CENTRES)


_ENVELOPE_LOWPASS_HZ = 12.5  # the highest modulation frequency of the STI


def _band_envelopes(x: np.ndarray, rate: int, n_bands: int) -> np.ndarray:
    """Intensity envelopes (n_bands, T) at 100 Hz of the octave bands of ``x``, low-passed
    to the STI's modulation range (<= 12.5 Hz)."""
    step = int(round(rate / _ENVELOPE_RATE))
    lp = signal.butter(4, _ENVELOPE_LOWPASS_HZ, "lowpass", fs=rate, output="sos")
    envs = []
    for fc in OCTAVE_CENTRES[:n_bands]:
        sos = signal.butter(
            4, [fc / math.sqrt(2), fc * math.sqrt(2)], "bandpass", fs=rate, output="sos"
        )
        intensity = signal.sosfiltfilt(sos, x) ** 2
        envs.append(np.maximum(signal.sosfiltfilt(lp, intensity)[::step], 0.0))
    return np.asarray(envs)


def envelope_regression_mtf(clean_env: np.ndarray, degraded_env: np.ndarray) -> np.ndarray:
    """Per band, the share m of the clean envelope's modulation that the degraded
    envelope carries, by linear regression in time (Ludvigsen et al. 1990):
    y = a x + b, m = a mean(x) / mean(y), clipped to [0, 1]."""
    x = clean_env - clean_env.mean(axis=-1, keepdims=True)
    y = degraded_env - degraded_env.mean(axis=-1, keepdims=True)
    slope = np.sum(x * y, axis=-1) / np.maximum(np.sum(x * x, axis=-1), 1e-30)
    m = slope * clean_env.mean(axis=-1) / np.maximum(degraded_env.mean(axis=-1), 1e-30)
    return np.clip(np.nan_to_num(m, nan=0.0), 0.0, 1.0)


def sti(clean: np.ndarray, degraded: np.ndarray, rate: int = SAMPLE_RATE) -> Score:
    """Speech-based STI of ``degraded`` against ``clean`` by envelope regression (see
    module docstring); the two must be time-aligned, as every pair this workflow scores
    is."""
    clean, degraded = _equal_length(clean, degraded)
    if np.max(np.abs(clean)) < 1e-6:
        return Score(float("nan"), "silent reference")
    if len(clean) < rate:  # below ~1 s the 0.63 Hz modulation is meaningless
        return Score(float("nan"), "shorter than 1 s for STI")
    n_bands = sti_bands(rate)
    m = envelope_regression_mtf(
        _band_envelopes(clean, rate, n_bands), _band_envelopes(degraded, rate, n_bands)
    )
    return Score(sti_from_mtf(m[:, None]))


def sti_from_mtf(mtf: np.ndarray) -> float:
    """STI from a modulation transfer matrix (bands, modulation frequencies; 14 for the
    indirect method, 1 for envelope regression) with the male weights, renormalised to
    the bands present (identical signals -> 1.0)."""
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

"""Scores against the reference packages, and the STI validations."""

from __future__ import annotations

import warnings

import numpy as np
import pyroomacoustics as pra
import pytest
import torch
import torchaudio.functional as AF

from advspeech import SAMPLE_RATE
from advspeech.metrics import (
    bootstrap_ci,
    pesq_many,
    pesq_wb,
    snr,
    sti,
    sti_bands,
    sti_from_mtf,
    stoi,
    wer_percent,
)
from advspeech.tts import VoiceSpec, synthesize_many


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """About 12 s of synthetic running speech (several sentences, two voices)."""
    sentences = [
        "the old man opened the wooden door in the kitchen",
        "please bring the red basket to the station before noon",
        "my sister painted a small boat by the river last week",
        "they counted every bottle on the table after dinner",
        "open the window and watch the garden in the rain",
    ]
    jobs = [
        (s, VoiceSpec("en-us", v, 150, 50, 60), k)
        for k, (s, v) in enumerate(zip(sentences * 2, ["m3", "f2"] * 5, strict=True))
    ]
    parts = []
    for audio in synthesize_many(jobs, processes=2):
        parts += [audio, np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)]
    x = np.concatenate(parts)
    return (0.1 * x / np.sqrt(np.mean(x**2))).astype(np.float32)


def test_pesq_and_stoi_match_the_packages(speech):
    from pesq import pesq
    from pystoi import stoi as pystoi_stoi

    rng = np.random.default_rng(0)
    clean = speech[: 5 * SAMPLE_RATE]
    noisy = clean + 0.03 * rng.standard_normal(len(clean)).astype(np.float32)
    assert pesq_wb(clean, noisy).value == pytest.approx(pesq(SAMPLE_RATE, clean, noisy, "wb"))
    assert stoi(clean, noisy).value == pytest.approx(pystoi_stoi(clean, noisy, SAMPLE_RATE))
    assert 1.0 < pesq_wb(clean, noisy).value < pesq_wb(clean, clean).value
    serial = pesq_many([(clean, noisy), (clean, clean)], processes=1)
    parallel = pesq_many([(clean, noisy), (clean, clean)], processes=2)
    assert [s.value for s in serial] == [s.value for s in parallel]


def test_unscorable_pesq_is_nan_with_a_reason():
    silent = np.zeros(SAMPLE_RATE, dtype=np.float32)
    score = pesq_wb(silent, silent)
    assert np.isnan(score.value) and "silent" in score.reason
    tiny = np.random.default_rng(0).standard_normal(200).astype(np.float32)
    score = pesq_wb(tiny, tiny)
    assert np.isnan(score.value) and score.reason


def test_snr_is_the_paper_definition():
    x = np.ones(100)
    assert snr(x, x + 0.1).value == pytest.approx(20.0)
    assert np.isnan(snr(x, x).value)


def test_sti_identical_is_one_and_falls_monotonically_with_noise(speech):
    assert sti_bands(SAMPLE_RATE) == 6  # the 8 kHz octave band is above Nyquist
    assert sti(speech, speech).value == pytest.approx(1.0, abs=1e-9)
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(len(speech)).astype(np.float32)
    values = []
    for snr_db in (30, 20, 10, 5, 0, -5, -10):
        gain = np.sqrt(np.mean(speech**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
        values.append(sti(speech, speech + gain * noise).value)
    assert all(a > b for a, b in zip(values, values[1:], strict=False)), values
    assert values[0] > 0.85 and values[-1] < 0.35


def test_sti_of_reverberant_speech_agrees_with_indirect_sti_of_the_room(speech):
    """Speech-based STI (ours) vs the indirect STI of the same impulse response,
    computed by pyrato/pyfar's independent implementation (MTF from the IR)."""
    pf = pytest.importorskip("pyfar")
    pyrato = pytest.importorskip("pyrato")
    fs_ir = 48_000
    room = pra.ShoeBox([6.0, 5.0, 3.0], fs=fs_ir, materials=pra.Material(0.35), max_order=40)
    room.add_source([1.5, 1.5, 1.6])
    room.add_microphone([4.5, 3.5, 1.4])
    room.compute_rir()
    rir48 = np.asarray(room.rir[0][0], dtype=np.float64)
    rir48 = np.pad(rir48, (0, max(0, int(1.7 * fs_ir) - len(rir48))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mtf = np.asarray(
            pyrato.parameters.modulation_transfer_function(
                pf.Signal(rir48, fs_ir), rir_type="electrical"
            )
        )
    mtf = mtf.reshape(7, 14)
    indirect = sti_from_mtf(mtf[:6])  # same six bands and weights as ours
    pyrato_sti = float(
        np.squeeze(
            pyrato.parameters.speech_transmission_index_indirect(
                pf.Signal(rir48, fs_ir), rir_type="electrical"
            )
        )
    )

    rir16 = AF.resample(torch.from_numpy(rir48).float(), fs_ir, SAMPLE_RATE).numpy()
    reverberant = AF.fftconvolve(torch.from_numpy(speech), torch.from_numpy(rir16)).numpy()[
        : len(speech)
    ]
    # align the direct path so that only the room's smearing is measured
    delay = int(np.argmax(np.abs(rir16)))
    reverberant = np.concatenate([reverberant[delay:], np.zeros(delay, dtype=np.float32)])
    speech_based = sti(speech, reverberant).value
    assert abs(speech_based - indirect) < 0.05, (speech_based, indirect, pyrato_sti)
    assert abs(indirect - pyrato_sti) < 0.05  # 6-band renormalisation vs pyrato's 7 bands


def test_wer_and_bootstrap():
    assert wer_percent("open the door", "open the door") == 0.0
    assert wer_percent("open the door", "open a door") == pytest.approx(100 / 3)
    assert wer_percent("open the door", "") == 100.0
    values = np.random.default_rng(0).normal(2.0, 0.5, 200)
    mean, lo, hi, n = bootstrap_ci(list(values) + [np.nan])
    assert n == 200 and lo < mean < hi and mean == pytest.approx(values.mean())
    assert hi - lo < 0.3
    assert bootstrap_ci([np.nan])[3] == 0

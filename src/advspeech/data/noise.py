"""Noise: the embedded noise environments, generated in the DEMAND layout
(``<ENV>/ch01.wav``, 16 kHz mono; rule ``synthesize_noise``). Indexing a DEMAND-layout
root and preparing its recordings is :mod:`advspeech.data.noise_prepare`.

Each generator takes a seeded ``numpy.random.Generator`` and returns ``n`` float32
samples; :data:`NOISE_GENERATORS` maps the environment name used in config to it, so a
new noise is one function and one registry entry. All outputs are scaled to a common
RMS and their crest factor is bounded (soft limiting), so a 0 dB mixture with 16 kHz
speech normalised by the corpus stage does not clip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.core.io import DataError, read_audio, write_audio
from advspeech.core.seeding import rng_for

NoiseGenerator = Callable[[np.random.Generator, int], np.ndarray]


def _shaped_noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Gaussian noise whose power spectrum falls as 1/f**exponent (0 white, 1 pink, 2
    brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, d=1.0 / SAMPLE_RATE)
    freqs[0] = freqs[1]  # no DC blow-up
    spectrum *= freqs ** (-exponent / 2.0)
    out = np.fft.irfft(spectrum, n)
    return out / (np.std(out) + 1e-12)


def white(rng: np.random.Generator, n: int) -> np.ndarray:
    """White Gaussian noise, ``n`` samples."""
    return rng.standard_normal(n)


def _scipy_signal():
    """scipy.signal, imported on first use: the workflow reads this module's names
    (:data:`ALL_ENVIRONMENTS`, :data:`BABBLE_POOLS`) while it parses, and importing
    scipy.signal costs about a second of every Snakemake start."""
    from scipy import signal

    return signal


def pink(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pink (1/f power) noise, ``n`` samples."""
    return _shaped_noise(rng, n, 1.0)


def brown(rng: np.random.Generator, n: int) -> np.ndarray:
    # Pure 1/f^2 is almost all below 50 Hz; a 20 Hz high-pass keeps it audible.
    """Brown (1/f^2 power) noise, ``n`` samples."""
    signal = _scipy_signal()
    sos = signal.butter(2, 20.0, "highpass", fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, _shaped_noise(rng, n, 2.0))


def hum(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mains hum: a 50 or 60 Hz fundamental, odd and even harmonics, slight drift, hiss."""
    t = np.arange(n) / SAMPLE_RATE
    f0 = float(rng.choice([50.0, 60.0])) * (1.0 + 0.002 * rng.standard_normal())
    drift = 0.3 * np.sin(2 * np.pi * 0.1 * t + rng.uniform(0, 2 * np.pi))
    out = np.zeros(n)
    for k in range(1, 16):
        amp = rng.uniform(0.3, 1.0) / k ** (0.7 if k % 2 else 1.2)
        out += amp * np.sin(2 * np.pi * k * f0 * t + k * drift + rng.uniform(0, 2 * np.pi))
    return out / np.std(out) + 0.05 * rng.standard_normal(n)


def modulated(rng: np.random.Generator, n: int) -> np.ndarray:
    """Machine-like noise: band-passed pink noise, amplitude-modulated at 0.5-4 Hz."""
    signal = _scipy_signal()
    t = np.arange(n) / SAMPLE_RATE
    rate = rng.uniform(0.5, 4.0)
    envelope = 1.0 + 0.8 * np.sin(2 * np.pi * rate * t) * np.sin(2 * np.pi * rate / 7 * t)
    sos = signal.butter(2, [200.0, 3000.0], "bandpass", fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, pink(rng, n)) * envelope


def _events(
    rng: np.random.Generator,
    n: int,
    rate_hz: float,
    burst: Callable[[np.random.Generator], np.ndarray],
) -> np.ndarray:
    out = np.zeros(n)
    n_events = max(1, rng.poisson(rate_hz * n / SAMPLE_RATE))
    for start in rng.integers(0, n, size=n_events):
        b = burst(rng) * rng.uniform(0.3, 1.0)
        stop = min(n, start + len(b))
        out[start:stop] += b[: stop - start]
    return out


def door(rng: np.random.Generator, n: int) -> np.ndarray:
    """Door slams and knocks: low-frequency decaying thumps over quiet room tone."""

    def thump(r: np.random.Generator) -> np.ndarray:
        length = int(r.uniform(0.15, 0.5) * SAMPLE_RATE)
        t = np.arange(length) / SAMPLE_RATE
        f = r.uniform(60.0, 250.0)
        body = np.sin(2 * np.pi * f * t) * np.exp(-t / r.uniform(0.03, 0.12))
        crack = r.standard_normal(length) * np.exp(-t / 0.01)
        return body + 0.3 * crack

    return _events(rng, n, 0.8, thump) + 0.02 * pink(rng, n)


def clatter(rng: np.random.Generator, n: int) -> np.ndarray:
    """Dishes and cutlery: short bright resonant clicks in clusters."""

    def click(r: np.random.Generator) -> np.ndarray:
        length = int(r.uniform(0.02, 0.12) * SAMPLE_RATE)
        t = np.arange(length) / SAMPLE_RATE
        out = np.zeros(length)
        for _ in range(3):
            f = r.uniform(1500.0, 6000.0)
            out += np.sin(2 * np.pi * f * t) * np.exp(-t / r.uniform(0.005, 0.04))
        return out

    return _events(rng, n, 4.0, click) + 0.03 * pink(rng, n)


def traffic(rng: np.random.Generator, n: int) -> np.ndarray:
    """Road noise: low-passed brown/pink rumble with slow swells of passing cars."""
    signal = _scipy_signal()
    t = np.arange(n) / SAMPLE_RATE
    swell = np.ones(n)
    for _ in range(max(1, int(n / SAMPLE_RATE / 4))):
        centre = rng.uniform(0, t[-1])
        swell += rng.uniform(0.5, 2.0) * np.exp(-(((t - centre) / rng.uniform(0.8, 2.5)) ** 2))
    sos = signal.butter(3, 1200.0, "lowpass", fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, 0.6 * brown(rng, n) + 0.4 * pink(rng, n)) * swell


def fan(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ventilation: broadband noise with a blade-pass tone and its harmonics."""
    signal = _scipy_signal()
    t = np.arange(n) / SAMPLE_RATE
    blade = rng.uniform(80.0, 300.0)
    tones = sum(
        np.sin(2 * np.pi * k * blade * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 5)
    )
    sos = signal.butter(2, 4000.0, "lowpass", fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, pink(rng, n)) + 0.3 * tones


def _slow_walk(rng: np.random.Generator, n: int, hop: int) -> np.ndarray:
    """A unit-variance random walk with a step every ``hop`` samples, linearly
    interpolated."""
    walk = np.cumsum(rng.standard_normal(n // hop + 2))
    return np.interp(np.arange(n), np.arange(len(walk)) * hop, walk / (np.std(walk) + 1e-9))


def _decaying_bursts(rng: np.random.Generator, n: int, rate_hz: float, tau_s: float) -> np.ndarray:
    """Envelope of Poisson-timed impulses of random height, each decaying with ``tau_s``."""
    signal = _scipy_signal()
    impulses = np.zeros(n)
    onsets = rng.integers(0, n, size=rng.poisson(rate_hz * n / SAMPLE_RATE))
    np.add.at(impulses, onsets, rng.uniform(0.2, 1.0, size=len(onsets)))
    return signal.lfilter([1.0], [1.0, -np.exp(-1.0 / (tau_s * SAMPLE_RATE))], impulses)


def rain(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rain on a roof: dense drop impacts (a few ms each) in six bands of 0.7-7.9 kHz, soft
    hiss."""
    signal = _scipy_signal()
    out = 0.05 * rng.standard_normal(n)
    for centre in rng.uniform(1000.0, 6000.0, size=6):
        sos = signal.butter(
            2, [centre / 1.4, min(centre * 1.4, 7900.0)], "bandpass", fs=SAMPLE_RATE, output="sos"
        )
        band = signal.sosfilt(sos, rng.standard_normal(n))
        out += band * _decaying_bursts(rng, n, 60.0, rng.uniform(0.002, 0.008))
    return out


def engine(rng: np.random.Generator, n: int) -> np.ndarray:
    """Idling engine: firing harmonics of a drifting 20-45 Hz rate, pulsed low-passed
    rumble."""
    signal = _scipy_signal()
    drift = _slow_walk(rng, n, 1600)
    firing = rng.uniform(20.0, 45.0) * (1.0 + 0.1 * drift)
    phase = 2 * np.pi * np.cumsum(firing) / SAMPLE_RATE
    out = sum(
        np.sin(k * phase + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.5, 1.0) / k**0.8
        for k in range(1, 25)
    )
    sos = signal.butter(2, 1500.0, "lowpass", fs=SAMPLE_RATE, output="sos")
    rumble = signal.sosfilt(sos, rng.standard_normal(n)) * (1.0 + 0.6 * np.sin(phase))
    return out / np.std(out) + 0.7 * rumble / (np.std(rumble) + 1e-9)


def music(rng: np.random.Generator, n: int) -> np.ndarray:
    """Plucked-string music: notes of an equal-tempered scale (110-880 Hz), 8 harmonics
    each."""

    def note(r: np.random.Generator) -> np.ndarray:
        length = int(r.uniform(0.3, 1.2) * SAMPLE_RATE)
        t = np.arange(length) / SAMPLE_RATE
        f0 = 110.0 * 2 ** (int(r.integers(0, 37)) / 12)
        tones = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 9) if k * f0 < 7800)
        return tones * np.exp(-t / r.uniform(0.15, 0.6)) * np.minimum(1.0, t / 0.005)

    return _events(rng, n, 4.0, note) + 0.01 * rng.standard_normal(n)


def hiss(rng: np.random.Generator, n: int) -> np.ndarray:
    """Escaping air or steam: noise high-passed at 1.5-3 kHz whose level drifts by a few
    dB."""
    signal = _scipy_signal()
    sos = signal.butter(4, rng.uniform(1500.0, 3000.0), "highpass", fs=SAMPLE_RATE, output="sos")
    level_db = 3.0 * _slow_walk(rng, n, 4000)
    return signal.sosfilt(sos, rng.standard_normal(n)) * 10 ** (level_db / 20.0)


def babble(
    rng: np.random.Generator, n: int, utterances: Sequence[np.ndarray], talkers: int = 6
) -> np.ndarray:
    """Cafeteria babble: ``talkers`` overlapping streams of concatenated utterances."""
    if not utterances:
        raise ValueError("babble noise needs at least one babble-pool utterance")
    out = np.zeros(n)
    for _ in range(talkers):
        stream: list[np.ndarray] = []
        filled = 0
        while filled < n + SAMPLE_RATE:
            utt = utterances[int(rng.integers(len(utterances)))]
            utt = utt / (np.std(utt) + 1e-9)
            stream.append(utt)
            filled += len(utt)
        joined = np.concatenate(stream)
        offset = int(rng.integers(0, len(joined) - n))
        out += joined[offset : offset + n]
    return out


NOISE_GENERATORS: dict[str, NoiseGenerator] = {
    "WHITE": white,
    "PINK": pink,
    "BROWN": brown,
    "HUM": hum,
    "MODULATED": modulated,
    "DOOR": door,
    "CLATTER": clatter,
    "TRAFFIC": traffic,
    "FAN": fan,
    "RAIN": rain,
    "ENGINE": engine,
    "MUSIC": music,
    "HISS": hiss,
}
"""Environment name -> generator. The babble environments (:data:`BABBLE_POOLS`) are
special: they need the speech of a corpus split."""

BABBLE = "BABBLE"
BABBLE_POOLS: dict[str, str] = {
    # the test babble: talkers from the babble speakers, in no corpus split
    BABBLE: "babble",
    # a training babble, as VoiceBank+DEMAND trains on an artificial babble and on
    # cafeteria, restaurant and meeting-room recordings and tests on a cafe: talkers
    # from the train speakers, never from the babble or test speakers
    "CAFETERIA": "train",
    # a second recording of the same family (its own seed), for a dev split of babble
    # that no model trained on
    "CANTEEN": "train",
}
"""Babble environment -> the corpus split whose utterances its talkers speak."""
MAX_BABBLE_UTTERANCES = 300
"""A babble's talkers draw from a seeded subset of at most this many utterances of their
split (60 s of six talkers is about 120 three-second utterances)."""
ALL_ENVIRONMENTS = (*NOISE_GENERATORS, *BABBLE_POOLS)


def finish_noise(x: np.ndarray, rms_dbfs: float = -30.0, max_crest: float = 8.0) -> np.ndarray:
    """Scale to ``rms_dbfs`` and soft-limit peaks above ``max_crest`` times the RMS.

    Bounding the crest factor keeps 0 dB mixtures from clipping; tanh limiting keeps the
    waveform smooth where the raw transient would have exceeded the bound.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    x = x / (np.sqrt(np.mean(x**2)) + 1e-12)
    # Limiting lowers the RMS, and re-normalising raises the peaks again: iterate until
    # the crest factor is within the bound (a few rounds for the most impulsive noises).
    for _ in range(50):
        if np.max(np.abs(x)) <= max_crest:
            break
        x = 0.98 * max_crest * np.tanh(x / (0.98 * max_crest))
        x = x / np.sqrt(np.mean(x**2))
    return (x * 10 ** (rms_dbfs / 20.0)).astype(np.float32)


def generate_environment(
    env: str,
    rng: np.random.Generator,
    seconds: float,
    babble_utterances: Sequence[np.ndarray] = (),
    rms_dbfs: float = -30.0,
) -> np.ndarray:
    """Generate ``seconds`` of the named embedded noise environment."""
    n = int(round(seconds * SAMPLE_RATE))
    if env in BABBLE_POOLS:
        raw = babble(rng, n, babble_utterances)
    elif env in NOISE_GENERATORS:
        raw = NOISE_GENERATORS[env](rng, n)
    else:
        raise KeyError(f"unknown embedded noise environment {env!r}; known: {ALL_ENVIRONMENTS}")
    return finish_noise(raw, rms_dbfs)


def synthesize_noise(
    out_root: str | Path,
    environments: Iterable[str],
    seconds: float,
    seed: int,
    babble_paths: Mapping[str, Sequence[str]] | None = None,
    rms_dbfs: float = -30.0,
    salts: Mapping[str, str] | None = None,
) -> None:
    """Write the embedded noises in the DEMAND layout: ``<out_root>/<ENV>/ch01.wav``.

    ``babble_paths`` maps a corpus split to its clean utterances, for the babble
    environments (:data:`BABBLE_POOLS`) listed. ``salts`` maps an environment to the salt
    of its recording's random stream (the test environments take the test split's salt,
    so a fresh holdout gets fresh recordings); unsalted ones keep their stream.
    """
    salts = salts or {}
    out_root = Path(out_root)
    environments = list(environments)
    babble_paths = babble_paths or {}
    pools: dict[str, list[np.ndarray]] = {}
    for env in environments:
        pool = BABBLE_POOLS.get(env)
        if pool is None or pool in pools:
            continue
        if not babble_paths.get(pool):
            raise DataError(
                f"noise environment {env} needs the speech of the corpus split {pool!r}, "
                "which has no utterances"
            )
        paths = list(babble_paths[pool])
        if len(paths) > MAX_BABBLE_UTTERANCES:  # a train split can be 100 h of speech
            pick = rng_for(seed, "babble pool", pool).choice(
                len(paths), MAX_BABBLE_UTTERANCES, replace=False
            )
            paths = [paths[i] for i in sorted(pick)]
        pools[pool] = [read_audio(p)[0][0] for p in paths]
    for env in tqdm(environments, desc="synthesise noise"):
        talkers = pools.get(BABBLE_POOLS.get(env, ""), [])
        salt = (salts[env],) if salts.get(env) else ()
        audio = generate_environment(
            env, rng_for(seed, "noise", env, *salt), seconds, talkers, rms_dbfs=rms_dbfs
        )
        write_audio(out_root / env / "ch01.wav", audio, SAMPLE_RATE)

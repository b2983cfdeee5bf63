"""Embedded noise generators and room impulse responses."""

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from advspeech import SAMPLE_RATE
from advspeech.data.noise import ALL_ENVIRONMENTS, NOISE_GENERATORS, generate_environment
from advspeech.data.rooms import RoomRanges, sample_room, simulate_room_set


def _band_share(x, lo, hi):
    f, p = signal.welch(x, SAMPLE_RATE, nperseg=2048)
    return p[(f >= lo) & (f < hi)].sum() / p.sum()


def test_at_least_eight_environments():
    assert len(ALL_ENVIRONMENTS) >= 8


@pytest.mark.parametrize("env", sorted(NOISE_GENERATORS))
def test_each_noise_has_level_and_bounded_crest(env):
    x = generate_environment(env, np.random.default_rng(0), 4.0, rms_dbfs=-30)
    assert x.shape == (4 * SAMPLE_RATE,) and x.dtype == np.float32
    assert 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))) == pytest.approx(-30, abs=0.1)
    assert np.max(np.abs(x)) / np.sqrt(np.mean(x**2)) <= 8.0 + 1e-3


def test_noise_colours_differ_as_they_should():
    rng = np.random.default_rng(3)
    white = generate_environment("WHITE", rng, 4.0)
    pink = generate_environment("PINK", rng, 4.0)
    brown = generate_environment("BROWN", rng, 4.0)
    low = [_band_share(x, 20, 500) for x in (white, pink, brown)]
    assert low[0] < low[1] < low[2]
    hum = generate_environment("HUM", rng, 4.0)
    assert _band_share(hum, 40, 1000) > 0.8


def test_added_environments_sit_where_their_sources_do():
    rng = np.random.default_rng(4)
    for env in ("RAIN", "HISS"):  # drops and escaping air: above 1 kHz
        assert _band_share(generate_environment(env, rng, 4.0), 1000, 8000) > 0.9, env
    assert _band_share(generate_environment("ENGINE", rng, 4.0), 15, 1000) > 0.8
    music = generate_environment("MUSIC", rng, 4.0)
    assert _band_share(music, 100, 2000) > 0.8
    # notes start and decay: the 50-ms level varies far more than a stationary noise's
    frames = music[: len(music) // 800 * 800].reshape(-1, 800).astype(np.float64)
    assert np.std(10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)) > 3.0


def test_babble_is_built_from_speech_and_seeded():
    utts = [np.sin(np.linspace(0, 300 * k, 20000)).astype(np.float32) for k in range(1, 4)]
    a = generate_environment("BABBLE", np.random.default_rng(5), 2.0, utts)
    b = generate_environment("BABBLE", np.random.default_rng(5), 2.0, utts)
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="babble"):
        generate_environment("BABBLE", np.random.default_rng(5), 2.0, [])
    with pytest.raises(KeyError, match="unknown embedded noise"):
        generate_environment("SPACESHIP", np.random.default_rng(5), 2.0)


def test_each_babble_is_built_from_its_own_corpus_split(tmp_path):
    """CAFETERIA's talkers are train speech, BABBLE's the babble speakers'; a babble
    whose split has no speech is named in the error."""
    from advspeech.core.io import DataError, read_audio, write_audio
    from advspeech.data.noise import BABBLE_POOLS, synthesize_noise

    assert BABBLE_POOLS["BABBLE"] == "babble" and BABBLE_POOLS["CAFETERIA"] == "train"
    paths = {}
    for split, freq in (("train", 200.0), ("babble", 3000.0)):
        path = tmp_path / f"{split}.wav"
        write_audio(path, 0.1 * np.sin(2 * np.pi * freq * np.arange(16000) / 16000), 16000)
        paths[split] = [str(path)]
    synthesize_noise(tmp_path / "noise", ["CAFETERIA", "BABBLE"], 2.0, seed=1, babble_paths=paths)
    for env, low_band in (("CAFETERIA", True), ("BABBLE", False)):
        audio = read_audio(tmp_path / "noise" / env / "ch01.wav")[0][0]
        assert bool(_band_share(audio, 50, 1000) > 0.9) is low_band, env
    with pytest.raises(DataError, match="CANTEEN.*'train'"):
        synthesize_noise(tmp_path / "n2", ["CANTEEN"], 2.0, seed=1, babble_paths={"babble": []})


def test_a_large_babble_pool_is_read_as_a_seeded_subset(tmp_path, monkeypatch):
    """A babble reads at most MAX_BABBLE_UTTERANCES of its split (not all 100 h of a
    LibriSpeech train split): with a cap of one, it is built from one of two talkers."""
    import advspeech.data.noise as noise
    from advspeech.core.io import read_audio, write_audio

    monkeypatch.setattr(noise, "MAX_BABBLE_UTTERANCES", 1)
    paths = []
    for freq in (200.0, 3000.0):
        paths.append(str(tmp_path / f"{freq:.0f}.wav"))
        write_audio(paths[-1], 0.1 * np.sin(2 * np.pi * freq * np.arange(16000) / 16000), 16000)
    shares = []
    for out in ("a", "b"):
        noise.synthesize_noise(
            tmp_path / out, ["CAFETERIA"], 2.0, seed=3, babble_paths={"train": paths}
        )
        shares.append(
            _band_share(read_audio(tmp_path / out / "CAFETERIA" / "ch01.wav")[0][0], 50, 1000)
        )
    assert shares[0] == shares[1] and (shares[0] > 0.99 or shares[0] < 0.01)


def test_rooms_respect_ranges_and_positions():
    ranges = RoomRanges(max_order=5)
    rng = np.random.default_rng(0)
    for k in range(20):
        r = sample_room(rng, ranges, f"r{k}")
        assert 3 <= r.width <= 5 and 4 <= r.length <= 6 and 2 <= r.height <= 4
        for pos, dim in ((r.source_x, r.width), (r.mic_y, r.length), (r.mic_z, r.height)):
            assert 0.5 <= pos <= dim - 0.5
        d = np.linalg.norm([r.source_x - r.mic_x, r.source_y - r.mic_y, r.source_z - r.mic_z])
        assert d >= 0.5


def test_room_set_manifest_and_disjoint_sets(tmp_path):
    ranges = RoomRanges(max_order=10, max_seconds=0.3)
    train = simulate_room_set("train", 3, ranges, tmp_path / "train", seed=1)
    test = simulate_room_set("test", 3, ranges, tmp_path / "test", seed=1)
    cols = {"room_id", "width", "length", "height", "absorption", "rt60_s", "path", "mic_x"}
    assert cols <= set(train.columns)
    assert not set(train["width"]) & set(test["width"])
    assert (train["rt60_s"] > 0.05).all() and (train["rt60_s"] < 2).all()
    assert (train["n_samples"] <= int(0.3 * SAMPLE_RATE)).all()
    again = simulate_room_set("train", 3, ranges, tmp_path / "again", seed=1)
    pd.testing.assert_frame_equal(train.drop(columns="path"), again.drop(columns="path"))

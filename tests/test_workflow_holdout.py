"""On the smoke run: the test holdout shares no voice, sentence, noise recording or room
with any other split (checked on the generators' outputs, not on names), the shifted
test rooms lie outside the attack rooms, and Table 4 has its shifted twin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from testkit import smoke_config

from advspeech.core.io import read_audio
from advspeech.core.seeding import rng_for
from advspeech.data.corpus import assign_speakers, embedded_corpus_config
from advspeech.data.noise import generate_environment
from advspeech.data.tts import available_variants

pytestmark = pytest.mark.workflow


def test_the_test_holdout_shares_no_voice_or_sentence_and_the_old_test_is_dev(smoke_run):
    voices = pd.read_csv(smoke_run / "resources/embedded/speakers.csv")
    spec = ["voice", "words_per_minute", "pitch", "pitch_range"]
    voices["variant"] = voices["voice"].str.split("+").str[1]
    test, other = voices[voices["split"] == "test"], voices[voices["split"] != "test"]
    assert len(test) and not set(test["variant"]) & set(other["variant"])
    assert not set(map(tuple, test[spec].to_numpy())) & set(map(tuple, other[spec].to_numpy()))
    corpus = pd.read_csv(smoke_run / "results/data/corpus.csv")
    test_text = set(corpus.loc[corpus["split"] == "test", "text"].str.lower())
    other_text = set(corpus.loc[corpus["split"] != "test", "text"].str.lower())
    assert test_text and not test_text & other_text
    # the original test split (no salt) now speaks in dev
    cfg = smoke_config()
    legacy = assign_speakers(
        embedded_corpus_config(cfg["corpus"]["embedded"]), cfg["seed"], available_variants()
    )
    dev = voices[voices["split"] == "dev"]
    assert {v.name for _, v in legacy["test"]} <= set(dev["voice"])
    assert not {v.name for _, v in legacy["test"]} & set(test["voice"])


def test_the_test_noise_recordings_and_rooms_are_new_draws(smoke_run):
    cfg = smoke_config()
    seconds = cfg["noise"]["embedded_seconds"]
    for env in cfg["noise"]["environments"]["test"]:
        if env == "BABBLE":
            continue  # needs the babble talkers; its stream is salted the same way
        written = read_audio(smoke_run / f"resources/embedded/noise/{env}/ch01.wav")[0][0]
        legacy = generate_environment(env, rng_for(cfg["seed"], "noise", env), seconds)
        assert written.shape == legacy.shape and not np.allclose(written, legacy, atol=1e-3)
    rooms = {
        s: pd.read_csv(smoke_run / f"results/data/rirs/{s}.csv")
        for s in ("train", "attack", "dev", "test", "shifted")
    }
    geometry = ["width", "length", "height", "source_x", "source_y", "mic_x", "mic_y"]
    test = {tuple(np.round(r, 6)) for r in rooms["test"][geometry].to_numpy()}
    for name in ("train", "attack", "dev", "shifted"):
        assert not test & {tuple(np.round(r, 6)) for r in rooms[name][geometry].to_numpy()}
    test_rirs = [read_audio(smoke_run / p)[0][0] for p in rooms["test"]["path"]]
    for name in ("train", "attack", "dev"):
        for path in rooms[name]["path"]:
            other = read_audio(smoke_run / path)[0][0]
            assert not any(
                len(r) == len(other) and np.allclose(r, other, atol=1e-4) for r in test_rirs
            )


def distances(frame: pd.DataFrame) -> np.ndarray:
    source = frame[["source_x", "source_y", "source_z"]].to_numpy()
    mic = frame[["mic_x", "mic_y", "mic_z"]].to_numpy()
    return np.linalg.norm(source - mic, axis=1)


def test_the_shifted_rooms_lie_outside_every_attack_room(smoke_run):
    attack = pd.read_csv(smoke_run / "results/data/rirs/attack.csv")
    shifted = pd.read_csv(smoke_run / "results/data/rirs/shifted.csv")
    for key in ("width", "length", "height"):
        assert shifted[key].min() > attack[key].max(), key
    assert shifted["absorption"].max() < attack["absorption"].min()
    assert distances(shifted).min() > distances(attack).max()
    # more reverberant: a longer decay (RT60 where the truncated response allows one)
    rt = {n: f["rt60_s"].dropna() for n, f in (("attack", attack), ("shifted", shifted))}
    if len(rt["attack"]) and len(rt["shifted"]):
        assert rt["shifted"].median() > rt["attack"].median()


def test_table4_has_a_twin_over_the_shifted_rooms(smoke_run):
    table = pd.read_csv(smoke_run / "results/table4.csv")
    twin = pd.read_csv(smoke_run / "results/table4_shifted.csv")
    assert list(twin.columns) == list(table.columns)
    assert twin[["attack", "row"]].equals(table[["attack", "row"]])
    trials = pd.read_csv(smoke_run / "results/ota_shifted/grad/ds/none.csv")
    assert trials["room_id"].str.startswith("shifted").all()
    long = pd.read_csv(smoke_run / "results/table4_shifted_ci.csv")
    assert {"n_utterances", "n_voices"} <= set(long.columns)

"""LibriSpeech- and DEMAND-layout loaders, clean-speech preparation, mixing, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from testkit import make_demand_tree, make_librispeech_tree, tone, write_multichannel

from advspeech import SAMPLE_RATE
from advspeech.core.dsp import snr_db
from advspeech.core.io import DataError, read_audio
from advspeech.data.attacker import AttackerCorpusConfig, assign_attacker_speakers
from advspeech.data.corpus import (
    CleanConfig,
    EmbeddedCorpusConfig,
    assign_speakers,
    index_librispeech,
    prepare_clean,
)
from advspeech.data.mix import make_mixtures
from advspeech.data.noise_prepare import index_demand, prepare_noise
from advspeech.data.tts import available_variants

SUBSETS = {"train": ["train-clean-100"], "test": ["test-clean"]}


@pytest.fixture
def libri(tmp_path):
    return make_librispeech_tree(
        tmp_path / "LS", {"train-clean-100": {"19": 2, "26": 2}, "test-clean": {"121": 2}}
    )


def test_index_librispeech(libri):
    index = index_librispeech(libri, SUBSETS)
    assert list(index.columns) == [
        "utt_id",
        "speaker",
        "chapter",
        "split",
        "path",
        "text",
        "transliterated",
    ]
    assert len(index) == 6 and set(index["split"]) == {"train", "test"}
    assert index["text"].iloc[0] == "open the window number zero"
    assert (index["transliterated"] == "").all()


def test_transcripts_are_transliterated_and_recorded_or_refused_by_name(libri):
    trans = libri / "test-clean/121/10/121-10.trans.txt"
    trans.write_text("121-10-0000 CAFÉ NAÏVE DOOR\n121-10-0001 DON’T OPEN IT\n")
    index = index_librispeech(libri, SUBSETS).set_index("utt_id")
    assert index.loc["121-10-0000", "text"] == "cafe naive door"  # was "caf na ve door"
    assert index.loc["121-10-0000", "transliterated"] == "é->e; ï->i"
    assert index.loc["121-10-0001", "text"] == "don't open it"
    trans.write_text("121-10-0000 ROOM 2\n121-10-0001 STRASSE ß\n")
    with pytest.raises(DataError, match=r"(?s)2 problem.*121-10-0000.*'2'.*121-10-0001.*'ß'"):
        index_librispeech(libri, SUBSETS)


def test_every_bad_file_of_a_corpus_is_named_in_one_error(tmp_path, libri):
    (libri / "train-clean-100/26/10/26-10-0001.flac").unlink()
    sf.write(str(libri / "test-clean/121/10/121-10-0009.flac"), tone(1.0, SAMPLE_RATE), SAMPLE_RATE)
    with pytest.raises(DataError, match=r"(?s)2 problem.*26-10-0001.*121-10-0009") as err:
        index_librispeech(libri, SUBSETS)
    assert "26-10.trans.txt:2" in str(err.value)
    libri2 = make_librispeech_tree(tmp_path / "LS2", {"train-clean-100": {"19": 2, "26": 2}})
    sf.write(str(libri2 / "train-clean-100/19/10/19-10-0000.flac"), tone(1.0, 8000), 8000)
    (libri2 / "train-clean-100/26/10/26-10-0001.flac").write_bytes(b"not audio at all")
    sf.write(str(libri2 / "train-clean-100/26/10/26-10-0000.flac"), np.zeros(16000), SAMPLE_RATE)
    index = index_librispeech(libri2, {"train": ["train-clean-100"]})
    with pytest.raises(DataError, match=r"(?s)3 problem.*19-10-0000.*26-10-0000.*26-10-0001"):
        prepare_clean(index, "train", tmp_path / "o", CleanConfig(), seed=0)


def test_audio_without_transcript_is_named(libri):
    sf.write(str(libri / "test-clean/121/10/121-10-0009.flac"), tone(1.0, SAMPLE_RATE), SAMPLE_RATE)
    with pytest.raises(DataError, match=r"audio without transcript.*121-10-0009\.flac"):
        index_librispeech(libri, SUBSETS)


def test_transcript_without_audio_is_named(libri):
    (libri / "train-clean-100/26/10/26-10-0001.flac").unlink()
    with pytest.raises(
        DataError, match=r"26-10\.trans\.txt:2: transcript for 26-10-0001 but no audio"
    ):
        index_librispeech(libri, SUBSETS)


def test_empty_transcript_and_missing_subset(libri):
    trans = libri / "test-clean/121/10/121-10.trans.txt"
    trans.write_text("121-10-0000\n121-10-0001 HELLO\n")
    with pytest.raises(DataError, match=r"121-10\.trans\.txt:1: empty transcript"):
        index_librispeech(libri, SUBSETS)
    with pytest.raises(DataError, match=r"subset folder .*dev-clean"):
        index_librispeech(libri, {"train": ["dev-clean"]})
    with pytest.raises(DataError, match="does not exist"):
        index_librispeech(libri / "nope", SUBSETS)


def test_prepare_clean_resamples_mixes_down_levels_and_records_skips(tmp_path, libri):
    stereo48 = libri / "train-clean-100/19/10/19-10-0000.flac"
    sf.write(str(stereo48), tone(1.0, 48_000, channels=2).T, 48_000)
    index = index_librispeech(libri, SUBSETS)
    cfg = CleanConfig(rms_dbfs=-25.0, max_peak=0.5, min_seconds=0.5, max_seconds=1.6)
    clean, skipped = prepare_clean(index, "train", tmp_path / "out", cfg, seed=0)
    row = clean.set_index("utt_id").loc["19-10-0000"]
    assert row["resampled"] and row["mixed_down"] and row["orig_sample_rate"] == 48_000
    assert row["n_samples"] == SAMPLE_RATE
    x, rate = read_audio(row["clean_path"])
    assert rate == SAMPLE_RATE and x.shape[0] == 1 and np.max(np.abs(x)) <= 0.5 + 1e-3
    # utterance 0001 of each speaker is 1.5 s (kept), none is longer than 1.6 s here
    assert skipped.empty
    cfg_short = CleanConfig(max_seconds=1.2)
    clean2, skipped2 = prepare_clean(index, "train", tmp_path / "out2", cfg_short, seed=0)
    assert set(skipped2["utt_id"]) == {"19-10-0001", "26-10-0001"}
    assert "duration" in skipped2["reason"].iloc[0] and len(clean2) == 2


def test_prepare_clean_refuses_narrowband_and_silent_files(tmp_path, libri):
    sf.write(str(libri / "train-clean-100/26/10/26-10-0000.flac"), tone(1.0, 8000), 8000)
    index = index_librispeech(libri, SUBSETS)
    with pytest.raises(DataError, match=r"26-10-0000\.flac: sample rate 8000 Hz"):
        prepare_clean(index, "train", tmp_path / "o", CleanConfig(), seed=0)
    sf.write(str(libri / "train-clean-100/26/10/26-10-0000.flac"), np.zeros(16000), SAMPLE_RATE)
    with pytest.raises(DataError, match=r"26-10-0000\.flac is silent"):
        prepare_clean(index, "train", tmp_path / "o", CleanConfig(), seed=0)


def test_demand_loader_and_bad_layouts(tmp_path):
    root = make_demand_tree(tmp_path / "D", ["DKITCHEN", "PCAFETER"], channels=("ch01", "ch02"))
    index = index_demand(root, {"train": ["DKITCHEN"], "test": ["PCAFETER"]}, ["ch01", "ch02"])
    assert len(index) == 4
    noise = prepare_noise(index, tmp_path / "n")
    assert noise["resampled"].all() and noise.loc[noise.noise_env == "DKITCHEN", "mixed_down"].all()
    with pytest.raises(DataError, match=r"noise channel file .*PCAFETER/ch03\.wav"):
        index_demand(root, {"test": ["PCAFETER"]}, ["ch03"])
    with pytest.raises(DataError, match=r"both 'train' and 'test'"):
        index_demand(root, {"train": ["PCAFETER"], "test": ["PCAFETER"]}, ["ch01"])
    with pytest.raises(DataError, match=r"environment folder .*NOPE"):
        index_demand(root, {"train": ["NOPE"]}, ["ch01"])


def test_a_noise_that_ends_early_is_refused_never_tiled(tmp_path, libri):
    """A WAV whose header promises more than it holds (5 ms of audio) is a named error,
    as is a noise shorter than the longest utterance it must cover."""
    root = make_demand_tree(tmp_path / "D", ["A", "B"], rate=16_000)
    truncated = root / "B/ch01.wav"
    data = truncated.read_bytes()
    truncated.write_bytes(data[: 44 + 2 * 80])  # header + 80 samples; header says 3 s
    index = index_demand(root, {"train": ["A"], "test": ["B"]}, ["ch01"])
    with pytest.raises(DataError, match=r"B/ch01\.wav .*0\.005 s.*noise\.min_seconds"):
        prepare_noise(index, tmp_path / "n")
    write_multichannel(truncated, 0.05 * np.ones((1, 16_000), np.float32), 16_000)  # 1 s
    noise = prepare_noise(index, tmp_path / "n2", min_seconds=0.5)
    index_ls = index_librispeech(libri, SUBSETS)
    clean, _ = prepare_clean(index_ls, "test", tmp_path / "c", CleanConfig(), seed=0)
    with pytest.raises(DataError, match=r"B_ch01\.wav has 16000 samples, shorter than"):
        make_mixtures(clean, noise, "test", [5], "all", tmp_path / "m", seed=0)


def test_mixtures_hit_the_target_snr_and_keep_noises_disjoint(tmp_path, libri):
    index = index_librispeech(libri, SUBSETS)
    clean, _ = prepare_clean(index, "test", tmp_path / "c", CleanConfig(), seed=0)
    root = make_demand_tree(tmp_path / "D", ["A", "B", "C"], rate=16_000)
    noise = prepare_noise(
        index_demand(root, {"train": ["A", "B"], "test": ["C"]}, ["ch01"]), tmp_path / "n"
    )
    mix = make_mixtures(clean, noise, "test", [15, 5, 0], "all", tmp_path / "m", seed=3)
    assert len(mix) == 3 * len(clean) and set(mix["noise_env"]) == {"C"}
    for row in mix.itertuples():
        x = read_audio(row.clean_path)[0][0]
        y = read_audio(row.noisy_path)[0][0]
        assert abs(snr_db(x, y) - row.snr_db) < 0.1
    again = make_mixtures(clean, noise, "test", [15, 5, 0], "all", tmp_path / "m2", seed=3)
    pd.testing.assert_frame_equal(mix.drop(columns="noisy_path"), again.drop(columns="noisy_path"))
    one = make_mixtures(
        clean, noise, "dev", [15, 5, 0], "one", tmp_path / "m3", seed=3, noise_split="train"
    )
    assert len(one) == len(clean) and set(one["noise_env"]) <= {"A", "B"}


def test_embedded_speakers_are_disjoint_by_voice_variant():
    cfg = EmbeddedCorpusConfig(
        speakers={"train": 20, "dev": 3, "test": 5, "babble": 2},
        utterances_per_speaker={"train": 1, "dev": 1, "test": 1, "babble": 1},
    )
    variants = [f"v{i}" for i in range(40)]
    speakers = assign_speakers(cfg, seed=1, variants=variants)
    groups = {s: {v.variant for _, v in members} for s, members in speakers.items()}
    ids = [spk for members in speakers.values() for spk, _ in members]
    assert len(ids) == len(set(ids)) == 30
    for a in groups:
        for b in groups:
            if a != b:
                assert not groups[a] & groups[b]
    assert assign_speakers(cfg, seed=1, variants=variants) == speakers


def test_attacker_speakers_are_new_voices_of_the_victims_training_population():
    victim = EmbeddedCorpusConfig(
        speakers={"train": 6, "dev": 2, "test": 2, "babble": 0},
        utterances_per_speaker={"train": 1, "dev": 1, "test": 1, "babble": 1},
        pitch=(50, 51),  # a narrow voice space, so that equal draws do occur
        pitch_range=(50, 50),
        words_per_minute=(150, 151),
        test_salt="holdout-2",
    )
    own = AttackerCorpusConfig(
        speakers={"attacker": 12, "attacker_dev": 3},
        utterances_per_speaker={"attacker": 1, "attacker_dev": 1},
        seed=99,
    )
    attacker = assign_attacker_speakers(victim, 7, own)
    victim_speakers = assign_speakers(victim, 7, available_variants())
    victim_voices = {v for members in victim_speakers.values() for _, v in members}
    own_voices = [v for members in attacker.values() for _, v in members]
    assert [len(attacker[s]) for s in ("attacker", "attacker_dev")] == [12, 3]
    assert len(set(own_voices)) == len(own_voices) and not set(own_voices) & victim_voices
    train_variants = {v.variant for _, v in victim_speakers["train"]}
    assert {v.variant for v in own_voices} <= train_variants
    ids = [spk for members in attacker.values() for spk, _ in members]
    assert not set(ids) & {spk for members in victim_speakers.values() for spk, _ in members}
    assert attacker == assign_attacker_speakers(victim, 7, own)  # a function of the seeds
    assert attacker != assign_attacker_speakers(victim, 7, AttackerCorpusConfig(
        own.speakers, own.utterances_per_speaker, seed=100))  # fmt: skip

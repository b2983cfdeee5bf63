"""The data stages through Snakemake: outputs of the smoke DAG, caching, re-runs,
real-data layouts and bad input at the workflow level."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from testkit import (
    make_demand_tree,
    make_librispeech_tree,
    planned_jobs,
    snakemake,
)

from advspeech.core.dsp import snr_db
from advspeech.core.io import read_audio
from advspeech.data import CLEAN_COLUMNS, MIX_COLUMNS, NOISE_COLUMNS

pytestmark = pytest.mark.workflow

DATA_RULES = {
    "synthesize_corpus",
    "index_corpus",
    "prepare_clean",
    "synthesize_noise",
    "prepare_noise",
    "mix",
    "simulate_rirs",
    "data_summary",
}


def write_config(path: Path, overrides: dict) -> Path:
    path.write_text(yaml.safe_dump(overrides))
    return path


def test_smoke_outputs_and_manifests(smoke_run):
    smoke = yaml.safe_load((Path(__file__).parent / "smoke.yaml").read_text())
    for split in ("train", "dev", "test"):
        mix = pd.read_csv(smoke_run / f"results/data/mix/{split}.csv")
        assert list(mix.columns) == MIX_COLUMNS
        assert len(mix) > 0
        assert set(mix["snr_db"]) <= set(smoke["mix"]["snrs_db"])
        for path in mix["noisy_path"]:
            assert (smoke_run / path).is_file()
    test_mix = pd.read_csv(smoke_run / "results/data/mix/test.csv")
    test_clean = pd.read_csv(smoke_run / "results/data/clean/test.csv")
    # the test split has every SNR for every utterance
    assert len(test_mix) == len(test_clean) * len(smoke["mix"]["snrs_db"])
    clean = pd.read_csv(smoke_run / "results/data/clean/train.csv")
    assert list(clean.columns) == CLEAN_COLUMNS
    noise = pd.read_csv(smoke_run / "results/data/noise/manifest.csv")
    assert list(noise.columns) == NOISE_COLUMNS


def test_mixture_snr_of_written_files_within_0p1_db(smoke_run):
    mix = pd.read_csv(smoke_run / "results/data/mix/test.csv")
    for row in mix.itertuples():
        x = read_audio(smoke_run / row.clean_path)[0][0]
        y = read_audio(smoke_run / row.noisy_path)[0][0]
        assert len(x) == len(y) == row.n_samples
        assert abs(snr_db(x, y) - row.snr_db) < 0.1, row.mix_id


def test_splits_are_disjoint(smoke_run):
    speakers = {
        split: set(pd.read_csv(smoke_run / f"results/data/clean/{split}.csv")["speaker"])
        for split in ("train", "dev", "test", "babble")
    }
    splits = list(speakers)
    for i, a in enumerate(splits):
        for b in splits[i + 1 :]:
            assert not speakers[a] & speakers[b], (a, b)
    voices = pd.read_csv(smoke_run / "resources/embedded/speakers.csv")
    variant = voices["voice"].str.split("+").str[1]
    by_split = {s: set(variant[voices["split"] == s]) for s in voices["split"].unique()}
    assert not by_split["train"] & by_split["test"]  # test voices are unseen variants
    train_env = set(pd.read_csv(smoke_run / "results/data/mix/train.csv")["noise_env"])
    test_env = set(pd.read_csv(smoke_run / "results/data/mix/test.csv")["noise_env"])
    assert train_env and test_env and not train_env & test_env
    rooms = {s: pd.read_csv(smoke_run / f"results/data/rirs/{s}.csv") for s in ("train", "test")}
    assert not set(rooms["train"]["room_id"]) & set(rooms["test"]["room_id"])
    assert len(rooms["train"]) == 4 and len(rooms["test"]) == 3


def test_corpus_is_librispeech_layout_and_target_sentence_absent(smoke_run):
    root = smoke_run / "resources/embedded/corpus"
    trans = sorted(root.glob("*/*/*/*.trans.txt"))
    assert trans
    for t in trans:
        for line in t.read_text().splitlines():
            utt, text = line.split(" ", 1)
            assert (t.parent / f"{utt}.flac").is_file()
            assert text == text.upper() and text.lower() != "open the door"
    corpus = pd.read_csv(smoke_run / "results/data/corpus.csv")
    assert set(corpus["split"]) == {"train", "dev", "test", "babble"}


def test_every_rule_wrote_a_log_and_a_benchmark(smoke_run):
    logs = {
        p.stem if p.parent.name == "logs" else p.parent.name
        for p in (smoke_run / "logs").rglob("*.log")
    }
    benches = {
        p.stem if p.parent.name == "benchmarks" else p.parent.name
        for p in (smoke_run / "benchmarks").rglob("*.tsv")
    }
    assert logs >= DATA_RULES
    assert benches >= DATA_RULES
    # progress bars and summaries land in the logs
    assert "mixtures" in (smoke_run / "logs/mix/test.log").read_text()


def test_second_run_schedules_nothing(smoke_run):
    assert planned_jobs(snakemake(smoke_run, "-n")) == {}


def test_changing_one_mixing_parameter_reruns_only_mixing_and_descendants(smoke_run, tmp_path):
    changed = write_config(tmp_path / "c.yaml", {"mix": {"snrs_db": [10, 5]}})
    jobs = planned_jobs(
        snakemake(smoke_run, "-n", configfiles=[Path(__file__).parent / "smoke.yaml", changed])
    )
    # the mixtures and everything built from them (recognisers, attacks on them, SE
    # models, scores, every artifact); nothing upstream (corpus, noise, rooms)
    assert jobs == {
        "mix": 3,
        "data_summary": 1,
        "train_asr": 2,
        "evaluate_asr": 2,
        "attack": 6,
        "over_the_air": 32,
        "adaptive_attack": 4,
        "train_se": 6,
        # the noisy, adversarial and clean test sets through every model they feed
        "enhance": 18,
        # Tables 1-3 and every model on clean speech (se_clean)
        "score": 17,
        "benign_wer": 28,
        "quality_table": 4,
        "table4": 2,  # Table 4 and its shifted-rooms twin
        "fig2": 1,
        "fig3": 1,
        "perturbation_examples": 1,
        "controls": 1,
        "claims": 1,
        "all": 1,
    }


def test_changing_room_order_reruns_rooms_and_what_plays_in_them(smoke_run, tmp_path):
    changed = write_config(tmp_path / "c.yaml", {"rirs": {"max_order": 9}})
    jobs = planned_jobs(
        snakemake(smoke_run, "-n", configfiles=[Path(__file__).parent / "smoke.yaml", changed])
    )
    # the recognisers train with reverberation by train rooms and the attacks play in
    # attack rooms; the noisy-trained SE models and Table 1 do not use rooms and stay
    # (the dev rooms are tuning data: no rule that builds a table reads them)
    assert jobs == {
        "simulate_rirs": 5,
        "data_summary": 1,
        "train_asr": 2,
        "evaluate_asr": 2,
        "attack": 6,
        "over_the_air": 32,
        "adaptive_attack": 4,
        "train_se": 3,
        # adversarial sets through every model, clean and noisy through the advt ones
        "enhance": 12,
        "score": 10,
        # every control of the retrained recognisers and of the advt SE models
        "benign_wer": 28,
        "quality_table": 3,
        "table4": 2,  # Table 4 and its shifted-rooms twin
        "fig2": 1,
        "fig3": 1,
        "perturbation_examples": 1,
        "controls": 1,
        "claims": 1,
        "all": 1,
    }


def _tree_digest(root: Path, patterns: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pattern in patterns:
        for p in sorted(root.glob(pattern)):
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.slow
def test_two_cold_runs_give_byte_identical_data_and_tables(smoke_run, tmp_path):
    """Same config and seed, same machine, CPU: identical corpus, mixtures, rooms,
    recogniser results and tables (torch training is deterministic on CPU)."""
    # the stages up to Table 1 (attack manifests record wall-clock seconds)
    snakemake(
        tmp_path,
        "results/table1.csv",
        "results/asr/ds/wer.csv",
        "results/data/summary.csv",
        "results/data/rirs/test.csv",
    )
    patterns = (
        "results/data/*.csv",
        "results/data/*/*.csv",
        "results/data/mix/test/*.wav",
        "resources/embedded/corpus/test/*/*/*.flac",
        "results/data/rirs/train/*.wav",
        "results/asr/ds/wer.csv",
        # Table 1's systems (the smoke run also scores the defences of defences.table)
        "results/scores/unprocessed/noisy.csv",
        "results/scores/*_noisy/noisy.csv",
        "results/table1*.csv",
        "results/table1.md",
    )
    first, second = _tree_digest(smoke_run, patterns), _tree_digest(tmp_path, patterns)
    # the smoke run also built the attacker's corpus (an opt-in target this run skips)
    first = {path: digest for path, digest in first.items() if "attacker" not in path}
    assert "results/table1.csv" in first
    assert first == second


@pytest.mark.slow
def test_real_data_layouts_give_the_same_manifests(smoke_run, tmp_path):
    libri = make_librispeech_tree(
        tmp_path / "LibriSpeech",
        {
            "train-clean-100": {"19": 3, "26": 3},
            "dev-clean": {"84": 2},
            "test-clean": {"121": 3},
            "dev-other": {"116": 2},
        },
    )
    # a 48 kHz stereo copy of one speaker, as found in some re-distributions
    make_librispeech_tree(tmp_path / "hi", {"train-clean-100": {"27": 2}}, rate=48_000)
    (libri / "train-clean-100" / "27").symlink_to(tmp_path / "hi" / "train-clean-100" / "27")
    demand = make_demand_tree(
        tmp_path / "DEMAND",
        ["DKITCHEN", "NPARK", "OOFFICE", "PCAFETER", "STRAFFIC"],
        channels=("ch01", "ch02"),
    )
    cfg = write_config(
        tmp_path / "real.yaml",
        {
            "corpus": {"source": "librispeech", "librispeech": {"root": str(libri)}},
            "noise": {
                "source": "demand",
                "demand_root": str(demand),
                # dev mixtures from an environment of their own (noise.environments.dev)
                "environments": {
                    "train": ["DKITCHEN", "NPARK"],
                    "dev": ["OOFFICE"],
                    "test": ["PCAFETER", "STRAFFIC"],
                },
                "channels": ["ch01", "ch02"],
            },
        },
    )
    work = tmp_path / "work"
    work.mkdir()
    snakemake(
        work,
        "results/data/summary.csv",
        configfiles=[Path(__file__).parent / "smoke.yaml", cfg],
    )
    for name in ("mix/train.csv", "mix/test.csv", "clean/train.csv", "noise/manifest.csv"):
        real = pd.read_csv(work / "results/data" / name)
        embedded = pd.read_csv(smoke_run / "results/data" / name)
        assert list(real.columns) == list(embedded.columns), name
    clean = pd.read_csv(work / "results/data/clean/train.csv")
    assert set(clean["speaker"].astype(str)) == {"19", "26", "27"}
    assert clean.loc[clean["speaker"].astype(str) == "27", "resampled"].all()
    noise = pd.read_csv(work / "results/data/noise/manifest.csv")
    assert noise["resampled"].all() and len(noise) == 10
    assert noise.loc[noise["noise_env"] == "DKITCHEN", "mixed_down"].all()
    test = pd.read_csv(work / "results/data/mix/test.csv")
    assert set(test["noise_env"]) <= {"PCAFETER", "STRAFFIC"}
    assert set(pd.read_csv(work / "results/data/mix/dev.csv")["noise_env"]) == {"OOFFICE"}
    assert set(pd.read_csv(work / "results/data/mix/train.csv")["noise_env"]) <= {
        "DKITCHEN",
        "NPARK",
    }
    for row in test.itertuples():
        x = read_audio(work / row.clean_path)[0][0]
        y = read_audio(work / row.noisy_path)[0][0]
        assert abs(snr_db(x, y) - row.snr_db) < 0.1
        assert np.max(np.abs(y)) < 1.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mix": {"snrs_db": "ten"}}, r"'ten' is not of type 'array'.*\['mix'\]\['snrs_db'\]"),
        ({"rirs": {"max_order": -3}}, r"\['rirs'\]\['max_order'\]"),
        ({"seed": "abc"}, r"\['seed'\]"),
        # one cross-key rule, to show the workflow runs advspeech.pipeline.config.check_config
        # (each rule has its direct unit test in test_config.py)
        ({"corpus": {"source": "librispeech"}}, r"corpus\.librispeech\.root"),
        ({"unknown_key": 1}, r"unknown_key"),
    ],
)
def test_invalid_config_names_the_key(tmp_path, overrides, message):
    cfg = write_config(tmp_path / "bad.yaml", overrides)
    proc = snakemake(
        tmp_path, "-n", configfiles=[Path(__file__).parent / "smoke.yaml", cfg], check=False
    )
    assert proc.returncode != 0
    assert re.search(message, proc.stdout + proc.stderr, re.S)


def test_transcript_without_audio_fails_naming_the_file(tmp_path):
    libri = make_librispeech_tree(
        tmp_path / "LS", {"train-clean-100": {"19": 2}, "test-clean": {"121": 2}}
    )
    (libri / "test-clean/121/10/121-10-0001.flac").unlink()
    cfg = write_config(
        tmp_path / "real.yaml",
        {
            "corpus": {
                "source": "librispeech",
                "librispeech": {
                    "root": str(libri),
                    "subsets": {"train": ["train-clean-100"], "test": ["test-clean"]},
                },
            },
            "noise": {"environments": {"train": ["WHITE"], "test": ["PINK"]}},
        },
    )
    work = tmp_path / "work"
    work.mkdir()
    proc = snakemake(
        work,
        "results/data/corpus.csv",
        configfiles=[Path(__file__).parent / "smoke.yaml", cfg],
        check=False,
    )
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "121-10.trans.txt:2: transcript for 121-10-0001 but no audio file" in out
    assert not (work / "results/data/corpus.csv").exists()

"""Extending the workflow from config alone: a toy attack, a toy enhancement model and a
toy defence, each in a module of its own (tests/plugins/toy_plugins.py) named under the
config's ``registry`` section, run through the workflow's own rules on the smoke run."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from testkit import SMOKE, planned_jobs, snakemake

from advspeech.core.io import read_audio
from advspeech.core.torchutil import load_checkpoint

PLUGINS = Path(__file__).resolve().parent / "plugins"
TOY_CONFIG = {
    "registry": {
        "python_path": ["plugins"],
        "attacks": {"toy_noise": "toy_plugins:NOISE_ATTACK"},
        "se_models": {"toy_gain": "toy_plugins:build_gain"},
        "transforms": {"toy_clip": "toy_plugins:Clip"},
    },
    "attacks": {"toy_noise": {"seed_offset": 3}},
    "se": {"models": {"toy_gain": {"initial_gain": 0.5}}},
    "defences": {"transforms": {"toy_clip": {"level": 0.05}}},
}
TARGETS = [
    "results/ota/toy_noise/ds/toy_gain_noisy.csv",
    "results/scores/toy_gain_noisy/noisy.csv",
    "results/controls/ds/toy_clip/clean.csv",
]


@pytest.fixture(scope="module")
def toy_run(smoke_run, tmp_path_factory) -> Path:
    """A copy of the smoke run with the toy plugins registered and their targets built."""
    workdir = tmp_path_factory.mktemp("toy") / "run"
    shutil.copytree(smoke_run, workdir, symlinks=True)
    shutil.copytree(PLUGINS, workdir / "plugins")
    config = workdir / "toy.yaml"
    config.write_text(yaml.safe_dump(TOY_CONFIG))
    snakemake(workdir, *TARGETS, configfiles=(SMOKE, config), timeout=900)
    return workdir


@pytest.mark.workflow
@pytest.mark.slow
def test_a_registered_attack_runs_through_the_attack_and_over_the_air_rules(toy_run):
    manifest = pd.read_csv(toy_run / "results/attacks/toy_noise/ds/test/manifest.csv")
    done = manifest[manifest["skipped"].isna()]  # no skip reason
    assert len(done) > 0 and (done["queries"] == 1).all() and (done["steps"] == 0).all()
    # the shared budget reaches the plugin: white noise exactly at (just above) 10 dB
    assert (done["snr_db"] >= 9.9).all() and (done["snr_db"] <= 10.5).all()
    trials = pd.read_csv(toy_run / "results/ota/toy_noise/ds/toy_gain_noisy.csv")
    assert set(trials["utt_id"]) == set(done["utt_id"])
    per_utterance = trials.groupby("utt_id")["room_id"].nunique()
    assert (per_utterance == per_utterance.iloc[0]).all() and per_utterance.iloc[0] >= 1
    assert (trials.groupby("utt_id").size() == per_utterance).all()  # distinct rooms


@pytest.mark.workflow
@pytest.mark.slow
def test_a_registered_enhancement_model_trains_enhances_and_is_scored(toy_run):
    payload = load_checkpoint(toy_run / "results/models/se/toy_gain_noisy.pt")
    assert payload["meta"]["name"] == "toy_gain"
    assert payload["meta"]["model"] == {"initial_gain": 0.5}
    gain = float(payload["state_dict"]["gain"])
    enhanced = pd.read_csv(toy_run / "results/enhanced/toy_gain_noisy/noisy.csv")
    row = enhanced.iloc[0]
    x = read_audio(toy_run / row["noisy_path"])[0][0]
    y = read_audio(toy_run / row["enhanced_path"])[0][0]
    np.testing.assert_allclose(y, x * gain * row["peak_gain"], atol=2e-4)
    scores = pd.read_csv(toy_run / "results/scores/toy_gain_noisy/noisy.csv")
    assert len(scores) == len(enhanced) and scores["stoi"].notna().all()


@pytest.mark.workflow
@pytest.mark.slow
def test_a_registered_defence_is_applied_and_costed(toy_run):
    clipped = pd.read_csv(toy_run / "results/enhanced/toy_clip/clean.csv")
    peak = max(np.max(np.abs(read_audio(toy_run / p)[0][0])) for p in clipped["enhanced_path"])
    assert peak <= 0.05 + 1e-4
    controls = pd.read_csv(toy_run / "results/controls/ds/toy_clip/clean.csv")
    assert len(controls) == len(clipped) and controls["wer"].between(0, 1000).all()


@pytest.mark.workflow
@pytest.mark.slow
def test_editing_a_plugin_reruns_exactly_the_rules_that_load_it(toy_run):
    """The plugin module is an input of the rules whose registries can load it: an edit
    re-runs the toy attack, model and defence and what depends on them, nothing of the
    data or the recognisers."""
    module = toy_run / "plugins/toy_plugins.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    config = toy_run / "toy.yaml"
    jobs = planned_jobs(snakemake(toy_run, "-n", *TARGETS, configfiles=(SMOKE, config)))
    assert {"attack", "train_se", "transform", "over_the_air"} <= set(jobs)
    assert not {"mix", "train_asr", "simulate_rirs", "prepare_clean"} & set(jobs)

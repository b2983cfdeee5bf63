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
    "attacks": {
        # the plugin attack runs beside the paper's, forms Tables 2-3's adversarial
        # input, is swept adaptively with overrides of its own and trains the AdvT models
        "run": ["grad", "evo", "toy_noise"],
        "toy_noise": {"seed_offset": 3},
        "quality_tables_attack": "toy_noise",
        "adversarial_training": ["grad", "toy_noise"],
        "adaptive": {"toy_noise": {"seed_offset": 5}},
    },
    "se": {
        "run": ["dnn", "waveunet", "unet_at", "toy_gain"],
        "models": {"toy_gain": {"initial_gain": 0.5}},
        "train": {"per_model": {"toy_gain": {"steps": 2, "eval_every": 1}}},
    },
    "defences": {"transforms": {"toy_clip": {"level": 0.05}}},
}
TARGETS = [
    "results/ota/toy_noise/ds/toy_gain_noisy.csv",
    "results/scores/toy_gain_noisy/noisy.csv",
    "results/controls/ds/toy_clip/clean.csv",
    "results/table1.csv",
    "results/table2.csv",
    "results/adaptive/toy_noise/none.csv",
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


@pytest.mark.workflow
@pytest.mark.slow
def test_a_registered_model_that_runs_is_a_column_of_table1_and_trains_with_its_own_settings(
    toy_run,
):
    table1 = pd.read_csv(toy_run / "results/table1.csv")
    # the paper's columns, then the plugin's, labelled by its registered name
    assert list(table1.columns) == ["metric", "Noisy_D", "DNN", "U-Net_W", "U-Net_At", "toy_gain"]
    assert table1["toy_gain"].notna().all()
    payload = load_checkpoint(toy_run / "results/models/se/toy_gain_noisy.pt")
    assert payload["meta"]["train"]["steps"] == 2  # se.train.per_model.toy_gain
    assert payload["meta"]["train"]["eval_every"] == 1


@pytest.mark.workflow
@pytest.mark.slow
def test_a_registered_attack_forms_the_quality_tables_and_is_swept_adaptively(toy_run):
    table2 = pd.read_csv(toy_run / "results/table2.csv")
    assert "toy_gain" in table2.columns and table2["Noisy_adv"].notna().all()
    scored = pd.read_csv(toy_run / "results/scores/unprocessed/adv_toy_noise.csv")
    attacked = pd.read_csv(toy_run / "results/attacks/toy_noise/ds/test/testset.csv")
    assert set(scored["utt_id"]) == set(attacked["utt_id"])
    sweep = pd.read_csv(toy_run / "results/adaptive/toy_noise/none.csv")
    assert len(sweep) > 0 and sweep["utt_id"].nunique() >= 1


@pytest.mark.workflow
@pytest.mark.slow
def test_a_registered_attack_that_runs_feeds_adversarial_training_table4_and_fig3(toy_run):
    """Planned, not built: the AdvT recogniser and SE models learn from the plugin's train
    examples, and Table 4, Fig. 3 and the claims read its trials and sweeps."""
    config = toy_run / "toy.yaml"
    proc = snakemake(
        toy_run,
        "-n",
        "results/models/asr/ds_advt.pt",
        "results/table4.csv",
        "results/fig3.png",
        "results/claims.csv",
        configfiles=(SMOKE, config),
    )
    text = proc.stdout + proc.stderr
    assert "results/attacks/toy_noise/ds/train/manifest.csv" in text
    assert "results/ota/toy_noise/ds_advt/toy_gain_advt.csv" in text
    assert "results/adaptive/toy_noise/unet_at_advt.csv" in text
    jobs = planned_jobs(proc)
    assert {"train_asr", "over_the_air", "adaptive_attack", "table4", "fig3", "claims"} <= set(jobs)


def test_names_are_checked_against_the_registries_at_parse_time():
    """The schema takes any name; check_config refuses one no registry knows, naming the
    key, and accepts a plugin registered in the config's registry section."""
    from testkit import smoke_config

    from advspeech.pipeline.config import ConfigError, check_config

    for key, value in (
        (("attacks", "run"), ["grad", "no_such_attack"]),
        (("attacks", "adversarial_training"), ["no_such_attack"]),
        (("attacks", "quality_tables_attack"), "no_such_attack"),
        (("se", "run"), ["dnn", "no_such_model"]),
        (("attacks", "adaptive", "se"), "no_such_model_advt"),
    ):
        cfg = smoke_config()
        section = cfg
        for k in key[:-1]:
            section = section[k]
        section[key[-1]] = value
        with pytest.raises(ConfigError, match=".".join(key)):
            check_config(cfg)
    cfg = smoke_config()
    cfg["se"]["train"]["per_model"]["no_such_model"] = {"steps": 2}
    with pytest.raises(ConfigError, match="se.train.per_model"):
        check_config(cfg)
    cfg = smoke_config()
    cfg["attacks"]["adaptive"]["no_such_attack"] = {"steps": 2}
    with pytest.raises(ConfigError, match="attacks.adaptive"):
        check_config(cfg)
    cfg = smoke_config()
    cfg["registry"] = TOY_CONFIG["registry"]
    for section, values in (("attacks", TOY_CONFIG["attacks"]), ("se", TOY_CONFIG["se"])):
        for k, v in values.items():
            cfg[section][k] = v if not isinstance(v, dict) else {**cfg[section].get(k, {}), **v}
    check_config(cfg)

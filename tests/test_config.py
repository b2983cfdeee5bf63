"""advspeech.pipeline.config: every cross-key rule names its key; the settings builders."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate
from testkit import merge_config

from advspeech.pipeline.config import (
    ConfigError,
    adaptive_settings,
    asr_train_settings,
    attack_settings,
    check_config,
    se_train_settings,
    split_size,
)

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
DEFAULT = yaml.safe_load((REPO / "config.yaml").read_text())
validate(DEFAULT, str(SCHEMA))  # as the workflow does (config.yaml sets every key)


def merged(*overrides: dict) -> dict:
    """The default config with ``overrides`` merged in, as Snakemake merges config
    files, then schema-validated, as common.smk does."""
    cfg = copy.deepcopy(DEFAULT)
    for extra in overrides:
        merge_config(cfg, extra)
    validate(cfg, str(SCHEMA))
    return cfg


@pytest.mark.parametrize(
    "path", ["config.yaml", "tests/smoke.yaml", "configs/paper.yaml", "configs/quality.yaml"]
)
def test_shipped_configs_pass(path, tmp_path):
    shipped = yaml.safe_load((REPO / path).read_text())
    # the paper config names the cluster's corpus roots: here, folders that exist
    roots = {
        "corpus": {"librispeech": {"root": str(tmp_path)}},
        "noise": {"demand_root": str(tmp_path)},
    }
    check_config(merged(shipped, roots))


def test_paper_config_trains_every_enhancer_with_its_own_settings():
    """Config files merge key by key, so the default's small-budget per-model overrides
    would otherwise reach the paper-scale run."""
    paper = merged(yaml.safe_load((REPO / "configs/paper.yaml").read_text()))
    train = paper["se"]["train"]
    for model in ("dnn", "waveunet", "unet_at"):
        settings = se_train_settings(paper, model, "noisy")
        assert settings["segment"] == paper["se"]["segment"], model
        for key in ("steps", "batch_size", "lr", "schedule"):
            assert settings[key] == train[key], (model, key)
        advt = se_train_settings(paper, model, "advt")
        assert advt["segment"] == paper["se"]["segment"], model
        for key in ("steps", "batch_size", "lr"):
            assert advt[key] == paper["se"]["advt"][key], (model, key)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (
            {"corpus": {"embedded": {"words_per_minute": [190, 140]}}},
            "corpus.embedded.words_per_minute",
        ),
        ({"corpus": {"embedded": {"pitch": [70, 30]}}}, "corpus.embedded.pitch"),
        ({"corpus": {"embedded": {"pitch_range": [80, 30]}}}, "corpus.embedded.pitch_range"),
        ({"rirs": {"width": [5.0, 3.0]}}, "rirs.width"),
        ({"rirs": {"length": [0.0, 3.0]}}, "rirs.length"),
        ({"rirs": {"height": [4.0, 2.0]}}, "rirs.height"),
        ({"rirs": {"absorption": [0.5, 0.2]}}, "rirs.absorption"),
        ({"rirs": {"absorption": [0.2, 1.5]}}, "rirs.absorption"),
        ({"data": {"min_seconds": 9.0, "max_seconds": 4.0}}, "data.min_seconds"),
        ({"noise": {"environments": {"train": ["PINK"], "test": ["PINK"]}}}, "noise.environments"),
        (
            {"noise": {"environments": {"train": ["WHITE"], "dev": ["WHITE"], "test": ["PINK"]}}},
            "noise.environments",
        ),
        (
            {"noise": {"environments": {"train": ["WHITE"], "dev": ["PINK"], "test": ["PINK"]}}},
            "noise.environments",
        ),
        (
            {"noise": {"environments": {"train": ["WHITE"], "dev": ["KAZOO"], "test": ["PINK"]}}},
            "noise.environments",
        ),
        ({"corpus": {"source": "librispeech"}}, "corpus.librispeech.root"),
        (
            {"corpus": {"source": "librispeech", "librispeech": {"root": "/no/such/folder"}}},
            "corpus.librispeech.root",
        ),
        ({"corpus": {"embedded": {"speakers": {"train": 0}}}}, "corpus.embedded.speakers.train"),
        (
            {"corpus": {"embedded": {"utterances_per_speaker": {"test": 0}}}},
            "corpus.embedded.utterances_per_speaker.test",
        ),
        ({"noise": {"source": "demand"}}, "noise.demand_root"),
        (
            {"noise": {"environments": {"train": ["WHITE"], "test": ["VACUUM"]}}},
            "noise.environments",
        ),
        (
            {
                "corpus": {"embedded": {"speakers": {"babble": 0}}},
                "noise": {"environments": {"train": ["WHITE"], "test": ["BABBLE"]}},
            },
            "noise.environments",
        ),
        ({"defences": {"table": ["none", "mp4"]}}, "defences.table"),
        ({"defences": {"table": ["mp3"]}}, "defences.table"),
        (
            {"defences": {"adaptive": {"defences": ["none", "pgd_purifier"]}}},
            "defences.adaptive.defences",
        ),
        ({"defences": {"table": ["none", "unet_at_clean"]}}, "defences.table"),
        ({"se": {"models": {"unet_at": {"loss": "mse"}}}}, "se.models.unet_at.log_floor_db"),
        (
            {
                "se": {
                    "models": {"waveunet": {"loss": "mse", "log_floor_db": None, "snr_weight": 0.1}}
                }
            },
            "se.models.waveunet.snr_weight",
        ),
    ],
)
def test_each_cross_key_rule_names_its_key(overrides, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        check_config(merged(overrides))


def test_split_size_counts_a_corpus_split():
    emb = DEFAULT["corpus"]["embedded"]
    for split in ("babble", "train"):
        expected = emb["speakers"][split] * emb["utterances_per_speaker"][split]
        assert split_size(DEFAULT, split) == expected > 0
    librispeech = merged(
        {"corpus": {"source": "librispeech", "librispeech": {"subsets": {"babble": ["a", "b"]}}}}
    )
    assert split_size(librispeech, "babble") == 2


def test_se_settings_apply_the_per_model_override_to_that_model_only():
    cfg = merged({"se": {"train": {"per_model": {"waveunet": {"lr": 0.123}}}}})
    assert se_train_settings(cfg, "waveunet", "noisy")["lr"] == 0.123
    dnn = se_train_settings(cfg, "dnn", "noisy")
    assert dnn["lr"] == DEFAULT["se"]["train"]["lr"] and "per_model" not in dnn
    assert (dnn["alpha"], dnn["eps"]) == (1.0, 0.0)  # noisy training: no Eq. 6 term
    advt = se_train_settings(cfg, "dnn", "advt")
    assert advt["alpha"] == DEFAULT["se"]["advt"]["alpha"]
    assert advt["segment"] == DEFAULT["se"]["segment"]


def test_per_model_segment_sets_the_training_crop_of_that_model_only():
    cfg = merged({"se": {"segment": 16384, "train": {"per_model": {"unet_at": {"segment": 8192}}}}})
    assert se_train_settings(cfg, "unet_at", "noisy")["segment"] == 8192
    assert se_train_settings(cfg, "waveunet", "noisy")["segment"] == 16384
    # the adversarial fine-tuning has its own per-model settings: the window by default
    cfg["se"]["advt"]["per_model"] = {}
    assert se_train_settings(cfg, "unet_at", "advt")["segment"] == 16384
    cfg["se"]["advt"]["per_model"] = {"unet_at": {"segment": 4096, "batch_size": 32}}
    advt = se_train_settings(cfg, "unet_at", "advt")
    assert (advt["segment"], advt["batch_size"]) == (4096, 32) and "per_model" not in advt
    assert se_train_settings(cfg, "waveunet", "advt")["segment"] == 16384


def test_remixing_is_validated_and_absent_unless_configured():
    """No schema default: a run that does not remix keeps its training params (and
    its trained models) when the keys are introduced."""
    plain = merged({"se": {"train": {"per_model": {"unet_at": {}, "waveunet": {}}}}})
    assert not any(k.startswith("remix") for k in se_train_settings(plain, "unet_at", "noisy"))
    cfg = merged({"se": {"train": {"per_model": {"unet_at": {"remix_fraction": 0.5}}}}})
    assert se_train_settings(cfg, "unet_at", "noisy")["remix_fraction"] == 0.5
    assert "remix_fraction" not in se_train_settings(cfg, "waveunet", "noisy")
    for bad in ({"remix_fraction": 1.5}, {"remix_noises": 0}, {"remix_tilt_db": -1}):
        with pytest.raises(Exception, match="remix"):
            merged({"se": {"train": {"per_model": {"unet_at": bad}}}})


def test_dev_noise_environments_are_accepted_and_absent_unless_configured():
    """No schema default: runs whose dev mixtures use the train noises keep their params."""
    assert "dev" not in merged()["noise"]["environments"]
    cfg = merged({"noise": {"environments": {"dev": ["MUSIC", "ENGINE"]}}})
    check_config(cfg)
    assert cfg["noise"]["environments"]["dev"] == ["MUSIC", "ENGINE"]


def test_asr_and_attack_settings():
    assert asr_train_settings(DEFAULT, "ds")["alpha"] == 1.0
    advt = asr_train_settings(DEFAULT, "ds_advt")
    assert advt["patience"] == DEFAULT["asr"]["advt"]["epochs"]
    assert advt["eps"] == DEFAULT["asr"]["advt"]["eps"]
    cfg = merged({"attacks": {"snr_db": 7.5}})
    assert attack_settings(cfg, "grad")["snr_db"] == 7.5
    adaptive = adaptive_settings(cfg, "grad")
    for key, value in DEFAULT["attacks"]["adaptive"]["grad"].items():
        assert adaptive[key] == value
    assert adaptive["snr_db"] == 7.5


def test_the_ds_settings_the_config_checks_are_the_model_s():
    from dataclasses import fields

    from advspeech.asr.model import DeepSpeechConfig
    from advspeech.pipeline.config import DEEPSPEECH_KEYS

    assert tuple(f.name for f in fields(DeepSpeechConfig)) == DEEPSPEECH_KEYS


def test_unknown_recogniser_settings_and_architectures_name_their_key():
    cfg = copy.deepcopy(DEFAULT)
    cfg["asr"]["model"]["rnn_hiden"] = 64
    with pytest.raises(ConfigError, match="asr.model: \\['rnn_hiden'\\]"):
        check_config(cfg)
    cfg = copy.deepcopy(DEFAULT)
    cfg["asr"]["arch"] = "conformer"
    with pytest.raises(ConfigError, match="asr.arch: 'conformer' is not a registered"):
        check_config(cfg)

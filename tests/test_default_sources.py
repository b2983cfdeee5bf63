"""One home for every default: config.yaml sets every key, the schema sets none, and the
library's settings dataclasses (what a library user gets when calling an attack or
building a model directly) default to config.yaml's values, so the library and the
workflow run the same attack (docs/architecture.md, "Where defaults live")."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from advspeech.asr.model import DeepSpeechConfig
from advspeech.asr.train import TrainConfig
from advspeech.attacks.evo import EvolutionaryAttackConfig
from advspeech.attacks.evo_waveform import WaveformSearchConfig
from advspeech.attacks.grad import OverTheAirConfig, RobustAttackConfig
from advspeech.data.rooms import RoomRanges
from advspeech.se.dnn import DNNConfig
from advspeech.se.train import SETrainConfig
from advspeech.se.unet import WaveUNetConfig

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
DEFAULT = yaml.safe_load((REPO / "config.yaml").read_text())


def _section(path: str) -> dict:
    section = DEFAULT
    for key in path.split("."):
        section = section[key]
    return section


# settings dataclass -> the config sections its fields are read from (later ones win)
SOURCES = {
    RobustAttackConfig: ["attacks.grad", "attacks"],
    OverTheAirConfig: ["attacks.grad"],
    EvolutionaryAttackConfig: ["attacks.evo", "attacks"],
    WaveformSearchConfig: ["attacks.evo", "attacks.evo.waveform", "attacks"],
    DeepSpeechConfig: ["asr.model"],
    TrainConfig: ["asr.train"],
    SETrainConfig: ["se.train"],
    DNNConfig: ["se.models.dnn"],
    WaveUNetConfig: ["se.models.waveunet"],
    RoomRanges: ["rirs"],
}


def _schema_defaults(node, path="") -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "default":
                found.append(path)
            found += _schema_defaults(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _schema_defaults(value, f"{path}[{i}]")
    return found


def test_the_schema_sets_no_defaults():
    assert _schema_defaults(yaml.safe_load(SCHEMA.read_text())) == []


def test_config_yaml_sets_every_key_the_schema_would_fill():
    """Validated with defaults filled in, config.yaml gains nothing: it is complete."""
    filled = copy.deepcopy(DEFAULT)
    validate(filled, str(SCHEMA))
    assert filled == DEFAULT


def _normalise(value):
    if isinstance(value, (tuple, list)):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@pytest.mark.parametrize("settings", list(SOURCES), ids=lambda c: c.__name__)
def test_settings_dataclasses_default_to_config_yaml(settings):
    config = {}
    for path in SOURCES[settings]:
        config |= {k: v for k, v in _section(path).items() if not isinstance(v, dict)}
    disagree = {}
    for field in dataclasses.fields(settings):
        if field.default is dataclasses.MISSING or field.name not in config:
            continue
        if _normalise(field.default) != _normalise(config[field.name]):
            disagree[field.name] = (field.default, config[field.name])
    assert not disagree, f"{settings.__name__} default vs config.yaml: {disagree}"

"""The library's shape: no import cycles, modules a reader can take in, names defined
once, and rules that declare every library file their scripts import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from advspeech.asr import RECOGNISERS
from advspeech.attacks import ATTACKS
from advspeech.core.registry import REGISTRY_ENV, LazyRegistry
from advspeech.defences import TRANSFORMS
from advspeech.pipeline.code_deps import SRC, find_cycle, import_graph, library_files
from advspeech.reporting import paper
from advspeech.se import SE_MODELS

REPO = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# the library's packages, one per stage or concern (docs/architecture.md's module map)
PACKAGES = {
    "core",
    "pipeline",
    "data",
    "asr",
    "se",
    "training",
    "attacks",
    "defences",
    "evaluation",
    "reporting",
}
LIBRARY = sorted((SRC / "advspeech").rglob("*.py"))


def test_the_library_has_no_import_cycle():
    graph = import_graph()
    assert "advspeech.attacks.grad" in graph and "advspeech.data.corpus" in graph
    assert find_cycle(graph) is None, find_cycle(graph)


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", LIBRARY, ids=str)
def test_no_library_module_is_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


@pytest.mark.parametrize("path", LIBRARY, ids=str)
def test_no_library_function_is_over_60_lines(path):
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, long


def test_the_library_is_packages_by_stage():
    """Every module lives in a stage or infrastructure package; only the package's own
    __init__ sits at the top."""
    top = {p.name for p in (SRC / "advspeech").iterdir() if not p.name.startswith("__")}
    assert top == PACKAGES, top ^ PACKAGES


def test_lib_follows_imports_packages_and_registry_entries(tmp_path):
    """A rule that builds an enhancement model by name depends on every registered
    model's module (the registry imports them on first use), and on the packages'
    __init__ files its imports run."""
    files = {
        p.relative_to(SRC).as_posix() for p in library_files(REPO / "workflow/scripts/train_se.py")
    }
    assert {"advspeech/se/dnn.py", "advspeech/se/unet.py", "advspeech/se/__init__.py"} <= files
    assert "advspeech/attacks/grad.py" not in files
    attack = {
        p.relative_to(SRC).as_posix() for p in library_files(REPO / "workflow/scripts/attack.py")
    }
    assert {
        "advspeech/attacks/grad.py",
        "advspeech/attacks/evo.py",
        "advspeech/data/rooms.py",
    } <= attack
    # a module that uses only the paper's names does not depend on the models' code
    claims = {
        p.relative_to(SRC).as_posix() for p in library_files(REPO / "workflow/scripts/claims.py")
    }
    assert "advspeech/reporting/paper.py" in claims and not any(
        "/se/" in f or "attacks" in f for f in claims
    )
    script = tmp_path / "script.py"
    script.write_text("def f():\n    from advspeech.data import rooms\n")
    assert SRC / "advspeech/data/rooms.py" in library_files(script)


def test_the_paper_names_are_registered_and_new_names_label_themselves():
    paper.check_labels(SE_MODELS, ATTACKS)
    paper.check_labels([*SE_MODELS, "conformer_se"], [*ATTACKS, "pgd"])
    with pytest.raises(ValueError, match="enhancement models \\['unet_at'\\]"):
        paper.check_labels(["dnn", "waveunet"], ATTACKS)
    with pytest.raises(ValueError, match="attacks \\['evo'\\]"):
        paper.check_labels(SE_MODELS, ["grad"])
    assert paper.se_label("unet_at", "advt") == "U-Net_T_At"
    assert (paper.se_label("conformer_se"), paper.se_label("conformer_se", "advt")) == (
        "conformer_se",
        "conformer_se_T",
    )
    assert paper.attack_label("grad") == "Grad_adv" and paper.attack_label("pgd") == "pgd"


def test_configured_entries_join_every_registry(monkeypatch):
    """registry.<key> in config reaches each registry (and each job) through the
    environment; built-in names come first, a broken entry is an error naming its key."""
    monkeypatch.setenv(
        REGISTRY_ENV,
        '{"attacks": {"toy": "advspeech.data.rooms:load_rirs"}, '
        '"se_models": {"toy_se": "advspeech.data.rooms:nowhere"}}',
    )
    assert list(ATTACKS) == ["grad", "evo", "toy"] and ATTACKS["toy"].__name__ == "load_rirs"
    assert "toy_se" in SE_MODELS and not SE_MODELS.is_builtin("toy_se")
    with pytest.raises(KeyError, match="registry.se_models.toy_se"):
        SE_MODELS["toy_se"]
    assert list(TRANSFORMS) == ["mp3", "resample", "quantise", "lowpass", "random_noise"]
    assert list(RECOGNISERS) == ["ds"]


def test_registries_import_on_lookup_and_name_unknown_entries():
    registry = LazyRegistry("widget", {"rooms": "advspeech.data.rooms:load_rirs"}, "widgets")
    assert list(registry) == ["rooms"] and "rooms" in registry
    assert registry["rooms"].__name__ == "load_rirs"
    with pytest.raises(KeyError, match="unknown widget 'gear'; known: \\['rooms'\\]"):
        registry["gear"]
    for name in ATTACKS:
        assert callable(ATTACKS[name].run) and callable(ATTACKS[name].config)
    for name in SE_MODELS:
        assert callable(SE_MODELS[name])
    for name in RECOGNISERS:
        assert callable(RECOGNISERS[name])


def test_paper_layouts_use_registered_names():
    tables = paper.quality_tables("adv_grad")
    systems = {s for t in tables.values() for s, _ in t["systems"].values()}
    assert systems - {"unprocessed"} <= set(paper.SE_SYSTEMS)
    assert set(paper.TABLE4_ATTACKS.values()) == set(paper.ATTACK_NAMES) <= set(ATTACKS)
    assert set(paper.TABLE4_DEFENCES.values()) - {"none"} <= set(paper.SE_SYSTEMS)
    assert set(paper.FIG2_PANELS.values()) <= set(paper.SE_SYSTEMS)
    for table, labels in paper.PAPER.items():
        if table in tables:
            assert set(labels) == set(tables[table]["systems"]), table
    assert set(paper.PAPER["table4"]) == set(paper.TABLE4_ATTACKS)
    for rows in paper.PAPER["table4"].values():
        assert tuple(rows) == paper.TABLE4_ROWS
        assert all(list(v) == list(paper.TABLE4_DEFENCES) for v in rows.values())


def test_a_model_or_attack_beyond_the_paper_is_a_column_or_row_labelled_by_its_name():
    """The layouts take the names that run: a registered model is a column of every
    quality table and of Table 4, an attack a row group; the paper's values stay keyed
    by the paper's labels only."""
    tables = paper.quality_tables("adv_grad", [*paper.SE_MODEL_NAMES, "toy"])
    assert list(tables["table1"]["systems"])[-1] == "toy"
    assert tables["table3"]["systems"]["toy_T"] == ("toy_advt", "adv_grad")
    assert paper.table4_defences(["dnn", "toy"]) == {
        paper.NO_DEFENCE: "none",
        "SE_DNN": "dnn_advt",
        "SE_toy": "toy_advt",
    }
    assert paper.table4_attacks(["grad", "toy_noise"]) == {
        "Grad_adv": "grad",
        "toy_noise": "toy_noise",
    }
    assert "toy" not in paper.PAPER["table1"]

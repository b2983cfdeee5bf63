"""The library's shape: no import cycles, modules a reader can take in, names defined
once, and rules that declare every library file their scripts import."""

from __future__ import annotations

from pathlib import Path

import pytest

from advspeech.attacks import ATTACKS
from advspeech.core.registry import LazyRegistry
from advspeech.pipeline.code_deps import SRC, find_cycle, import_graph, library_files
from advspeech.reporting import paper
from advspeech.se import SE_MODELS

REPO = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 420  # "about 400"


def test_the_library_has_no_import_cycle():
    graph = import_graph()
    assert "advspeech.attacks.grad" in graph and "advspeech.data.corpus" in graph
    assert find_cycle(graph) is None, find_cycle(graph)


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", sorted((SRC / "advspeech").rglob("*.py")), ids=str)
def test_no_library_module_is_much_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


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


def test_the_paper_labels_every_registered_model_and_attack():
    paper.check_labels(SE_MODELS, ATTACKS)
    with pytest.raises(ValueError, match="SE_LABELS"):
        paper.check_labels([*SE_MODELS, "conformer_se"], ATTACKS)
    with pytest.raises(ValueError, match="ATTACK_LABELS"):
        paper.check_labels(SE_MODELS, [*ATTACKS, "pgd"])


def test_registries_import_on_lookup_and_name_unknown_entries():
    registry = LazyRegistry("widget", {"rooms": "advspeech.data.rooms:load_rirs"})
    assert list(registry) == ["rooms"] and "rooms" in registry
    assert registry["rooms"].__name__ == "load_rirs"
    with pytest.raises(KeyError, match="unknown widget 'gear'; known: \\['rooms'\\]"):
        registry["gear"]
    for name in ATTACKS:
        assert callable(ATTACKS[name].run) and callable(ATTACKS[name].config)
    for name in SE_MODELS:
        assert callable(SE_MODELS[name])


def test_paper_layouts_use_registered_names():
    tables = paper.quality_tables("adv_grad")
    systems = {s for t in tables.values() for s, _ in t["systems"].values()}
    assert systems - {"unprocessed"} <= set(paper.SE_SYSTEMS)
    assert set(paper.TABLE4_ATTACKS.values()) == set(ATTACKS)
    assert set(paper.TABLE4_DEFENCES.values()) - {"none"} <= set(paper.SE_SYSTEMS)
    assert set(paper.FIG2_PANELS.values()) <= set(paper.SE_SYSTEMS)
    for table, labels in paper.PAPER.items():
        if table in tables:
            assert set(labels) == set(tables[table]["systems"]), table
    assert set(paper.PAPER["table4"]) == set(paper.TABLE4_ATTACKS)
    for rows in paper.PAPER["table4"].values():
        assert tuple(rows) == paper.TABLE4_ROWS
        assert all(len(v) == len(paper.TABLE4_DEFENCES) for v in rows.values())

"""Project hygiene: pins agree across pyproject and conda envs, lint is clean."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^;\s]+)", req.strip())
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_env_pins_match_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = _pins(project["dependencies"])
    assert {"torch", "torchaudio", "snakemake", "pesq", "pystoi"} <= set(pinned)
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert {e.stem for e in envs} >= {"data", "torch", "metrics", "render"}
    for env in envs:
        deps = yaml.safe_load(env.read_text())["dependencies"]
        pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
        for name, version in _pins(pip).items():
            assert pinned.get(name) == version, f"{env.name}: {name}=={version} vs pyproject"


def test_every_rule_names_a_conda_env_log_and_benchmark():
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text()
        for block in re.split(r"\n(?=rule )", text)[1:]:
            name = block.split(":", 1)[0]
            for key in ("log:", "benchmark:", "conda:"):
                assert key in block, f"{smk.name}: {name} lacks {key}"


def _modules_loaded_by(script: Path) -> set[Path]:
    """Library files a fresh interpreter has loaded after running the script's
    module-level advspeech imports: evidence independent of the static walk."""
    imports = [
        line
        for line in script.read_text().splitlines()
        if line.startswith(("from advspeech", "import advspeech"))
    ]
    code = "\n".join(
        [
            *imports,
            "import sys",
            "for name, m in list(sys.modules.items()):",
            "    if name.startswith('advspeech') and getattr(m, '__file__', None):",
            "        print(m.__file__)",
        ]
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return {Path(line).resolve() for line in out.split()}


def test_every_library_module_a_script_uses_is_an_input_of_its_rule():
    """Snakemake does not follow imports: a module a rule's script reaches (directly or
    through other modules) but that is not among the rule's inputs would leave stale
    results after an edit. Checked on every job of the default DAG against the static
    import walk (advspeech.pipeline.code_deps), and for the main rules against what a fresh
    interpreter actually loads."""
    from advspeech.pipeline.code_deps import library_files

    scripts = {}
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"\n(?=rule )", smk.read_text())[1:]:
            script = re.search(r'"\.\./scripts/(\w+\.py)"', block)
            if script:
                scripts[block.split(":", 1)[0].removeprefix("rule ")] = script.group(1)
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--forceall"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    jobs = re.findall(r"^rule (\w+):\n    input: (.*)$", proc.stdout, flags=re.M)
    assert len(jobs) > 50, proc.stdout[-2000:] + proc.stderr[-2000:]
    checked, loaded_checked = set(), set()
    for rule, inputs in jobs:
        if rule not in scripts:
            continue
        script = REPO / "workflow" / "scripts" / scripts[rule]
        declared = {(REPO / p).resolve() for p in inputs.split(", ")}
        needed = {p.resolve() for p in library_files(script)}
        assert needed <= declared, f"rule {rule}: {sorted(needed - declared)} not declared"
        main_rules = {"attack", "train_se", "claims"}
        if rule in main_rules and rule not in loaded_checked:
            loaded = _modules_loaded_by(script)
            assert loaded and loaded <= declared, f"rule {rule}: {loaded - declared}"
            loaded_checked.add(rule)
        checked.add(rule)
    assert {"train_asr", "attack", "over_the_air", "score", "train_se"} <= checked
    assert len(loaded_checked) == 3


def test_snakemake_lint_is_clean():
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert "Congratulations" in out, out[-3000:]


def test_ruff_and_snakefmt_are_clean():
    bin_dir = Path(sys.executable).parent
    paths = ["src", "workflow/scripts", "tests", "bench", "experiments"]
    for cmd in (
        [str(bin_dir / "ruff"), "check", *paths],
        [str(bin_dir / "ruff"), "format", "--check", *paths],
        [str(bin_dir / "snakefmt"), "--check", "Snakefile", "workflow/rules"],
    ):
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"


def test_gpu_resource_is_claimed_only_where_jobs_run_on_a_gpu(tmp_path, monkeypatch):
    from advspeech.pipeline.runtime import local_gpu_per_job

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert local_gpu_per_job("cpu") == 0
    assert local_gpu_per_job("cuda:1") == 1
    assert local_gpu_per_job("auto", dev_root=str(tmp_path)) == 0  # CPU-only machine
    (tmp_path / "nvidiactl").touch()
    assert local_gpu_per_job("auto", dev_root=str(tmp_path)) == 1
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert local_gpu_per_job("auto", dev_root=str(tmp_path)) == 0


def test_every_script_the_makefile_and_readme_name_exists():
    """`make bench` once named a benchmark that no longer existed."""
    named = set()
    for doc in ("Makefile", "README.md", ".ci/run"):
        named |= set(
            re.findall(
                r"\b((?:bench|experiments|workflow/scripts)/\w+\.py)", (REPO / doc).read_text()
            )
        )
    assert "bench/attack_throughput.py" in named
    missing = sorted(p for p in named if not (REPO / p).is_file())
    assert not missing, f"named but missing: {missing}"


EXPERIMENTS = sorted(p.name for p in (REPO / "experiments").glob("*.py") if p.name != "tuning.py")


def test_the_split_guard_refuses_test():
    from advspeech.pipeline.split_guard import TestSplitRefused, require_tuning_split

    assert require_tuning_split("dev") == "dev"
    with pytest.raises(TestSplitRefused, match="test split is for the final tables"):
        require_tuning_split("test")


def test_the_split_guard_refuses_the_held_out_rooms_by_name_and_by_id():
    from advspeech.pipeline.split_guard import TestSplitRefused, require_tuning_rooms

    rooms = "results/data/rirs/attack.csv"
    assert require_tuning_rooms(rooms, ["attack0000", "attack0001"]) == rooms
    for path, ids in (
        ("results/data/rirs/test.csv", ["test0000"]),
        ("results/data/rirs/shifted.csv", []),
        ("my_rooms.csv", ["attack0000", "test0003"]),  # a renamed copy of test rooms
    ):
        with pytest.raises(TestSplitRefused, match="test rooms are for the final tables"):
            require_tuning_rooms(path, ids)


@pytest.mark.parametrize("script", EXPERIMENTS)
def test_every_tuning_driver_uses_the_shared_guard(script):
    """Every dev tuning driver builds its command line with experiments/tuning.py, whose
    parser refuses the test split."""
    source = (REPO / "experiments" / script).read_text()
    assert "tuning_args(parser" in source and "from tuning import" in source


@pytest.mark.parametrize(
    "script",
    [
        "attack_budget_curve.py",
        "dnn_synthesis_dev.py",
        "se_selection_dev.py --variant a",
        "evo_queries_dev.py",
    ],
)
def test_tuning_drivers_refuse_the_test_split(script):
    """--split test is an error before anything is read."""
    name, *extra = script.split()
    run = subprocess.run(
        [sys.executable, str(REPO / "experiments" / name), "--split", "test", *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "not 'test'" in run.stderr, run.stderr


def assert_refuses_test(script: str, *args: str) -> None:
    """Running experiments/``script`` with ``args`` (pointing it at test data) is an
    argparse error naming the test split."""
    run = subprocess.run(
        [sys.executable, str(REPO / "experiments" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{REPO / 'src'}:{REPO / 'experiments'}", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 2 and "not 'test'" in run.stderr, run.stderr


def experiment_function(module: str, name: str):
    """Function ``name`` of the tuning driver experiments/``module``.py."""
    sys.path.insert(0, str(REPO / "experiments"))
    try:
        return getattr(importlib.import_module(module), name)
    finally:
        sys.path.remove(str(REPO / "experiments"))


def test_model_comparison_refuses_test_mixtures_and_pairs_by_mixture(tmp_path):
    """experiments/se_compare_models.py reads no test manifest; its paired differences and
    gains are per mixture, so a model that adds 0.2 PESQ on one noise type only shows
    +0.2 on that type and +0.1 over both."""
    import numpy as np
    import pandas as pd

    manifest = tmp_path / "results/data/mix/test.csv"
    manifest.parent.mkdir(parents=True)
    columns = ["mix_id", "utt_id", "speaker", "split", "noise_env", "clean_path", "noisy_path"]
    pd.DataFrame([["m", "u", "s", "test", "PINK", "c.wav", "n.wav"]], columns=columns).to_csv(
        manifest, index=False
    )
    assert_refuses_test("se_compare_models.py", "--mixtures", str(manifest), "--model", "a=a.pt")
    compare = experiment_function("se_compare_models", "compare")
    n = 40
    mixtures = pd.DataFrame(
        {
            "utt_id": [f"u{i // 2}" for i in range(n)],
            "speaker": [f"s{i % 4}" for i in range(n)],
            "noise_env": ["MUSIC", "CANTEEN"] * (n // 2),
        }
    )
    rng = np.random.default_rng(0)
    noisy = {m: rng.normal(1.5, 0.2, n) for m in ("pesq", "stoi", "snr")}
    base = {m: v + 0.1 for m, v in noisy.items()} | {"clean_pesq": np.full(n, 4.0)}
    base["clean_stoi"] = np.full(n, 0.99)
    better = {**base, "pesq": base["pesq"] + 0.2 * (mixtures["noise_env"] == "CANTEEN")}
    table = compare(
        mixtures,
        noisy,
        {"base": base, "better": better},
        {"all": ["MUSIC", "CANTEEN"], "CANTEEN": ["CANTEEN"], "MUSIC": ["MUSIC"]},
    ).set_index(["group", "model"])
    assert table.loc[("CANTEEN", "better"), "pesq_vs_base"] == pytest.approx(0.2)
    assert table.loc[("MUSIC", "better"), "pesq_vs_base"] == pytest.approx(0.0)
    assert table.loc[("all", "better"), "pesq_vs_base"] == pytest.approx(0.1)
    assert table.loc[("all", "base"), "stoi_gain"] == pytest.approx(0.1)
    assert table.loc[("CANTEEN", "better"), "mixtures"] == n // 2
    assert table["meets_clean_control"].all()


def test_recogniser_dev_driver_refuses_test_rows_and_pairs_voices_across_corpora(tmp_path):
    """experiments/asr_voice_dev.py refuses a tree whose dev manifest holds test rows; its
    voice-paired comparison matches voices by name, not by speaker id (ids shift between
    corpora drawn with other train sizes)."""
    import pandas as pd

    for name in ("clean", "mix"):
        manifest = tmp_path / f"results/data/{name}/dev.csv"
        manifest.parent.mkdir(parents=True)
        pd.DataFrame({"utt_id": ["1-1-0000"], "split": ["test"]}).to_csv(manifest, index=False)
    assert_refuses_test("asr_voice_dev.py", "--tree", str(tmp_path))
    compare_voices = experiment_function("asr_voice_dev", "compare_voices")

    def items(ids, wers):
        return pd.DataFrame(
            {
                "testset": "clean",
                "utt_id": ids,
                "voice": ["en+m1", "en+f2"] * 2,
                "words": 5,
                "wer": wers,
            }  # fmt: skip
        )

    a = items(["100-1-0000", "101-1-0000", "100-1-0001", "101-1-0001"], [0.0, 20.0, 0.0, 20.0])
    # the same two voices under other speaker ids; en+f2 is 10 points better
    b = items(["200-1-0000", "201-1-0000", "200-1-0001", "201-1-0001"], [0.0, 10.0, 0.0, 10.0])
    diff = compare_voices(a, b).set_index("testset").loc["clean"]
    assert diff["voices"] == 2
    assert diff["b_minus_a"] == pytest.approx(-5.0)
    assert diff["worst_a"] == pytest.approx(20.0) and diff["worst_b"] == pytest.approx(10.0)

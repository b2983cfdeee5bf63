"""Project hygiene: pins agree across pyproject and conda envs, lint is clean."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

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
    paths = ["src", "workflow/scripts", "tests", "bench"]
    for cmd in (
        [str(bin_dir / "ruff"), "check", *paths],
        [str(bin_dir / "ruff"), "format", "--check", *paths],
        [str(bin_dir / "snakefmt"), "--check", "Snakefile", "workflow/rules"],
    ):
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"


def test_gpu_resource_is_claimed_only_where_jobs_run_on_a_gpu(tmp_path, monkeypatch):
    from advspeech.runtime import local_gpu_per_job

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert local_gpu_per_job("cpu") == 0
    assert local_gpu_per_job("cuda:1") == 1
    assert local_gpu_per_job("auto", dev_root=str(tmp_path)) == 0  # CPU-only machine
    (tmp_path / "nvidiactl").touch()
    assert local_gpu_per_job("auto", dev_root=str(tmp_path)) == 1
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert local_gpu_per_job("auto", dev_root=str(tmp_path)) == 0

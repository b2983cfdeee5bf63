"""Killing the workflow during a training job leaves no corrupt output, and the re-run
resumes training from the saved state instead of starting over."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml
from testkit import SMOKE, SNAKEFILE

pytestmark = pytest.mark.workflow


def test_killed_training_resumes(smoke_run, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(smoke_run, work, symlinks=True)
    longer = tmp_path / "longer.yaml"
    # small batches and many epochs, so that the kill lands mid-training
    longer.write_text(
        yaml.safe_dump({"asr": {"train": {"epochs": 30, "patience": 30, "batch_size": 2}}})
    )
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(SNAKEFILE),
        "--directory",
        str(work),
        "--cores",
        "2",
        "results/models/asr/ds.pt",
        "--configfile",
        str(SMOKE),
        str(longer),
    ]
    state = work / "resources/train_state/asr/ds.pt"
    proc = subprocess.Popen(
        cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.time() + 300
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert state.exists(), "training never saved a resumable state"
    # the harshest interruption: the whole process group dies at once (a node crash or
    # `kill -9`), so nothing gets to clean up after itself
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    # no half-written model that looks complete
    assert not (work / "results/models/asr/ds.pt").exists()
    assert state.exists()

    # what a user does after a crash: release Snakemake's lock, then run again
    subprocess.run([*cmd, "--unlock"], cwd=work, capture_output=True, timeout=120, check=True)
    rerun = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    log = (work / "logs/train_asr/ds.log").read_text()
    assert "resuming from epoch" in log
    history = json.loads((work / "results/models/asr/ds.history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == list(range(30))
    assert not state.exists()  # removed after a finished training

"""Shared fixtures: the smoke DAG runs once per test run; many tests inspect its outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from testkit import snakemake


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The whole smoke DAG, run once; returns its working directory."""
    # ADVSPEECH_SMOKE_DIR re-uses (and brings up to date) an earlier smoke run's
    # directory, for iterating on tests without re-running the whole DAG
    reuse = os.environ.get("ADVSPEECH_SMOKE_DIR")
    workdir = Path(reuse) if reuse else tmp_path_factory.mktemp("smoke")
    # rule all and the opt-in targets: the success-vs-budget sweep, the defences table and
    # the replicates over two seeds (this run, seed 7, and a second whole run, seed 8) and
    # the black-box attacker's query sweep (with its surrogate recogniser)
    snakemake(
        workdir,
        "all",
        "results/budget.csv",
        "results/defences.csv",
        "results/replicates/claims.csv",
        "results/evo_queries.csv",
        timeout=2400,
    )
    return workdir

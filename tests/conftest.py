"""Shared fixtures: the smoke DAG runs once per session; many tests inspect its outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import snakemake


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The whole smoke DAG, run once; returns its working directory."""
    workdir = tmp_path_factory.mktemp("smoke")
    snakemake(workdir)
    return workdir

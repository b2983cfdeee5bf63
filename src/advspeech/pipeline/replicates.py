"""Replicates across seeds: where each seed's run lives and the config it runs with.

A replicate is the whole workflow run again with another ``seed`` in a working
directory of its own, sharing nothing with the others but the code; the run of the
configured seed is the main working directory itself (the same config, so the same
computation)."""

from __future__ import annotations

import copy
import os
from pathlib import Path

REPLICATES_DIR = "results/replicates"

# config keys that hold paths relative to the working directory: a replicate runs in a
# directory of its own, so they become absolute in its config
PATH_KEYS = (("corpus", "librispeech", "root"), ("noise", "demand_root"))


def replicate_root(seed: int, main_seed: int) -> str:
    """The working directory of a seed's run, relative to the main one ("" for the
    configured seed: the main run is its replicate)."""
    return "" if seed == main_seed else f"{REPLICATES_DIR}/seed_{seed}/"


def replicate_config(config: dict, seed: int, workdir: str | os.PathLike) -> dict:
    """The config of a seed's run: ``config`` with ``seed`` replaced, its relative paths
    made absolute (from ``workdir``, the main working directory), and a ``replicates``
    section of that seed alone, so that adding a seed to the list leaves the other
    replicates' configs, and so their runs, unchanged."""
    cfg = copy.deepcopy(config)
    cfg["seed"] = int(seed)
    base = Path(workdir).resolve()
    for keys in PATH_KEYS:
        node = cfg
        for key in keys[:-1]:
            node = node.get(key) or {}
        value = node.get(keys[-1])
        if isinstance(value, str) and value and not os.path.isabs(value):
            node[keys[-1]] = str(base / value)
    registry = cfg.get("registry") or {}
    if registry.get("python_path"):
        registry["python_path"] = [str(base / p) for p in registry["python_path"]]
    cfg["replicates"] = {**cfg.get("replicates", {}), "seeds": [int(seed)], "snakemake_args": ""}
    return cfg

"""A defence applied to every file of a test set (rule ``transform``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advspeech.core.seeding import stable_seed
from advspeech.defences import build_transform
from advspeech.se.enhance import process_manifest


def transform_manifest(
    name: str, cfg: dict, manifest: str, audio_column: str, out_dir: str | Path, seed: int
) -> pd.DataFrame:
    """Input transformation ``name`` (settings ``cfg``) of every file of a manifest;
    a randomised one draws per item from ``seed``."""
    transform = build_transform(name, cfg)
    return process_manifest(
        transform,
        manifest,
        audio_column,
        out_dir,
        seed_of=lambda key: stable_seed(seed, "defence", name, key),
        desc=f"transform {name}",
    )

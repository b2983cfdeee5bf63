"""A defence applied to every file of a test set (rule ``transform``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.defences import build_transform
from advspeech.io import DataError, read_audio, write_audio
from advspeech.seeding import stable_seed

Defend = Callable[[torch.Tensor, int], torch.Tensor]
"""``defend(wave, seed)``: a 1-D 16 kHz signal through a defence, same length; the seed
drives a randomised defence (the others ignore it)."""


def process_manifest(
    defend: Defend,
    manifest: str,
    audio_column: str,
    out_dir: str | Path,
    seed_of: Callable[[str], int],
    desc: str,
) -> pd.DataFrame:
    """Write ``defend`` of every file of a test-set manifest to ``out_dir``; returns
    the manifest with ``enhanced_path`` and ``peak_gain`` (below 1 where the output
    was scaled to avoid clipping)."""
    out_dir = Path(out_dir)
    frame = pd.read_csv(manifest, keep_default_na=False)
    if audio_column not in frame.columns:
        raise DataError(f"manifest {manifest} lacks column {audio_column!r}")
    paths, gains = [], []
    id_column = "mix_id" if "mix_id" in frame.columns else "utt_id"
    for key, path in tqdm(
        zip(frame[id_column], frame[audio_column], strict=True),
        total=len(frame),
        desc=desc,
        mininterval=10,
    ):
        audio, rate = read_audio(path)
        if rate != SAMPLE_RATE or audio.shape[0] != 1:
            raise DataError(
                f"{path}: a defence needs 16 kHz mono input, got {rate} Hz x {audio.shape[0]} channels"
            )
        with torch.no_grad():
            out = defend(torch.from_numpy(audio[0]), seed_of(str(key))).numpy()
        peak = float(np.max(np.abs(out))) if out.size else 0.0
        gain = 1.0 if peak < 0.999 else 0.999 / peak
        dest = out_dir / f"{key}.wav"
        write_audio(dest, out * gain, SAMPLE_RATE)
        paths.append(str(dest))
        gains.append(gain)
    return frame.assign(enhanced_path=paths, peak_gain=gains)


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

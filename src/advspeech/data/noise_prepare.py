"""Noise recordings in the DEMAND layout (the real DEMAND or the embedded noises of
:mod:`advspeech.data.noise`): the index of a root and the prepared 16 kHz mono
recordings the mixtures draw from (rule ``prepare_noise``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.core.dsp import to_mono_16k
from advspeech.core.io import DataError, raise_all, read_audio, write_audio
from advspeech.data import NOISE_COLUMNS


def index_demand(
    root: str | Path, environments: Mapping[str, Sequence[str]], channels: Sequence[str]
) -> pd.DataFrame:
    """Index a DEMAND-layout tree. ``environments`` maps a split to its environment folders.

    Raises :class:`DataError` for a missing root, environment folder or channel file, and
    for an environment listed in two splits (the splits' noises must be disjoint).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"DEMAND root {root} does not exist or is not a folder")
    seen: dict[str, str] = {}
    rows = []
    for split, envs in environments.items():
        for env in envs:
            if env in seen and seen[env] != split:
                raise DataError(
                    f"noise environment {env!r} is listed for both {seen[env]!r} and {split!r}: "
                    "the splits' noises must be disjoint"
                )
            seen[env] = split
            folder = root / env
            if not folder.is_dir():
                raise DataError(f"noise environment folder {folder} does not exist")
            for ch in channels:
                path = folder / f"{ch}.wav"
                if not path.is_file():
                    raise DataError(f"noise channel file {path} does not exist")
                rows.append({"noise_env": env, "channel": ch, "split": split, "path": str(path)})
    return pd.DataFrame(rows, columns=["noise_env", "channel", "split", "path"])


def prepare_noise(
    index: pd.DataFrame,
    out_dir: str | Path,
    min_sample_rate: int = SAMPLE_RATE,
    min_seconds: float = 3.0,
) -> pd.DataFrame:
    """Convert each indexed noise file to 16 kHz mono; record what conversion happened.

    One :class:`DataError` names every unreadable, silent or too short (below
    ``min_seconds``, e.g. a file that ends early) noise file: a short noise would be
    a different noise condition, never tiled into one.
    """
    out_dir = Path(out_dir)
    rows, problems = [], []
    for row in tqdm(index.itertuples(index=False), total=len(index), desc="prepare noise"):
        try:
            audio, rate = read_audio(row.path)
            mono = to_mono_16k(audio, rate, source=row.path, min_rate=min_sample_rate)
        except DataError as err:
            problems.append(str(err))
            continue
        if len(mono) < min_seconds * SAMPLE_RATE:
            problems.append(
                f"noise file {row.path} holds {len(mono) / SAMPLE_RATE:.3f} s of audio, "
                f"less than noise.min_seconds = {min_seconds:g} s"
            )
            continue
        if float(np.sqrt(np.mean(mono**2))) < 1e-6:
            problems.append(f"noise file {row.path} is silent")
            continue
        noise_id = f"{row.noise_env}_{row.channel}"
        dest = out_dir / f"{noise_id}.wav"
        write_audio(dest, mono, SAMPLE_RATE)
        rows.append(
            {
                "noise_id": noise_id,
                "noise_env": row.noise_env,
                "channel": row.channel,
                "split": row.split,
                "path": str(dest),
                "n_samples": len(mono),
                "orig_sample_rate": rate,
                "orig_channels": audio.shape[0],
                "resampled": rate != SAMPLE_RATE,
                "mixed_down": audio.shape[0] > 1,
            }
        )
    raise_all(problems, "the noise recordings")
    return pd.DataFrame(rows, columns=NOISE_COLUMNS)

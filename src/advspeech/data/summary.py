"""The data summary (rule ``data_summary``): per split, utterances, speakers, hours,
noise environments and SNRs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from advspeech import SAMPLE_RATE


def _row(stage: str, split: str, frame: pd.DataFrame, detail: str, audio: bool = True) -> dict:
    """One summary row; ``audio``: the manifest lists utterances (hours and speakers)."""
    return {
        "stage": stage,
        "split": split,
        "items": len(frame),
        "hours": frame["n_samples"].sum() / SAMPLE_RATE / 3600 if audio else 0.0,
        "speakers": frame["speaker"].nunique() if audio and "speaker" in frame else 0,
        "detail": detail,
    }


def summarize_data(
    clean_manifests: Sequence[str],
    mix_manifests: Sequence[str],
    noise_manifest: str,
    rir_manifests: Sequence[str],
) -> pd.DataFrame:
    """One row per (stage, split): items, hours, speakers, noise conditions, rooms."""
    rows = []
    for path in clean_manifests:
        m = pd.read_csv(path)
        resampled, mixed = int(m["resampled"].sum()), int(m["mixed_down"].sum())
        rows.append(
            _row("clean", m["split"].iloc[0], m, f"resampled {resampled}, mixed down {mixed}")
        )
    for path in mix_manifests:
        m = pd.read_csv(path)
        noises = " ".join(sorted(m["noise_env"].unique()))
        snrs = " ".join(f"{s:g}" for s in sorted(m["snr_db"].unique()))
        rows.append(_row("mix", m["split"].iloc[0], m, f"noise {noises}; SNR {snrs}"))
    noise = pd.read_csv(noise_manifest)
    for split, m in noise.groupby("split"):
        rows.append(_row("noise", split, m, " ".join(sorted(m["noise_env"].unique()))))
    for path in rir_manifests:
        m = pd.read_csv(path)
        rt60 = m["rt60_s"]
        detail = f"RT60 median {rt60.median():.3f} s, range {rt60.min():.3f}-{rt60.max():.3f} s"
        rows.append(_row("rirs", Path(path).stem, m, detail, audio=False))
    return pd.DataFrame(rows, columns=["stage", "split", "items", "hours", "speakers", "detail"])

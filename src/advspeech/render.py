"""Per-utterance scoring of a system on a test set, and the paper's tables.

Tables are written in three shapes (tools read them, keep them exact):

- ``tableN.csv``: the paper's wide shape, numeric means, first column ``metric``;
- ``tableN_ci.csv``: long form ``system,metric,mean,ci_low,ci_high,n,n_missing``;
- ``tableN.md``: mean [95 % CI] in the paper's layout, with n and missing counts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from advspeech.io import DataError, atomic_path, read_audio, read_csv
from advspeech.metrics import bootstrap_ci, pesq_many, snr, sti, stoi

log = logging.getLogger(__name__)

METRICS = ("PESQ", "STI", "STOI", "SNR")
SCORE_COLUMNS = ["utt_id", "item_id", "pesq", "stoi", "sti", "snr", "missing"]


def score_system(
    manifest: str, degraded_column: str, clean_column: str = "clean_path", processes: int = 1
) -> pd.DataFrame:
    """PESQ, STOI, STI and SNR of every item of a system's output manifest.

    Unscorable items keep NaN in that metric and the reason in ``missing``.
    """
    frame = read_csv(manifest, required=["utt_id", degraded_column, clean_column])
    item = frame["mix_id"] if "mix_id" in frame.columns else frame["utt_id"]
    pairs = []
    for clean_path, deg_path in zip(frame[clean_column], frame[degraded_column], strict=True):
        clean = read_audio(clean_path)[0][0]
        degraded = read_audio(deg_path)[0][0]
        if len(clean) != len(degraded):
            raise DataError(
                f"{deg_path} has {len(degraded)} samples, its reference {clean_path} {len(clean)}"
            )
        pairs.append((clean, degraded))
    pesq_scores = pesq_many(pairs, processes=processes)
    rows = []
    for (clean, degraded), p, utt, key in tqdm(
        zip(pairs, pesq_scores, frame["utt_id"], item, strict=True),
        total=len(pairs),
        desc="score",
        mininterval=10,
    ):
        s_stoi, s_sti, s_snr = stoi(clean, degraded), sti(clean, degraded), snr(clean, degraded)
        reasons = [
            f"{name}: {s.reason}"
            for name, s in (("PESQ", p), ("STOI", s_stoi), ("STI", s_sti), ("SNR", s_snr))
            if s.reason
        ]
        rows.append(
            {
                "utt_id": utt,
                "item_id": key,
                "pesq": p.value,
                "stoi": s_stoi.value,
                "sti": s_sti.value,
                "snr": s_snr.value,
                "missing": "; ".join(reasons),
            }
        )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def quality_table(
    score_files: Mapping[str, str], n_boot: int = 2000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 1-3: rows PESQ/STI/STOI/SNR, one column per system (label -> scores CSV).

    Returns (wide table of means, long table with bootstrap CIs and counts).
    """
    long_rows = []
    for label, path in score_files.items():
        scores = pd.read_csv(path)
        for metric in METRICS:
            values = scores[metric.lower()].to_numpy(dtype=float)
            mean, lo, hi, n = bootstrap_ci(values, n_boot=n_boot, seed=seed)
            long_rows.append(
                {
                    "system": label,
                    "metric": metric,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "n": n,
                    "n_missing": int(len(values) - n),
                }
            )
    long = pd.DataFrame(long_rows)
    wide = long.pivot(index="metric", columns="system", values="mean")
    wide = wide.loc[list(METRICS), list(score_files)].reset_index()
    wide.columns.name = None
    return wide, long


def markdown_table(long: pd.DataFrame, systems: Sequence[str], title: str, note: str = "") -> str:
    """mean [CI] per cell in the paper's layout, plus n per system."""
    lines = [
        f"# {title}",
        "",
        "| metric | " + " | ".join(systems) + " |",
        "|---" * (len(systems) + 1) + "|",
    ]
    for metric in long["metric"].unique():
        cells = []
        for system in systems:
            row = long[(long["system"] == system) & (long["metric"] == metric)].iloc[0]
            cells.append(f"{row['mean']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]")
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    ns = []
    for system in systems:
        rows = long[long["system"] == system]
        ns.append(
            f"{int(rows['n'].min())}"
            + (f" ({int(rows['n_missing'].max())} unscorable)" if rows["n_missing"].max() else "")
        )
    lines.append("| n | " + " | ".join(ns) + " |")
    lines += ["", "Cells: mean [bootstrap 95 % CI]. " + note]
    return "\n".join(lines) + "\n"


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def table_values_finite(wide: pd.DataFrame) -> None:
    """Refuse to write a table whose cells are NaN (a silently wrong table)."""
    numeric = wide.drop(columns=[wide.columns[0]]).to_numpy(dtype=float)
    if not np.isfinite(numeric).all():
        raise DataError(f"table has empty cells (no scorable item for a system):\n{wide}")

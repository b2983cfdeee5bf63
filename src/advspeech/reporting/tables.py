"""The paper's tables from per-item results, with 95 % intervals over voices, then utterances:
speech quality (Tables 1-3), over-the-air robustness (Table 4), benign controls.

Tables are written in three shapes (tools read them, keep them exact):

- ``tableN.csv``: the paper's wide shape, numeric means, first column ``metric``;
- ``tableN_ci.csv``: long form ``system,metric,mean,ci_low,ci_high,n,n_missing,
  n_utterances``;
- ``tableN.md``: mean [95 % CI] in the paper's layout, with n and missing counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from advspeech.core.io import DataError
from advspeech.evaluation.statistics import cluster_bootstrap_ci, rate_ci
from advspeech.reporting.paper import QUALITY_METRICS, TABLE4_ROWS, metric_column


def quality_table(
    score_files: Mapping[str, str], n_boot: int = 2000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 1-3: rows PESQ/STI/STOI/SNR, one column per system (label -> scores CSV).

    Intervals resample utterances (a mixture's noise and SNR variants stay together).
    Returns (wide table of means, long table with bootstrap CIs and counts).
    """
    long_rows = []
    for label, path in score_files.items():
        scores = pd.read_csv(path)
        for metric in QUALITY_METRICS:
            values = scores[metric_column(metric)].to_numpy(dtype=float)
            ci = cluster_bootstrap_ci(values, scores["utt_id"], n_boot=n_boot, seed=seed)
            long_rows.append(
                {
                    "system": label,
                    "metric": metric,
                    "mean": ci.mean,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "n": ci.n,
                    "n_missing": int(len(values) - ci.n),
                    "n_utterances": ci.clusters,
                    "n_voices": ci.voices,
                }
            )
    long = pd.DataFrame(long_rows)
    wide = long.pivot(index="metric", columns="system", values="mean")
    wide = wide.loc[list(QUALITY_METRICS), list(score_files)].reset_index()
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
    lines.append(
        "| n | " + " | ".join(n_cell(long[long["system"] == system]) for system in systems) + " |"
    )
    lines += [
        "",
        "Cells: mean [95 % CI, bootstrap over voices, then utterances; a zero rate: one-sided bound]. "
        + note,
    ]
    return "\n".join(lines) + "\n"


def n_cell(rows: pd.DataFrame) -> str:
    """Items of one system, then each metric that could not score all of them:
    "16; STI 8 (8 unscorable)". Metrics differ (STI needs >= 1 s, PESQ refuses silence),
    so one n for the column would misstate the others."""
    items = int((rows["n"] + rows["n_missing"]).max())
    partial = [
        f"{r.metric} {int(r.n)} ({int(r.n_missing)} unscorable)"
        for r in rows.itertuples()
        if r.n_missing
    ]
    return "; ".join([str(items), *partial])


def table_values_finite(wide: pd.DataFrame) -> None:
    """Refuse to write a table whose cells are NaN (a silently wrong table)."""
    numeric = wide.drop(columns=[wide.columns[0]]).to_numpy(dtype=float)
    if not np.isfinite(numeric).all():
        raise DataError(f"table has empty cells (no scorable item for a system):\n{wide}")


# --- Table 4: over-the-air robustness -------------------------------------------------------


def robustness_table(
    trial_files: Mapping[tuple[str, str, str], str], n_boot: int = 2000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 4 from over-the-air trial files keyed by (attack label, victim label,
    defence label), victim labels ``ASR``/``ASR+AdvT``. RoSA = % of trials decoded exactly
    as the target; WER = the corpus WER (%) of the trials (per-trial WERs weighted by
    reference words). Intervals resample voices, then utterances, and the rooms as a
    crossed factor (a two-way bootstrap). Returns (wide, long with CIs)."""
    long_rows = []
    for (attack, victim, defence), path in trial_files.items():
        trials = pd.read_csv(path)
        for measure in ("RoSA", "WER"):
            # every utterance is played in rooms of one shared set: rooms are a crossed
            # factor, resampled beside voices and utterances (a two-way bootstrap)
            rooms = trials["room_id"]
            if measure == "RoSA":  # a cell without success reports a one-sided bound
                ci = rate_ci(trials["success"].astype(float), trials["utt_id"], n_boot=n_boot,
                             seed=seed, crossed=rooms)  # fmt: skip
            else:
                values = trials["wer"].astype(float).to_numpy()
                words = trials["words"].astype(float) if "words" in trials else None
                ci = cluster_bootstrap_ci(
                    values, trials["utt_id"], n_boot=n_boot, seed=seed, weights=words,
                    crossed=rooms,
                )  # fmt: skip
            long_rows.append(
                {
                    "attack": attack,
                    "row": f"{measure}_{victim}",
                    "system": defence,
                    "mean": ci.mean,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "n": ci.n,
                    "n_utterances": ci.clusters,
                    "n_voices": ci.voices,
                }
            )
    long = pd.DataFrame(long_rows)
    defences = list(dict.fromkeys(d for _, _, d in trial_files))
    attacks = list(dict.fromkeys(a for a, _, _ in trial_files))
    wide = long.pivot_table(index=["attack", "row"], columns="system", values="mean", sort=False)
    order = [(a, r) for a in attacks for r in TABLE4_ROWS]
    wide = wide.reindex(pd.MultiIndex.from_tuples(order, names=["attack", "row"]))[defences]
    wide = wide.reset_index()
    wide.columns.name = None
    return wide, long


def robustness_markdown(long: pd.DataFrame, defences: Sequence[str], title: str) -> str:
    """Table 4 in Markdown: mean [95 % CI] per cell, one column per defence."""
    lines = [f"# {title}", ""]
    for attack in long["attack"].unique():
        lines += [
            f"| {attack} | " + " | ".join(defences) + " |",
            "|---" * (len(defences) + 1) + "|",
        ]
        part = long[long["attack"] == attack]
        for row in TABLE4_ROWS:
            cells = []
            for d in defences:
                r = part[(part["row"] == row) & (part["system"] == d)].iloc[0]
                cells.append(f"{r['mean']:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}]")
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
        n, utts = int(part["n"].min()), int(part["n_utterances"].min())
        lines += [
            "",
            f"n = {n} over-the-air trials of at least {utts} utterances per cell",
            "",
        ]
    lines.append(
        "Cells: percent, mean [95 % CI, bootstrap over voices, then utterances; a zero rate: one-sided bound]."
    )
    return "\n".join(lines) + "\n"


# --- figures -----------------------------------------------------------------------------------


CONTROLS_COLUMNS = [
    "asr",
    "defence",
    "testset",
    "wer",
    "ci_low",
    "ci_high",
    "n",
    "n_utterances",
    "n_voices",
]


def benign_controls_table(
    items: Mapping[tuple[str, str, str], pd.DataFrame], n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Corpus WER (%) per (asr, defence, testset) from per-item WERs
    (``utt_id,words,wer``), with an interval from a bootstrap over voices, then utterances."""
    rows = []
    for (asr, defence, testset), frame in items.items():
        ci = cluster_bootstrap_ci(
            frame["wer"].astype(float),
            frame["utt_id"],
            n_boot=n_boot,
            seed=seed,
            weights=frame["words"].astype(float),
        )
        rows.append(
            {
                "asr": asr,
                "defence": defence,
                "testset": testset,
                "wer": ci.mean,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "n": ci.n,
                "n_utterances": ci.clusters,
                "n_voices": ci.voices,
            }
        )
    return pd.DataFrame(rows, columns=CONTROLS_COLUMNS)


def controls_markdown(table: pd.DataFrame) -> str:
    """One row per defence, one column per (recogniser, test set)."""
    cols = list(dict.fromkeys(zip(table["asr"], table["testset"], strict=True)))
    lines = [
        "# Benign controls: WER (%) on clean and noisy test speech through each defence",
        "",
        "| defence | " + " | ".join(f"{a} {t}" for a, t in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for defence, part in table.groupby("defence", sort=False):
        cells = []
        for asr, testset in cols:
            r = part[(part["asr"] == asr) & (part["testset"] == testset)].iloc[0]
            cells.append(f"{r['wer']:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}]")
        lines.append(f"| {defence} | " + " | ".join(cells) + " |")
    n = table.groupby("testset")["n"].max().to_dict()
    lines += [
        "",
        "Cells: corpus WER, [95 % CI, bootstrap over voices, then utterances; a zero rate: one-sided bound]; items: "
        + ", ".join(f"{t} {k}" for t, k in n.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"

"""Replicates across seeds: the paper's tables and claims of several runs that differ
only in ``seed`` (every voice, sentence, noise recording, room and training draw),
side by side. A cell's spread over seeds is the variance that one run's intervals,
which resample the utterances of that run, do not show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from advspeech.core.io import DataError, atomic_path

# across-seed verdicts of a claim
HOLDS_EVERYWHERE = "holds in every seed"
CONTRADICTED_EVERYWHERE = "contradicted in every seed"
NOT_SHOWN_EVERYWHERE = "not shown in every seed"
MIXED = "mixed"
UNTESTABLE = "untestable"
EVERYWHERE = {
    "holds": HOLDS_EVERYWHERE,
    "contradicted": CONTRADICTED_EVERYWHERE,
    "not_shown": NOT_SHOWN_EVERYWHERE,
    "untestable": UNTESTABLE,
}

# The cells the replicate figure shows: (table, row labels, column) -> label. Row labels
# name the table's label columns in order (Table 4: attack and row; Table 1: metric).
MAIN_CELLS: dict[tuple[str, tuple[str, ...], str], str] = {
    ("controls", ("ds", "none", "clean"), "wer"): "ds clean WER (%)",
    ("controls", ("ds", "none", "noisy"), "wer"): "ds noisy WER (%)",
    ("table4", ("Grad_adv", "RoSA_ASR"), "w/o SE"): "Grad RoSA w/o SE (%)",
    ("table4", ("Grad_adv", "RoSA_ASR"), "SE_DNN"): "Grad RoSA DNN (%)",
    ("table4", ("Grad_adv", "RoSA_ASR"), "SE_U-Net_W"): "Grad RoSA U-Net_W (%)",
    ("table4", ("Grad_adv", "RoSA_ASR"), "SE_U-Net_At"): "Grad RoSA U-Net_At (%)",
    ("table4", ("Grad_adv", "RoSA_ASR+AdvT"), "w/o SE"): "Grad RoSA ds_advt (%)",
    ("table4", ("Evo_adv", "RoSA_ASR"), "w/o SE"): "Evo RoSA w/o SE (%)",
    ("table1", ("PESQ",), "Noisy_D"): "PESQ Noisy_D",
    ("table1", ("PESQ",), "DNN"): "PESQ DNN",
    ("table1", ("PESQ",), "U-Net_W"): "PESQ U-Net_W",
    ("table1", ("PESQ",), "U-Net_At"): "PESQ U-Net_At",
}


# the columns of a seed's claims.csv the aggregate reads
CLAIM_KEYS = ["claim_id", "artifact", "claim", "paper_value", "our_value", "verdict"]


def seed_column(seed: int) -> str:
    return f"seed_{seed}"


def aggregate_table(
    tables: Mapping[int, pd.DataFrame], labels: Sequence[str], values: Sequence[str] | None = None
) -> pd.DataFrame:
    """One table of every seed (wide, label columns ``labels``) -> one row per cell:
    the labels, ``column``, ``mean``, ``min``, ``max``, ``n_seeds`` (seeds with a
    finite value) and the value of each seed (``seed_<S>``). ``values`` restricts the
    value columns (default: every column that is not a label). A cell missing from a
    seed's table is an error naming the seed, so replicates of different configs
    cannot be averaged by accident."""
    if not tables:
        raise DataError("no replicate tables to aggregate")
    long = []
    reference = None
    for seed, table in tables.items():
        missing = [c for c in labels if c not in table.columns]
        if missing:
            raise DataError(f"replicate seed {seed}: its table lacks label columns {missing}")
        cols = list(values) if values is not None else [c for c in table if c not in labels]
        melted = table.melt(id_vars=list(labels), value_vars=cols, var_name="column")
        cells = set(map(tuple, melted[[*labels, "column"]].astype(str).to_numpy()))
        if reference is None:
            reference = cells
        elif cells != reference:
            raise DataError(
                f"replicate seed {seed}: its cells differ from the first seed's "
                f"({len(cells ^ reference)} cells in one table only): were they built "
                "with the same config?"
            )
        long.append(melted.assign(seed=seed_column(seed)))
    frame = pd.concat(long, ignore_index=True)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    wide = frame.pivot_table(
        index=[*labels, "column"], columns="seed", values="value", sort=False, dropna=False
    )
    per_seed = [seed_column(s) for s in tables]
    wide = wide.reindex(columns=per_seed)
    out = pd.DataFrame(
        {
            "mean": wide.mean(axis=1),
            "min": wide.min(axis=1),
            "max": wide.max(axis=1),
            "n_seeds": wide.notna().sum(axis=1),
        }
    )
    return pd.concat([out, wide], axis=1).reset_index().rename_axis(columns=None)


def across_seed_verdict(verdicts: Sequence[str]) -> str:
    """A claim's verdict over seeds: the same verdict in every seed (holds, contradicted,
    not shown, untestable), else mixed (also when it is untestable in some seeds only:
    what the other seeds say is not a replicated result)."""
    kinds = set(verdicts)
    if len(kinds) == 1 and next(iter(kinds)) in EVERYWHERE:
        return EVERYWHERE[next(iter(kinds))]
    return MIXED


def aggregate_claims(claims: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """Every seed's claims.csv -> one row per claim: its text, the paper's value, each
    seed's verdict and measured value, ``n_holds`` of ``n_seeds`` and the across-seed
    verdict (:func:`across_seed_verdict`). A claim absent from a seed counts as
    untestable there."""
    ids: list[str] = []
    for frame in claims.values():
        ids += [c for c in frame["claim_id"] if c not in ids]
    rows = []
    for claim_id in ids:
        row: dict[str, object] = {"claim_id": claim_id}
        verdicts = []
        for seed, frame in claims.items():
            match = frame[frame["claim_id"] == claim_id]
            if match.empty:
                verdict, value = "untestable", ""
            else:
                first = match.iloc[0]
                for key in ("artifact", "claim", "paper_value"):
                    row.setdefault(key, first[key])
                verdict, value = str(first["verdict"]), first["our_value"]
            verdicts.append(verdict)
            row[f"verdict_{seed_column(seed)}"] = verdict
            row[f"value_{seed_column(seed)}"] = value
        row["n_holds"] = verdicts.count("holds")
        row["n_seeds"] = len(verdicts)
        row["across_seeds"] = across_seed_verdict(verdicts)
        rows.append(row)
    lead = ["claim_id", "artifact", "claim", "paper_value", "across_seeds", "n_holds", "n_seeds"]
    frame = pd.DataFrame(rows)
    return frame[lead + [c for c in frame if c not in lead]]


def main_cells(aggregates: Mapping[str, pd.DataFrame], labels: Mapping[str, Sequence[str]]):
    """The rows of :data:`MAIN_CELLS` found in the aggregated tables, as (label, row)."""
    found = []
    for (table, row_labels, column), label in MAIN_CELLS.items():
        frame = aggregates.get(table)
        if frame is None:
            continue
        hit = frame["column"].astype(str) == column
        for name, value in zip(labels[table], row_labels, strict=True):
            hit &= frame[name].astype(str) == value
        if hit.any():
            found.append((label, frame[hit].iloc[0]))
    return found


def replicate_figure(cells, seeds: Sequence[int], path: str | Path, title: str) -> None:
    """Per-seed values of the main cells (one marker per seed, a bar at the mean):
    percentages in one panel, PESQ in the other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        [(label, row) for label, row in cells if "PESQ" not in label],
        [(label, row) for label, row in cells if "PESQ" in label],
    ]
    panels = [p for p in panels if p]
    if not panels:
        raise DataError("none of the replicate figure's cells is in the aggregated tables")
    widths = [max(len(p), 2) for p in panels]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(0.6 * sum(widths) + 3, 4.5), width_ratios=widths, squeeze=False
    )
    markers = "osD^v<>ph*"
    for ax, panel in zip(axes[0], panels, strict=True):
        x = np.arange(len(panel))
        for k, seed in enumerate(seeds):
            values = [row[seed_column(seed)] for _, row in panel]
            ax.scatter(x, values, marker=markers[k % len(markers)], label=f"seed {seed}", zorder=3)
        ax.hlines([row["mean"] for _, row in panel], x - 0.3, x + 0.3, colors="k", label="mean")
        ax.set_xticks(x, [label for label, _ in panel], rotation=60, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def replicates_markdown(cells, claims: pd.DataFrame, seeds: Sequence[int]) -> str:
    """The replicates' summary: the main cells per seed (mean, min-max) and the claims
    by across-seed verdict."""
    head = "| cell | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | min-max |"
    lines = [f"# Replicates over {len(seeds)} seeds", "", "## Main cells", "", head]
    lines.append("|" + "---|" * (len(seeds) + 3))
    for label, row in cells:
        values = " | ".join(f"{row[seed_column(s)]:.3g}" for s in seeds)
        lines.append(
            f"| {label} | {values} | {row['mean']:.3g} | {row['min']:.3g}-{row['max']:.3g} |"
        )
    lines += ["", "## Claims across seeds", ""]
    for verdict in (
        HOLDS_EVERYWHERE,
        MIXED,
        CONTRADICTED_EVERYWHERE,
        NOT_SHOWN_EVERYWHERE,
        UNTESTABLE,
    ):
        ids = claims.loc[claims["across_seeds"] == verdict, "claim_id"].tolist()
        lines.append(f"- {verdict}: {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))
    return "\n".join(lines) + "\n"

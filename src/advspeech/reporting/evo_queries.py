"""Success of the black-box attack against its query budget, beyond the paper
(``results/evo_queries.csv`` and ``results/fig_evo_queries.png``).

Three attackers, each scored over the air against the victim in the held-out test rooms:

- ``transfer``: the surrogate's own white-box example (``grad`` against the recogniser
  the attacker trained itself), played to the victim as it is: 0 victim queries;
- ``noprior``: the waveform search with queries only, at each budget;
- ``prior``: the waveform search started from the transfer example and guided by the
  surrogate's gradient, at each budget.

RoSA is the share of room trials decoded exactly as the target, with a cluster-bootstrap
interval over voices, then utterances; ``digital`` is the share of examples that decode as
the target without a room; ``queries_used`` the mean victim queries an example spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from advspeech.core.io import atomic_path
from advspeech.reporting.budget import attacked_trials_rosa

EVO_QUERIES_COLUMNS = [
    "variant",
    "asr",
    "queries",
    "rosa",
    "rosa_low",
    "rosa_high",
    "digital",
    "snr_db",
    "n_utterances",
    "n_voices",
    "queries_used",
]
VARIANT_LABELS = {
    "transfer": "transfer only (surrogate's example, no query)",
    "noprior": "waveform search, queries only",
    "prior": "waveform search with the surrogate prior",
}


@dataclass(frozen=True)
class QueryCell:
    """One point: an attacker variant at a query budget, its manifest and its trials."""

    variant: str
    queries: int
    manifest: str
    trials: str


def evo_queries_table(
    cells: Sequence[QueryCell], asr: str = "ds", n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """:data:`EVO_QUERIES_COLUMNS`, one row per cell, in the cells' order."""
    rows = []
    for cell in cells:
        attacked, _, rosa = attacked_trials_rosa(cell.manifest, cell.trials, n_boot, seed)
        digital = attacked["success_digital"].astype(str).str.lower() == "true"
        # the transfer example spent no victim query (its queries were the surrogate's)
        used = (
            0.0 if cell.variant == "transfer" else float(pd.to_numeric(attacked["queries"]).mean())
        )
        rows.append(
            {
                "variant": cell.variant,
                "asr": asr,
                "queries": cell.queries,
                "rosa": rosa.mean,
                "rosa_low": rosa.low,
                "rosa_high": rosa.high,
                "digital": 100.0 * float(digital.mean()),
                "snr_db": float(pd.to_numeric(attacked["snr_db"]).mean()),
                "n_utterances": rosa.clusters,
                "n_voices": rosa.voices,
                "queries_used": used,
            }
        )
    return pd.DataFrame(rows, columns=EVO_QUERIES_COLUMNS)


def evo_queries_figure(table: pd.DataFrame, path: str | Path) -> None:
    """RoSA (with its interval) against the victim queries per example, one line per
    variant; the transfer example is the point at 0 queries, and a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for variant, line in table.groupby("variant", sort=False):
        line = line.sort_values("queries")
        err = np.vstack([line["rosa"] - line["rosa_low"], line["rosa_high"] - line["rosa"]])
        label = VARIANT_LABELS.get(variant, variant)
        bars = ax.errorbar(
            line["queries"], line["rosa"], yerr=err, marker="o", capsize=3, label=label
        )
        if variant == "transfer":
            ax.axhline(float(line["rosa"].iloc[0]), ls="--", lw=1, color=bars[0].get_color())
    ax.set_xlabel("victim queries per example (budget)")
    ax.set_ylabel(f"RoSA against {table['asr'].iloc[0]}, held-out test rooms (%)")
    ax.set_ylim(-5, 105)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Black-box success against queries (95 % CI over voices, then utterances)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)

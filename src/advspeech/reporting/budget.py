"""The perturbation budget, beyond the paper: attack success against the SNR budget (one
row per (attack, defence, SNR budget) from the budget sweep's over-the-air trials, and
its figure), and examples that show and play what a budget means.

RoSA is the share of room trials decoded exactly as the target, with a cluster-bootstrap
interval over voices, then utterances (each utterance carries all its room trials); the measured SNR
is the mean over the attacked utterances of their files' SNR against the clean input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from advspeech.core.dsp import snr_db
from advspeech.core.io import DataError, atomic_path, read_audio
from advspeech.evaluation.statistics import rate_ci

BUDGET_COLUMNS = [
    "attack",
    "asr",
    "defence",
    "snr_db_budget",
    "snr_db_measured",
    "rosa",
    "rosa_low",
    "rosa_high",
    "wer",
    "n_utterances",
    "n_voices",
]


@dataclass(frozen=True)
class BudgetCell:
    """One point of the sweep: the attack's manifest at a budget and the trials of its
    examples through one defence ("none" = the bare recogniser)."""

    attack: str
    defence: str
    snr_db_budget: float
    manifest: str
    trials: str


def attacked_trials_rosa(manifest: str, trials: str, n_boot: int, seed: int):
    """An attack cell's attacked rows (skipped utterances left out), its over-the-air
    trials and their RoSA with its interval over voices, then utterances."""
    frame = pd.read_csv(manifest, keep_default_na=False)
    attacked = frame[frame["skipped"].astype(str) == ""]
    played = pd.read_csv(trials, keep_default_na=False)
    rosa = rate_ci(
        played["success"].astype(float).to_numpy(),
        played["utt_id"],
        n_boot=n_boot,
        seed=seed,
        crossed=played["room_id"],
    )
    return attacked, played, rosa


def budget_table(
    cells: Sequence[BudgetCell], asr: str = "ds", n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """:data:`BUDGET_COLUMNS`, one row per cell, in the cells' order."""
    rows = []
    for cell in cells:
        attacked, trials, rosa = attacked_trials_rosa(cell.manifest, cell.trials, n_boot, seed)
        rows.append(
            {
                "attack": cell.attack,
                "asr": asr,
                "defence": cell.defence,
                "snr_db_budget": cell.snr_db_budget,
                "snr_db_measured": float(pd.to_numeric(attacked["snr_db"]).mean()),
                "rosa": rosa.mean,
                "rosa_low": rosa.low,
                "rosa_high": rosa.high,
                "wer": float(trials["wer"].astype(float).mean()),
                "n_utterances": rosa.clusters,
                "n_voices": rosa.voices,
            }
        )
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)


def budget_figure(table: pd.DataFrame, path: str | Path) -> None:
    """RoSA (with its interval) against the SNR budget, one panel per attack, one line
    per defence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    attacks = list(dict.fromkeys(table["attack"]))
    fig, axes = plt.subplots(1, len(attacks), figsize=(5.5 * len(attacks), 4), squeeze=False)
    for ax, attack in zip(axes[0], attacks, strict=True):
        part = table[table["attack"] == attack]
        for k, (defence, line) in enumerate(part.groupby("defence", sort=False)):
            line = line.sort_values("snr_db_budget")
            x = line["snr_db_budget"].to_numpy() + 0.25 * (k - 1.5)  # keep bars apart
            ax.errorbar(
                x,
                line["rosa"],
                yerr=np.vstack([line["rosa"] - line["rosa_low"], line["rosa_high"] - line["rosa"]]),
                marker="o",
                capsize=3,
                label=defence,
            )
        ax.set_title(f"{attack} against {part['asr'].iloc[0]}")
        ax.set_xlabel("SNR budget (dB; quieter perturbation to the right)")
        ax.set_ylabel("RoSA over held-out test rooms (%)")
        ax.set_ylim(-5, 105)
        ax.grid(alpha=0.3)
        ax.legend(title="defence", fontsize=8)
    fig.suptitle(
        "Over-the-air success against the perturbation budget (95 % CI over voices, then utterances)"
    )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def perturbation_panels(manifests: dict[str, str], per_attack: int) -> dict[str, np.ndarray]:
    """For each attack (label -> attack manifest), its first ``per_attack`` attacked
    utterances (exact target digitally first, then by id): the clean utterance, the
    adversarial file and the perturbation (their difference), three panels a row."""
    panels = {}
    for attack, path in manifests.items():
        frame = pd.read_csv(path, keep_default_na=False)
        frame = frame[frame["skipped"].astype(str) == ""]
        if frame.empty:
            raise DataError(f"{path}: no attacked utterance to show")
        frame = frame.sort_values(["success_digital", "utt_id"], ascending=[False, True])
        for row in frame.head(per_attack).itertuples(index=False):
            clean = read_audio(row.clean_path)[0][0]
            adversarial = read_audio(row.adv_path)[0][0]
            hit = "target decoded" if row.success_digital else "target missed"
            name = f"{attack} {row.utt_id}"
            panels[f"{name}: clean"] = clean
            panels[f"{name}: adversarial ({hit})"] = adversarial
            panels[f"{name}: perturbation, SNR {snr_db(clean, adversarial):.1f} dB"] = (
                adversarial - clean
            )
    return panels

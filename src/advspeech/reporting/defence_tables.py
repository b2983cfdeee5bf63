"""Every defence in one table (beyond the paper): the SE models and the input
transformations, each with the over-the-air success of the attacks through it, its
benign cost and what it does to speech, and each under the adaptive attacker.

- :func:`defence_table`: one row per defence: RoSA and WER of every attack over the
  held-out test rooms (Table 4's protocol, against ``ds``), clean and noisy test WER
  through the defence (the benign cost), PESQ/STOI of defended clean and noisy speech
  against the clean reference, with 95 % intervals over voices, then utterances.
- :func:`adaptive_table`: how quiet the adaptive grad attacker can be through each
  defence (BPDA for MP3 and quantisation, EOT for the randomised one).
The claims that compare them are :mod:`advspeech.evaluation.claims.defences`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from advspeech.core.io import atomic_path
from advspeech.evaluation.quietest import quietest_full_success, quietest_success, tasr_curve
from advspeech.evaluation.statistics import cluster_bootstrap_ci, rate_ci


def _interval(values: pd.Series, utts: pd.Series, seed: int, weights=None) -> tuple:
    ci = cluster_bootstrap_ci(values.to_numpy(float), utts, seed=seed, weights=weights)
    return ci.mean, ci.low, ci.high


def defence_table(
    defences: Sequence[str],
    kinds: Mapping[str, str],
    trials: Mapping[tuple[str, str], pd.DataFrame],
    controls: Mapping[tuple[str, str], pd.DataFrame],
    scores: Mapping[tuple[str, str], pd.DataFrame],
    attacks: Sequence[str],
    seed: int = 0,
) -> pd.DataFrame:
    """One row per defence (``trials[(attack, defence)]``: over-the-air trials;
    ``controls[(defence, testset)]``: per-item benign WER; ``scores[(defence,
    testset)]``: per-item quality against the clean reference; test sets clean and
    noisy)."""
    rows = []
    for defence in defences:
        row: dict = {"defence": defence, "kind": kinds[defence]}
        for attack in attacks:
            t = trials[(attack, defence)]
            ci = rate_ci(t["success"].astype(float), t["utt_id"], seed=seed, crossed=t["room_id"])
            rosa = (ci.mean, ci.low, ci.high)
            row |= dict(
                zip(
                    [f"{attack}_rosa", f"{attack}_rosa_low", f"{attack}_rosa_high"],
                    rosa,
                    strict=True,
                )
            )
            row[f"{attack}_wer"] = float(t["wer"].mean())
            row[f"{attack}_n_utterances"] = int(t["utt_id"].nunique())
        for testset in ("clean", "noisy"):
            c = controls[(defence, testset)]
            wer = _interval(c["wer"], c["utt_id"], seed, weights=c["words"].to_numpy(float))
            row |= dict(
                zip(
                    [f"{testset}_wer", f"{testset}_wer_low", f"{testset}_wer_high"],
                    wer,
                    strict=True,
                )
            )
            s = scores[(defence, testset)]
            for metric in ("pesq", "stoi"):
                row[f"{testset}_{metric}"] = float(pd.to_numeric(s[metric]).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def adaptive_table(
    sweeps: Mapping[str, pd.DataFrame], seed: int = 0, step_db: float | None = None
) -> pd.DataFrame:
    """Per defence: how quiet the adaptive attacker can be through it. The mean over
    utterances of the quietest successful SNR budget (dB; censored at the search's
    ceiling and one step below its floor) with a 95 % interval over voices, then
    utterances; the quietest budget at which every utterance succeeds; how many never
    succeeded and how many succeeded at the ceiling."""
    rows = []
    for defence, frame in sweeps.items():
        quietest = quietest_success(frame, step_db)
        ci = cluster_bootstrap_ci(quietest["quietest_db"].to_numpy(float), quietest["utt_id"],
                                  seed=seed)  # fmt: skip
        rows.append(
            {
                "defence": defence,
                "quietest_db": ci.mean,
                "quietest_low": ci.low,
                "quietest_high": ci.high,
                "full_success_db": quietest_full_success(frame, step_db),
                "never": int((quietest["censored"] == "below").sum()),
                "at_ceiling": int((quietest["censored"] == "above").sum()),
                "n_utterances": ci.clusters,
                "n_voices": ci.voices,
            }
        )
    return pd.DataFrame(rows)


def defence_markdown(table: pd.DataFrame, attacks: Sequence[str]) -> str:
    """The defence table in Markdown: mean [95 % CI] per cell."""
    head = ["defence", "kind"] + [f"{a} RoSA %" for a in attacks]
    head += ["clean WER %", "noisy WER %", "PESQ clean", "STOI clean", "PESQ noisy", "STOI noisy"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.to_dict("records"):
        cells = [r["defence"], r["kind"]]
        cells += [_cell(r, f"{a}_rosa") for a in attacks]
        cells += [_cell(r, "clean_wer"), _cell(r, "noisy_wer")]
        cells += [f"{r[k]:.2f}" for k in ("clean_pesq", "clean_stoi", "noisy_pesq", "noisy_stoi")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "RoSA: over-the-air success against ds in the held-out test rooms (Table 4's "
        "protocol); WER: corpus WER of ds through the defence; PESQ/STOI against the "
        "clean reference. Intervals: 95 %, bootstrap over voices, then utterances.",
    ]
    return "\n".join(lines) + "\n"


def _cell(row: dict, key: str) -> str:
    return f"{row[key]:.1f} [{row[key + '_low']:.1f}, {row[key + '_high']:.1f}]"


def defence_figure(table: pd.DataFrame, attacks: Sequence[str], path: str | Path) -> None:
    """RoSA against the clean-WER cost (WER through the defence minus without), one
    point per defence and attack, with the RoSA interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = float(table.loc[table["defence"] == "none", "clean_wer"].iloc[0])
    fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
    for attack, marker in zip(attacks, "os^v", strict=False):
        cost = table["clean_wer"] - base
        rosa = table[f"{attack}_rosa"]
        err = np.vstack([rosa - table[f"{attack}_rosa_low"], table[f"{attack}_rosa_high"] - rosa])
        ax.errorbar(cost, rosa, yerr=err, fmt=marker, capsize=3, label=attack)
        if attack != attacks[0]:
            continue  # one label per defence
        for x, y, name in zip(cost, rosa, table["defence"], strict=True):
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set_xlabel("clean WER cost of the defence (points over no defence)")
    ax.set_ylabel("over-the-air RoSA against ds (%)")
    ax.set_title("Defences: attack success against benign cost")
    ax.legend()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def adaptive_figure(sweeps: Mapping[str, pd.DataFrame], path: str | Path) -> None:
    """TASR of the adaptive grad attacker against the SNR budget (the share of utterances
    whose quietest success is at least that quiet), one line per defence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
    for defence, frame in sweeps.items():
        curve = tasr_curve(frame)
        ax.step(curve["snr_db_budget"], curve["tasr"], where="post", label=defence)
    ax.set_xlabel("SNR budget (dB; higher = quieter perturbation)")
    ax.set_ylabel("adaptive TASR (%)")
    ax.set_title("Adaptive grad attacker through each defence")
    ax.legend(fontsize=7)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)

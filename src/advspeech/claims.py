"""The paper's claims, checked against our per-utterance results.

A claim compares systems on the *same* items (mixtures, adversarial examples, room
trials), so each comparison "a > b" is a paired test: the mean of the per-item
differences a - b with a cluster-bootstrap 95 % interval over utterances (an
utterance's noises, SNRs and rooms are resampled together), and it holds when that
interval lies above 0. Overlapping marginal intervals decide nothing. A claim over
several comparisons holds when every one does. Output columns:
``claim_id,artifact,claim,paper_value,our_value,holds``; ``our_value`` gives each
difference as ``+d [low, high]`` (three decimals: STOI effects are a few thousandths).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from advspeech.metrics import Interval, paired_difference_ci

# fewer utterances than this cannot carry a paired claim about a whole test set
MIN_UTTERANCES = 8
# a defence "keeps clean WER" when its paired increase over no defence is below this,
# upper interval end included (a non-inferiority margin, in WER points)
CLEAN_WER_MARGIN = 2.0


@dataclass(frozen=True)
class Comparison:
    """a - b over the shared items, by utterance-level bootstrap."""

    label: str
    diff: Interval

    @property
    def greater(self) -> bool:
        return bool(self.diff.clusters >= MIN_UTTERANCES and self.diff.low > 0)

    def __str__(self) -> str:
        d = self.diff
        return (
            f"{self.label}: {d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}] "
            f"({d.n} items, {d.clusters} utt)"
        )


def compare(
    a: pd.DataFrame, b: pd.DataFrame, value: str, keys: list[str], label: str, seed: int = 0
) -> Comparison:
    """Paired comparison of column ``value`` of two per-item frames joined on ``keys``
    (``utt_id`` among them: the cluster)."""
    joined = a[keys + [value]].merge(b[keys + [value]], on=keys, suffixes=("_a", "_b"))
    diff = paired_difference_ci(
        joined[f"{value}_a"].astype(float),
        joined[f"{value}_b"].astype(float),
        joined["utt_id"],
        seed=seed,
    )
    return Comparison(label, diff)


PAPER = {
    "table1": {
        "Noisy_D": {"PESQ": 1.97, "STI": 0.65, "STOI": 0.82, "SNR": -1.63},
        "DNN": {"PESQ": 2.62, "STI": 0.73, "STOI": 0.90, "SNR": 7.67},
        "U-Net_W": {"PESQ": 2.86, "STI": 0.81, "STOI": 0.93, "SNR": 9.83},
        "U-Net_At": {"PESQ": 2.88, "STI": 0.81, "STOI": 0.92, "SNR": 9.85},
    },
    "table2": {
        "Noisy_adv": {"PESQ": 1.31, "STI": 0.67, "STOI": 0.84, "SNR": -1.52},
        "DNN": {"PESQ": 1.21, "STI": 0.66, "STOI": 0.81, "SNR": 7.23},
        "U-Net_W": {"PESQ": 1.16, "STI": 0.62, "STOI": 0.80, "SNR": 7.43},
        "U-Net_At": {"PESQ": 1.18, "STI": 0.64, "STOI": 0.81, "SNR": 7.68},
    },
    "table3": {
        "Noisy_adv": {"PESQ": 1.31, "STI": 0.67, "STOI": 0.84, "SNR": -1.52},
        "DNN_T": {"PESQ": 2.55, "STI": 0.69, "STOI": 0.86, "SNR": 7.45},
        "U-Net_T_W": {"PESQ": 2.72, "STI": 0.72, "STOI": 0.88, "SNR": 7.67},
        "U-Net_T_At": {"PESQ": 2.78, "STI": 0.75, "STOI": 0.90, "SNR": 7.92},
    },
    # RoSA / WER (%), columns w/o SE, SE_DNN, SE_U-Net_W, SE_U-Net_At
    "table4": {
        "Grad_adv": {
            "RoSA_ASR": [90.23, 84.86, 83.43, 83.11],
            "RoSA_ASR+AdvT": [27.34, 22.21, 19.29, 18.23],
            "WER_ASR": [85.90, 72.97, 67.46, 66.12],
            "WER_ASR+AdvT": [19.37, 18.92, 17.64, 17.15],
        },
        "Evo_adv": {
            "RoSA_ASR": [91.21, 85.67, 82.03, 79.35],
            "RoSA_ASR+AdvT": [20.47, 18.45, 17.81, 16.14],
            "WER_ASR": [87.90, 83.12, 79.20, 71.12],
            "WER_ASR+AdvT": [19.45, 19.42, 18.44, 17.42],
        },
    },
    # SNR (dB) at which the adaptive attacker reaches 100 % TASR
    "fig3": {"grad": {"none": 7.63, "defended": -2.23}, "evo": {"none": 7.82, "defended": -3.21}},
}
SE_COLUMNS = ["w/o SE", "SE_DNN", "SE_U-Net_W", "SE_U-Net_At"]
SCORE_KEYS = ["utt_id", "item_id"]
TRIAL_KEYS = ["utt_id", "room_id"]


def check_claims(
    quality: Mapping[str, Mapping[str, pd.DataFrame]],
    trials: Mapping[tuple[str, str, str], pd.DataFrame],
    adaptive: Mapping[tuple[str, str], pd.DataFrame],
    controls: Mapping[tuple[str, str, str], pd.DataFrame],
    seed: int = 0,
) -> pd.DataFrame:
    """All claims from per-item results:

    - ``quality[table][label]``: per-item scores of Tables 1-3 (``utt_id,item_id,pesq,...``);
    - ``trials[(attack, victim, defence)]``: Table 4's over-the-air trials
      (``utt_id,room_id,success,wer``), labels as in the paper;
    - ``adaptive[(attack, defence)]``: Fig. 3's sweeps (``snr_db_budget,utt_id,success,skipped``),
      defence ``none`` and the defended one;
    - ``controls[(asr, defence, testset)]``: benign per-item WER (``utt_id,item_id,wer``).
    """
    rows: list[dict] = []

    def add(claim_id, artifact, claim, paper_value, comparisons, holds=None):
        rows.append(
            {
                "claim_id": claim_id,
                "artifact": artifact,
                "claim": claim,
                "paper_value": paper_value,
                "our_value": "; ".join(str(c) for c in comparisons),
                "holds": bool(all(c.greater for c in comparisons) if holds is None else holds),
            }
        )

    def q(table, a, b, metric):
        t = quality[table]
        return compare(t[a], t[b], metric.lower(), SCORE_KEYS, f"{a} - {b}", seed)

    se1 = ["DNN", "U-Net_W", "U-Net_At"]
    for metric in ("PESQ", "STI", "STOI", "SNR"):
        add(
            f"T1-{metric}",
            "table1",
            f"every SE model raises {metric} over the noisy input (Noisy_D)",
            _paper_quality("table1", "Noisy_D", se1, metric),
            [q("table1", s, "Noisy_D", metric) for s in se1],
        )
    add(
        "T1-UNET-PESQ",
        "table1",
        "both U-Nets score higher PESQ than the DNN on noisy speech",
        _paper_quality("table1", "DNN", ["U-Net_W", "U-Net_At"], "PESQ"),
        [q("table1", s, "DNN", "PESQ") for s in ("U-Net_W", "U-Net_At")],
    )
    add(
        "T2-SNR",
        "table2",
        "noisy-trained SE raises the SNR of adversarial examples",
        _paper_quality("table2", "Noisy_adv", se1, "SNR"),
        [q("table2", s, "Noisy_adv", "SNR") for s in se1],
    )
    for metric in ("PESQ", "STOI", "STI"):
        add(
            f"T2-{metric}",
            "table2",
            f"noisy-trained SE lowers {metric} of adversarial examples",
            _paper_quality("table2", "Noisy_adv", se1, metric),
            [q("table2", "Noisy_adv", s, metric) for s in se1],
        )
    twins = {"DNN_T": "DNN", "U-Net_T_W": "U-Net_W", "U-Net_T_At": "U-Net_At"}
    for metric in ("PESQ", "STOI"):
        add(
            f"T3-TWIN-{metric}",
            "table3",
            f"each adversarially trained SE model beats its noisy-trained twin on {metric} "
            "of adversarial examples",
            "; ".join(
                f"{t}: {PAPER['table3'][t][metric]:.2f} vs {PAPER['table2'][n][metric]:.2f}"
                for t, n in twins.items()
            ),
            [
                compare(
                    quality["table3"][t],
                    quality["table2"][n],
                    metric.lower(),
                    SCORE_KEYS,
                    f"{t} - {n}",
                    seed,
                )
                for t, n in twins.items()
            ],
        )
    add(
        "T3-PESQ",
        "table3",
        "adversarially trained SE raises PESQ of adversarial examples over Noisy_adv",
        _paper_quality("table3", "Noisy_adv", list(twins), "PESQ"),
        [q("table3", t, "Noisy_adv", "PESQ") for t in twins],
    )

    def t4(attack, victim, a, b, measure):
        column = "success" if measure == "RoSA" else "wer"
        scale = 100.0 if measure == "RoSA" else 1.0
        fa = trials[(attack, victim[0], a)].assign(v=lambda d: scale * d[column].astype(float))
        fb = trials[(attack, victim[1], b)].assign(v=lambda d: scale * d[column].astype(float))
        label = f"{a} - {b}" if victim[0] == victim[1] else f"{victim[0]} - {victim[1]}"
        return compare(fa, fb, "v", TRIAL_KEYS, label, seed)

    plain, twin = ("ASR", "ASR"), ("ASR", "ASR+AdvT")
    for attack, paper in PAPER["table4"].items():
        no_se, with_se = SE_COLUMNS[0], SE_COLUMNS[1:]
        add(
            f"T4-{attack}-SE-ROSA",
            "table4",
            f"{attack}: every AdvT SE model lowers RoSA of the undefended recogniser",
            _paper_row(paper["RoSA_ASR"]),
            [t4(attack, plain, no_se, s, "RoSA") for s in with_se],
        )
        add(
            f"T4-{attack}-UNETAT-LOWEST",
            "table4",
            f"{attack}: U-Net_At gives the lowest RoSA of the SE models",
            _paper_row(paper["RoSA_ASR"]),
            [t4(attack, plain, s, "SE_U-Net_At", "RoSA") for s in ("SE_DNN", "SE_U-Net_W")],
        )
        for measure in ("RoSA", "WER"):
            add(
                f"T4-{attack}-ADVT-{measure}",
                "table4",
                f"{attack}: adversarial training of the recogniser lowers {measure} (w/o SE)",
                f"{paper[measure + '_ASR'][0]:.2f} -> {paper[measure + '_ASR+AdvT'][0]:.2f}",
                [t4(attack, twin, no_se, no_se, measure)],
            )
    for attack, paper in PAPER["fig3"].items():
        sweeps = {d: f for (a, d), f in adaptive.items() if a == attack}
        if "none" not in sweeps or len(sweeps) < 2:
            continue
        defended = next(d for d in sweeps if d != "none")
        frames = {
            d: sweeps[d][sweeps[d]["skipped"].fillna("").astype(str) == ""].assign(
                v=lambda f: 100.0 * f["success"].astype(float), item_id=lambda f: f["snr_db_budget"]
            )
            for d in ("none", defended)
        }
        add(
            f"F3-{attack.upper()}",
            "fig3",
            f"{attack}: at the same budgets the adaptive attacker succeeds less often "
            f"through {defended} than against the bare recogniser (TASR, paired)",
            f"100 % TASR at {paper['none']:.2f} dB without, {paper['defended']:.2f} dB with",
            [
                compare(
                    frames["none"],
                    frames[defended],
                    "v",
                    ["utt_id", "item_id"],
                    f"none - {defended}",
                    seed,
                )
            ],
        )
    for (asr, defence, testset), frame in sorted(controls.items()):
        if defence == "none" or asr != "ds" or testset != "clean":
            continue
        diff = compare(
            frame, controls[(asr, "none", testset)], "wer", SCORE_KEYS, f"{defence} - none", seed
        )
        add(
            f"C-{defence}-CLEAN-WER",
            "controls",
            f"{defence} keeps the clean test WER of {asr} within {CLEAN_WER_MARGIN:g} points "
            "of no defence (upper interval end below the margin)",
            "not reported",
            [diff],
            holds=diff.diff.clusters >= MIN_UTTERANCES and diff.diff.high < CLEAN_WER_MARGIN,
        )
    return pd.DataFrame(
        rows, columns=["claim_id", "artifact", "claim", "paper_value", "our_value", "holds"]
    )


def _paper_quality(table: str, base: str, systems: list[str], metric: str) -> str:
    p = PAPER[table]
    return f"{base} {p[base][metric]:.2f}; " + "; ".join(f"{s} {p[s][metric]:.2f}" for s in systems)


def _paper_row(values: list[float]) -> str:
    return "; ".join(f"{c} {v:.2f}" for c, v in zip(SE_COLUMNS, values, strict=True))

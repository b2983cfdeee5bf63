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

from advspeech.io import unskipped
from advspeech.metrics import Interval, paired_difference_ci
from advspeech.paper import (
    ADVERSARIAL_INPUT,
    ASR_LABELS,
    NOISY_INPUT,
    PAPER,
    QUALITY_METRICS,
    SE_LABELS,
    TABLE4_DEFENCES,
)

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


CLAIM_COLUMNS = ["claim_id", "artifact", "claim", "paper_value", "our_value", "holds"]
SE_COLUMNS = list(TABLE4_DEFENCES)
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

    def quality_claim(claim_id, table, claim, reference, systems, metric, raises=True):
        """Every one of ``systems`` scores ``metric`` above ``reference`` (below it when
        not ``raises``), each a paired comparison on the same items."""
        pairs = [(s, reference) if raises else (reference, s) for s in systems]
        add(
            claim_id,
            table,
            claim,
            _paper_quality(table, reference, systems, metric),
            [q(table, a, b, metric) for a, b in pairs],
        )

    se1 = list(SE_LABELS["noisy"].values())
    unets = [SE_LABELS["noisy"][se] for se in ("waveunet", "unet_at")]
    for metric in QUALITY_METRICS:
        quality_claim(
            f"T1-{metric}",
            "table1",
            f"every SE model raises {metric} over the noisy input ({NOISY_INPUT})",
            NOISY_INPUT,
            se1,
            metric,
        )
    quality_claim(
        "T1-UNET-PESQ",
        "table1",
        "both U-Nets score higher PESQ than the DNN on noisy speech",
        SE_LABELS["noisy"]["dnn"],
        unets,
        "PESQ",
    )
    quality_claim(
        "T2-SNR",
        "table2",
        "noisy-trained SE raises the SNR of adversarial examples",
        ADVERSARIAL_INPUT,
        se1,
        "SNR",
    )
    for metric in ("PESQ", "STOI", "STI"):
        quality_claim(
            f"T2-{metric}",
            "table2",
            f"noisy-trained SE lowers {metric} of adversarial examples",
            ADVERSARIAL_INPUT,
            se1,
            metric,
            raises=False,
        )
    twins = {SE_LABELS["advt"][se]: label for se, label in SE_LABELS["noisy"].items()}
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
        f"adversarially trained SE raises PESQ of adversarial examples over {ADVERSARIAL_INPUT}",
        _paper_quality("table3", ADVERSARIAL_INPUT, list(twins), "PESQ"),
        [q("table3", t, ADVERSARIAL_INPUT, "PESQ") for t in twins],
    )

    def t4(attack, victim, a, b, measure):
        column = "success" if measure == "RoSA" else "wer"
        scale = 100.0 if measure == "RoSA" else 1.0
        fa = trials[(attack, victim[0], a)].assign(v=lambda d: scale * d[column].astype(float))
        fb = trials[(attack, victim[1], b)].assign(v=lambda d: scale * d[column].astype(float))
        label = f"{a} - {b}" if victim[0] == victim[1] else f"{victim[0]} - {victim[1]}"
        return compare(fa, fb, "v", TRIAL_KEYS, label, seed)

    victim, victim_advt = ASR_LABELS["ds"], ASR_LABELS["ds_advt"]
    plain, twin = (victim, victim), (victim, victim_advt)
    for attack, paper in PAPER["table4"].items():
        no_se, with_se = SE_COLUMNS[0], SE_COLUMNS[1:]
        add(
            f"T4-{attack}-SE-ROSA",
            "table4",
            f"{attack}: every AdvT SE model lowers RoSA of the undefended recogniser",
            _paper_row(paper[f"RoSA_{victim}"]),
            [t4(attack, plain, no_se, s, "RoSA") for s in with_se],
        )
        add(
            f"T4-{attack}-UNETAT-LOWEST",
            "table4",
            f"{attack}: U-Net_At gives the lowest RoSA of the SE models",
            _paper_row(paper[f"RoSA_{victim}"]),
            [t4(attack, plain, s, with_se[-1], "RoSA") for s in with_se[:-1]],
        )
        for measure in ("RoSA", "WER"):
            add(
                f"T4-{attack}-ADVT-{measure}",
                "table4",
                f"{attack}: adversarial training of the recogniser lowers {measure} (w/o SE)",
                f"{paper[f'{measure}_{victim}'][0]:.2f} -> "
                f"{paper[f'{measure}_{victim_advt}'][0]:.2f}",
                [t4(attack, twin, no_se, no_se, measure)],
            )
    for attack, paper in PAPER["fig3"].items():
        sweeps = {d: f for (a, d), f in adaptive.items() if a == attack}
        if "none" not in sweeps or len(sweeps) < 2:
            continue
        defended = next(d for d in sweeps if d != "none")
        frames = {
            d: unskipped(sweeps[d]).assign(
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
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def _paper_quality(table: str, base: str, systems: list[str], metric: str) -> str:
    p = PAPER[table]
    return f"{base} {p[base][metric]:.2f}; " + "; ".join(f"{s} {p[s][metric]:.2f}" for s in systems)


def _paper_row(values: list[float]) -> str:
    return "; ".join(f"{c} {v:.2f}" for c, v in zip(SE_COLUMNS, values, strict=True))

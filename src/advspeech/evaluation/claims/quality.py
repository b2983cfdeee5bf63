"""Claims of Tables 1-3: what enhancement does to the quality of noisy speech and of
adversarial examples, each a paired comparison on the same scored items."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from advspeech.evaluation.claims.base import SCORE_KEYS, Claims, Comparison, compare
from advspeech.reporting.paper import (
    ADVERSARIAL_INPUT,
    NOISY_INPUT,
    PAPER,
    QUALITY_METRICS,
    SE_LABELS,
    metric_column,
)

Quality = Mapping[str, Mapping[str, pd.DataFrame]]  # table -> column label -> items


def quality_claims(claims: Claims, quality: Quality, seed: int) -> None:
    """T1-* (SE raises every metric of noisy speech; the U-Nets beat the DNN on PESQ),
    T2-* (noisy-trained SE raises the SNR of adversarial examples and lowers the rest),
    T3-* (adversarially trained SE beats its noisy-trained twin and the input)."""
    se1 = list(SE_LABELS["noisy"].values())
    unets = [SE_LABELS["noisy"][se] for se in ("waveunet", "unet_at")]

    def claim(claim_id, table, text, reference, systems, metric, raises=True):
        """Every one of ``systems`` scores ``metric`` above ``reference`` (below it when
        not ``raises``)."""
        systems = [s for s in systems if s in quality[table]]  # the models that run
        if reference not in quality[table] or not systems:
            return
        pairs = [(s, reference) if raises else (reference, s) for s in systems]
        comparisons = [_quality(quality, table, a, b, metric, seed) for a, b in pairs]
        paper = _paper_quality(table, reference, systems, metric)
        claims.add(claim_id, table, text, paper, comparisons)

    for metric in (m for m in QUALITY_METRICS if m in PAPER["table1"][NOISY_INPUT]):
        text = f"every SE model raises {metric} over the noisy input ({NOISY_INPUT})"
        claim(f"T1-{metric}", "table1", text, NOISY_INPUT, se1, metric)
    text = "both U-Nets score higher PESQ than the DNN on noisy speech"
    claim("T1-UNET-PESQ", "table1", text, SE_LABELS["noisy"]["dnn"], unets, "PESQ")
    # the paper's case for self-attention (Sec. 4.2): U-Net_At above U-Net_W
    w, at = SE_LABELS["noisy"]["waveunet"], SE_LABELS["noisy"]["unet_at"]
    text = "self-attention helps: U-Net_At scores higher PESQ than U-Net_W on noisy speech"
    claim("T1-UNETAT-PESQ", "table1", text, w, [at], "PESQ")
    text = "noisy-trained SE raises the SNR of adversarial examples"
    claim("T2-SNR", "table2", text, ADVERSARIAL_INPUT, se1, "SNR")
    for metric in ("PESQ", "STOI", "STI"):
        text = f"noisy-trained SE lowers {metric} of adversarial examples"
        claim(f"T2-{metric}", "table2", text, ADVERSARIAL_INPUT, se1, metric, raises=False)
    _table3_claims(claims, quality, seed)


def _table3_claims(claims: Claims, quality: Quality, seed: int) -> None:
    twins = {
        SE_LABELS["advt"][se]: label
        for se, label in SE_LABELS["noisy"].items()
        if SE_LABELS["advt"][se] in quality["table3"] and label in quality["table2"]
    }
    if not twins:
        return
    for metric in ("PESQ", "STOI"):
        claims.add(
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
                    metric_column(metric),
                    SCORE_KEYS,
                    f"{t} - {n}",
                    seed,
                )
                for t, n in twins.items()
            ],
        )
    for metric in ("PESQ", "STI"):
        claims.add(
            f"T3-{metric}",
            "table3",
            f"adversarially trained SE raises {metric} of adversarial examples over "
            f"{ADVERSARIAL_INPUT}",
            _paper_quality("table3", ADVERSARIAL_INPUT, list(twins), metric),
            [_quality(quality, "table3", t, ADVERSARIAL_INPUT, metric, seed) for t in twins],
        )
    w, at = SE_LABELS["advt"]["waveunet"], SE_LABELS["advt"]["unet_at"]
    if w in quality["table3"] and at in quality["table3"]:
        for metric in ("PESQ", "STI"):
            claims.add(
                f"T3-UNETAT-{metric}",
                "table3",
                f"self-attention helps: {at} scores higher {metric} than {w} on adversarial "
                "examples",
                _paper_quality("table3", w, [at], metric),
                [_quality(quality, "table3", at, w, metric, seed)],
            )


def _quality(quality: Quality, table: str, a: str, b: str, metric: str, seed: int) -> Comparison:
    t = quality[table]
    return compare(t[a], t[b], metric_column(metric), SCORE_KEYS, f"{a} - {b}", seed)


def _paper_quality(table: str, base: str, systems: list[str], metric: str) -> str:
    p = PAPER[table]
    if metric not in p[base]:
        return "not reported"
    return f"{base} {p[base][metric]:.2f}; " + "; ".join(f"{s} {p[s][metric]:.2f}" for s in systems)

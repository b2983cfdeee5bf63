"""Tables: shapes, confidence intervals, and unscorable items counted, not zeroed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advspeech.core.io import DataError
from advspeech.reporting.tables import markdown_table, quality_table, table_values_finite


def _scores(path, pesq):
    n = len(pesq)
    pd.DataFrame(
        {
            "utt_id": [f"u{i}" for i in range(n)],
            "item_id": [f"u{i}" for i in range(n)],
            "pesq": pesq,
            "stoi": np.linspace(0.7, 0.9, n),
            "sti": np.linspace(0.5, 0.7, n),
            "snr": np.linspace(0, 10, n),
            "si_sdr": np.linspace(0, 10, n),
            "missing": ["" if np.isfinite(p) else "PESQ: silent reference" for p in pesq],
        }
    ).to_csv(path, index=False)
    return str(path)


def test_quality_table_counts_missing_items_and_ci_contains_mean(tmp_path):
    files = {
        "Noisy_D": _scores(tmp_path / "a.csv", [1.2, 1.4, np.nan, 1.3]),
        "DNN": _scores(tmp_path / "b.csv", [2.0, 2.2, 2.1, 2.4]),
    }
    wide, long = quality_table(files, n_boot=500)
    assert list(wide.columns) == ["metric", "Noisy_D", "DNN"]
    assert wide["metric"].tolist() == ["PESQ", "STI", "STOI", "SNR", "SI-SDR"]
    pesq = long[(long.system == "Noisy_D") & (long.metric == "PESQ")].iloc[0]
    assert pesq["n"] == 3 and pesq["n_missing"] == 1
    assert pesq["mean"] == pytest.approx(1.3)  # NaN is excluded, never counted as zero
    assert (long["ci_low"] <= long["mean"]).all() and (long["mean"] <= long["ci_high"]).all()
    md = markdown_table(long, ["Noisy_D", "DNN"], "T")
    # n per system, and the metric that could not score every item named with its own n
    assert "| n | 4; PESQ 3 (1 unscorable) | 4 |" in md


def test_a_table_with_an_empty_cell_is_refused(tmp_path):
    files = {"X": _scores(tmp_path / "x.csv", [np.nan, np.nan])}
    wide, _ = quality_table(files, n_boot=10)
    with pytest.raises(DataError, match="empty cells"):
        table_values_finite(wide)


def _trials(path, success_rate, wer, n=40):
    k = int(round(success_rate * n))
    pd.DataFrame(
        {
            "utt_id": [f"u{i % 8}" for i in range(n)],
            "room_id": [f"r{i}" for i in range(n)],
            "transcript": ["open the door"] * k + ["something else"] * (n - k),
            "success": [True] * k + [False] * (n - k),
            "wer": [wer] * n,
        }
    ).to_csv(path, index=False)
    return str(path)


def test_table4_has_the_papers_shape_and_percentages(tmp_path):
    from advspeech.reporting.paper import TABLE4_ROWS
    from advspeech.reporting.tables import robustness_markdown, robustness_table

    defences = ["w/o SE", "SE_DNN", "SE_U-Net_W", "SE_U-Net_At"]
    files = {}
    for a in ("Grad_adv", "Evo_adv"):
        for v, base in (("ASR", 0.8), ("ASR+AdvT", 0.3)):
            for j, d in enumerate(defences):
                rate = base - 0.1 * j
                files[(a, v, d)] = _trials(tmp_path / f"{a}{v}{j}.csv", rate, 100 * rate)
    wide, long = robustness_table(files)
    assert list(wide.columns) == ["attack", "row", *defences]
    assert wide["row"].tolist() == list(TABLE4_ROWS) * 2
    assert wide["attack"].tolist() == ["Grad_adv"] * 4 + ["Evo_adv"] * 4
    grad = wide[wide["attack"] == "Grad_adv"].set_index("row")
    assert grad.loc["RoSA_ASR", "w/o SE"] == pytest.approx(80.0)
    assert grad.loc["RoSA_ASR+AdvT", "SE_U-Net_At"] == pytest.approx(0.0, abs=1e-9)
    assert grad.loc["WER_ASR", "SE_DNN"] == pytest.approx(70.0)
    assert (
        (long["ci_low"] <= long["mean"] + 1e-9) & (long["mean"] <= long["ci_high"] + 1e-9)
    ).all()
    assert (long["n"] == 40).all()
    assert "| RoSA_ASR |" in robustness_markdown(long, defences, "Table 4")


def test_claims_are_decided_by_paired_per_utterance_tests():
    """A consistent per-utterance difference holds even where marginal intervals
    overlap; an inconsistent one does not; fewer than 8 utterances decide nothing."""
    from advspeech.evaluation.claims import compare

    rng = np.random.default_rng(0)
    base = rng.normal(2.0, 0.6, size=20)  # utterances differ far more than the systems
    keys = {"utt_id": [f"u{i}" for i in range(20)], "item_id": [f"u{i}" for i in range(20)]}
    a = pd.DataFrame({**keys, "pesq": base + 0.1 + rng.normal(0, 0.02, 20)})
    b = pd.DataFrame({**keys, "pesq": base})
    assert compare(a, b, "pesq", ["utt_id", "item_id"], "a - b").greater
    assert not compare(b, a, "pesq", ["utt_id", "item_id"], "b - a").greater
    noisy = pd.DataFrame({**keys, "pesq": base + rng.normal(0, 0.5, 20)})
    assert not compare(noisy, b, "pesq", ["utt_id", "item_id"], "noisy - b").greater
    few = compare(a.head(5), b.head(5), "pesq", ["utt_id", "item_id"], "a - b")
    assert few.diff.low > 0 and not few.greater and few.untestable  # 5 < 8 utterances
    assert "(5 items, 5 utt, 5 voices)" in str(few)


def test_claims_file_from_per_item_results():
    from advspeech.evaluation.claims import check_claims
    from advspeech.reporting.paper import PAPER

    rng = np.random.default_rng(1)
    utts = [f"u{i}" for i in range(12)]
    effect = dict(zip(utts, rng.normal(0, 0.3, 12), strict=True))

    def scores(table, system):
        rows = []
        for u in utts:
            for k in range(2):  # two mixtures an utterance
                row = {"utt_id": u, "item_id": f"{u}_{k}"}
                for metric, value in PAPER[table][system].items():
                    row[metric.lower()] = value + effect[u] + rng.normal(0, 0.01)
                rows.append(row)
        return pd.DataFrame(rows)

    quality = {t: {s: scores(t, s) for s in PAPER[t]} for t in ("table1", "table2", "table3")}

    def trials(rate):
        return pd.DataFrame(
            [
                {"utt_id": u, "room_id": f"r{r}", "success": r < 10 * rate, "wer": 100 * rate}
                for u in utts
                for r in range(10)
            ]
        )

    ota = {}
    for a in ("Grad_adv", "Evo_adv"):
        for v in ("ASR", "ASR+AdvT"):
            for j, d in enumerate(["w/o SE", "SE_DNN", "SE_U-Net_W", "SE_U-Net_At"]):
                rate = (0.9 if v == "ASR" else 0.4) - 0.1 * j
                ota[(a, v, d)] = trials(rate if d != "SE_U-Net_At" else 0.5 if v == "ASR" else 0.0)

    def sweep(success):
        return pd.DataFrame(
            [
                {"snr_db_budget": b, "utt_id": u, "success": success(b), "skipped": ""}
                for b in (20.0, 0.0)
                for u in utts
            ]
        )

    adaptive = {
        ("grad", "none"): sweep(lambda b: True),
        ("grad", "unet_at_advt"): sweep(lambda b: b < 10.0),
        ("evo", "none"): sweep(lambda b: False),
        ("evo", "unet_at_advt"): sweep(lambda b: False),
    }
    words = {"utt_id": utts, "item_id": utts, "words": [3] * 12}
    controls = {
        ("ds", "none", "clean"): pd.DataFrame({**words, "wer": [10.0] * 12}),
        ("ds", "dnn_advt", "clean"): pd.DataFrame({**words, "wer": [10.0] * 11 + [20.0]}),
        ("ds", "waveunet_advt", "clean"): pd.DataFrame({**words, "wer": [40.0] * 12}),
    }
    claims = check_claims(quality, ota, adaptive, controls)
    assert list(claims.columns) == [
        "claim_id",
        "artifact",
        "claim",
        "paper_value",
        "our_value",
        "units",
        "p_value",
        "min_p",
        "p_holm",
        "p_opposite_holm",
        "verdict",
        "reason",
        "holds",
    ]
    assert claims["claim_id"].is_unique and claims["holds"].dtype == bool
    holds = dict(zip(claims["claim_id"], claims["holds"], strict=True))
    # the paper's own numbers, paired per utterance, satisfy its claims ...
    assert holds["T1-PESQ"] and holds["T2-SNR"] and holds["T3-TWIN-PESQ"]
    assert holds["T4-Grad_adv-SE-ROSA"] and holds["T4-Grad_adv-ADVT-RoSA"]
    assert holds["T4-Grad_adv-UNETAT-LOWEST"]
    assert holds["F3-GRAD"]  # a louder perturbation needed through the defence
    # ... an attacker that never succeeds shows nothing about the defence
    verdict = dict(zip(claims["claim_id"], claims["verdict"], strict=True))
    assert verdict["F3-EVO"] == "untestable" and not holds["F3-EVO"]
    # +30 WER points through it: significantly above the margin, not merely not shown
    assert verdict["C-waveunet_advt-CLEAN-WER"] == "contradicted"
    assert holds["T4-Grad_adv-SE-WER"] and "T1-UNETAT-PESQ" in verdict
    assert {"T3-STI", "T3-UNETAT-PESQ", "T3-UNETAT-STI"} <= set(verdict)
    assert (claims["p_holm"].dropna() >= claims["p_value"].dropna()).all()
    # benign cost: +0.8 WER points on average, but the upper interval end decides
    assert not holds["C-waveunet_advt-CLEAN-WER"]
    assert "C-dnn_advt-CLEAN-WER" in holds

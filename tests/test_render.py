"""Tables: shapes, confidence intervals, and unscorable items counted, not zeroed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advspeech.io import DataError
from advspeech.render import markdown_table, quality_table, table_values_finite


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
    assert wide["metric"].tolist() == ["PESQ", "STI", "STOI", "SNR"]
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
    from advspeech.render import TABLE4_ROWS, robustness_markdown, robustness_table

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


def test_claims_are_decided_by_confidence_intervals():
    from advspeech.claims import Cell, greater

    assert greater(Cell(2.0, 1.9, 2.1), Cell(1.0, 0.9, 1.1))
    assert not greater(Cell(2.0, 1.0, 3.0), Cell(1.5, 1.2, 1.8))  # overlapping: undecided
    assert not greater(Cell(1.0, 0.9, 1.1), Cell(2.0, 1.9, 2.1))


def test_claims_file_from_tables(tmp_path):
    from advspeech.claims import PAPER, check_claims
    from advspeech.render import robustness_table

    def quality_long(table, shift):
        rows = []
        for system, metrics in PAPER[table].items():
            for metric, value in metrics.items():
                v = value + shift.get(system, 0.0)
                rows.append(
                    {
                        "system": system,
                        "metric": metric,
                        "mean": v,
                        "ci_low": v - 0.01,
                        "ci_high": v + 0.01,
                        "n": 10,
                        "n_missing": 0,
                    }
                )
        return pd.DataFrame(rows)

    files = {}
    for a in ("Grad_adv", "Evo_adv"):
        for v in ("ASR", "ASR+AdvT"):
            for j, d in enumerate(["w/o SE", "SE_DNN", "SE_U-Net_W", "SE_U-Net_At"]):
                rate = (0.9 if v == "ASR" else 0.35) - 0.1 * j
                files[(a, v, d)] = _trials(tmp_path / f"{a}{v}{j}.csv", rate, 100 * rate, n=400)
    _, t4 = robustness_table(files)
    fig3 = pd.DataFrame(
        {
            "attack": ["grad", "grad", "evo", "evo"],
            "defence": ["none", "unet_at_advt"] * 2,
            "snr_db": [7.6, -2.2, 7.8, 8.0],
            "tasr": [100.0, 100.0, 100.0, 100.0],
        }
    )
    claims = check_claims(
        quality_long("table1", {}), quality_long("table2", {}), quality_long("table3", {}), t4, fig3
    )
    assert list(claims.columns) == [
        "claim_id",
        "artifact",
        "claim",
        "paper_value",
        "our_value",
        "holds",
    ]
    assert claims["claim_id"].is_unique and claims["holds"].dtype == bool
    holds = dict(zip(claims["claim_id"], claims["holds"], strict=True))
    # the paper's own numbers satisfy its claims ...
    assert holds["T1-PESQ"] and holds["T2-SNR"] and holds["T3-TWIN-PESQ"]
    assert holds["T4-Grad_adv-SE-ROSA"] and holds["T4-Grad_adv-ADVT-RoSA"]
    assert holds["F3-GRAD"]
    # ... except where they contradict it (U-Net_At STOI 0.92 < U-Net_W 0.93 is not a
    # claim; Table 1's U-Net_At vs DNN holds) and where our Fig. 3 input says otherwise
    assert not holds["F3-EVO"]
    # an attacker that never succeeds shows nothing about the defence, whatever the SNRs
    fig3_zero = fig3.assign(tasr=[100.0, 100.0, 0.0, 0.0], snr_db=[7.6, -2.2, 21.3, 21.2])
    claims = check_claims(
        quality_long("table1", {}),
        quality_long("table2", {}),
        quality_long("table3", {}),
        t4,
        fig3_zero,
    )
    holds = dict(zip(claims["claim_id"], claims["holds"], strict=True))
    assert holds["F3-GRAD"] and not holds["F3-EVO"]

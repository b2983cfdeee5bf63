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
    assert "3 (1 unscorable)" in md


def test_a_table_with_an_empty_cell_is_refused(tmp_path):
    files = {"X": _scores(tmp_path / "x.csv", [np.nan, np.nan])}
    wide, _ = quality_table(files, n_boot=10)
    with pytest.raises(DataError, match="empty cells"):
        table_values_finite(wide)

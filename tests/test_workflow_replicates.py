"""Replicates across seeds: the aggregation's arithmetic and verdicts, each replicate's
config, and the smoke DAG with two seeds (its own run, seed 7, and one more, seed 8)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import yaml
from testkit import SMOKE, snakemake

from advspeech.core.io import DataError
from advspeech.pipeline.replicates import replicate_config, replicate_root
from advspeech.reporting.replicates import (
    CONTRADICTED_EVERYWHERE,
    HOLDS_EVERYWHERE,
    MIXED,
    NOT_SHOWN_EVERYWHERE,
    UNTESTABLE,
    across_seed_verdict,
    aggregate_claims,
    aggregate_table,
)

SEEDS = (7, 8)
REPLICATE = "results/replicates/seed_8"


def _table(pesq: float, stoi: float) -> pd.DataFrame:
    return pd.DataFrame({"metric": ["PESQ", "STOI"], "DNN": [pesq, stoi], "U-Net": [1.0, 0.5]})


def test_aggregate_table_gives_mean_range_and_every_seed():
    out = aggregate_table({1: _table(2.0, 0.8), 2: _table(3.0, 0.6)}, ["metric"])
    cell = out[(out["metric"] == "PESQ") & (out["column"] == "DNN")].iloc[0]
    assert (cell["seed_1"], cell["seed_2"]) == (2.0, 3.0)
    assert (cell["mean"], cell["min"], cell["max"], cell["n_seeds"]) == (2.5, 2.0, 3.0, 2)
    assert len(out) == 4  # 2 metrics x 2 systems


def test_aggregate_table_refuses_tables_of_different_shapes():
    other = _table(2.0, 0.8).rename(columns={"U-Net": "U-Net_At"})
    with pytest.raises(DataError, match="seed 2"):
        aggregate_table({1: _table(2.0, 0.8), 2: other}, ["metric"])


@pytest.mark.parametrize(
    "verdicts, expected",
    [
        (["holds", "holds", "holds"], HOLDS_EVERYWHERE),
        (["contradicted", "contradicted"], CONTRADICTED_EVERYWHERE),
        (["not_shown", "not_shown"], NOT_SHOWN_EVERYWHERE),
        (["not_shown", "contradicted"], MIXED),
        (["untestable", "untestable"], UNTESTABLE),
        (["holds", "not_shown", "holds"], MIXED),
        (["holds", "untestable"], MIXED),
    ],
)
def test_across_seed_verdict(verdicts, expected):
    assert across_seed_verdict(verdicts) == expected


def test_aggregate_claims_counts_a_missing_claim_as_untestable():
    def claims(*rows):
        return pd.DataFrame(
            [
                {"claim_id": c, "artifact": "t", "claim": c, "paper_value": "", "our_value": v}
                | {"verdict": v}
                for c, v in rows
            ]
        )

    out = aggregate_claims(
        {1: claims(("A", "holds"), ("B", "holds")), 2: claims(("A", "holds"))}
    ).set_index("claim_id")
    assert out.loc["A", "across_seeds"] == HOLDS_EVERYWHERE
    assert (out.loc["A", "n_holds"], out.loc["A", "n_seeds"]) == (2, 2)
    assert out.loc["B", "verdict_seed_2"] == "untestable"
    assert out.loc["B", "across_seeds"] == MIXED


def test_replicate_config_changes_the_seed_and_anchors_paths(tmp_path):
    config = {
        "seed": 1,
        "corpus": {"librispeech": {"root": "data/LibriSpeech"}},
        "noise": {"demand_root": "/abs/demand"},
        "registry": {"python_path": ["plugins"]},
        "replicates": {"seeds": [1, 2], "snakemake_args": "--profile x"},
    }
    cfg = replicate_config(config, 2, tmp_path)
    assert cfg["seed"] == 2 and config["seed"] == 1  # the run's own config untouched
    assert cfg["corpus"]["librispeech"]["root"] == str(tmp_path.resolve() / "data/LibriSpeech")
    assert cfg["noise"]["demand_root"] == "/abs/demand"
    assert cfg["registry"]["python_path"] == [str(tmp_path.resolve() / "plugins")]
    # a seed added to the list, or other cluster arguments, leave a replicate's config as
    # it was: its run is not re-planned
    more = {**config, "replicates": {"seeds": [1, 2, 3], "snakemake_args": ""}}
    assert replicate_config(more, 2, tmp_path) == cfg
    assert replicate_root(1, main_seed=1) == ""
    assert replicate_root(2, main_seed=1) == "results/replicates/seed_2/"


# --- the smoke DAG with two seeds ----------------------------------------------------------


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_replicates_are_independent_draws(smoke_run):
    replicate = smoke_run / REPLICATE
    config = yaml.safe_load((replicate / "config.yaml").read_text())
    assert config["seed"] == 8
    for split in ("train", "test"):
        main = pd.read_csv(smoke_run / f"results/data/clean/{split}.csv")
        other = pd.read_csv(replicate / f"results/data/clean/{split}.csv")
        # other voices and sentences, and other audio
        assert set(main["speaker"]) != set(other["speaker"]) or set(main["text"]) != set(
            other["text"]
        )
        assert _digest(smoke_run / main["clean_path"].iloc[0]) != _digest(
            replicate / other["clean_path"].iloc[0]
        )
    assert _digest(smoke_run / "results/models/asr/ds.pt") != _digest(
        replicate / "results/models/asr/ds.pt"
    )


def test_aggregate_tables_hold_each_seeds_values(smoke_run):
    out = pd.read_csv(smoke_run / "results/replicates/table1.csv")
    for seed, root in zip(SEEDS, (smoke_run, smoke_run / REPLICATE), strict=True):
        table = pd.read_csv(root / "results/table1.csv").set_index("metric")
        for row in out.itertuples(index=False):
            assert getattr(row, f"seed_{seed}") == pytest.approx(
                table.loc[row.metric, row.column], rel=1e-6, nan_ok=True
            )
    finite = out.dropna(subset=["seed_7", "seed_8"])
    assert len(finite) > 0
    assert finite["mean"].to_numpy() == pytest.approx(
        finite[["seed_7", "seed_8"]].mean(axis=1).to_numpy(), rel=1e-4
    )
    table4 = pd.read_csv(smoke_run / "results/replicates/table4.csv")
    assert {"attack", "row", "column", "mean", "min", "max", "seed_7", "seed_8"} <= set(table4)
    assert (smoke_run / "results/replicates/fig_replicates.png").stat().st_size > 0


def test_claims_across_seeds_follow_each_seeds_verdicts(smoke_run):
    out = pd.read_csv(smoke_run / "results/replicates/claims.csv").set_index("claim_id")
    per_seed = {
        7: pd.read_csv(smoke_run / "results/claims.csv").set_index("claim_id"),
        8: pd.read_csv(smoke_run / REPLICATE / "results/claims.csv").set_index("claim_id"),
    }
    assert set(out.index) == set(per_seed[7].index) | set(per_seed[8].index)
    for claim_id, row in out.iterrows():
        verdicts = [per_seed[s]["verdict"].get(claim_id, "untestable") for s in SEEDS]
        assert [row[f"verdict_seed_{s}"] for s in SEEDS] == verdicts
        assert row["across_seeds"] == across_seed_verdict(verdicts)
    summary = (smoke_run / "results/replicates/summary.md").read_text()
    assert "seed 8" in summary and HOLDS_EVERYWHERE in summary


def test_replicates_are_cached_and_a_new_seed_runs_only_its_own_dag(smoke_run, tmp_path):
    again = snakemake(smoke_run, "-n", "results/replicates/claims.csv")
    assert "Nothing to be done" in again.stdout + again.stderr
    # the replicate's own run is complete: nothing left for its Snakemake either
    inner = snakemake(
        smoke_run / REPLICATE,
        "-n",
        "all",
        configfiles=[smoke_run / REPLICATE / "config.yaml"],
    )
    assert "Nothing to be done" in inner.stdout + inner.stderr
    extra = tmp_path / "three_seeds.yaml"
    extra.write_text(yaml.safe_dump({"replicates": {"seeds": [7, 8, 9]}}))
    plan = snakemake(smoke_run, "-n", "results/replicates/claims.csv", configfiles=[SMOKE, extra])
    # the dry run's "Job stats" table: rule -> jobs
    stats = (plan.stdout + plan.stderr).split("Job stats:")[1].split("\n\n")[0]
    counts = {
        words[0]: int(words[1])
        for words in map(str.split, stats.splitlines())
        if len(words) == 2 and words[1].isdigit()
    }
    # seed 9's config and run, then the aggregate: nothing of seeds 7 and 8
    assert counts == {"replicate_config": 1, "replicate": 1, "replicates": 1, "total": 3}

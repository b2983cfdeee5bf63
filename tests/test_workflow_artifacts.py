"""Every paper artifact from the smoke DAG: Tables 2-4, Figs. 2-3, claims, adversarial
training data wiring, and a Table-4-only build that runs nothing else."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from testkit import REPO, SMOKE, planned_jobs, smoke_config, snakemake

pytestmark = pytest.mark.workflow

QUALITY = {
    "table2": ["metric", "Noisy_adv", "DNN", "U-Net_W", "U-Net_At"],
    "table3": ["metric", "Noisy_adv", "DNN_T", "U-Net_T_W", "U-Net_T_At"],
}


@pytest.mark.parametrize("table", sorted(QUALITY))
def test_adversarial_quality_tables_have_the_papers_shape(smoke_run, table):
    wide = pd.read_csv(smoke_run / f"results/{table}.csv")
    assert list(wide.columns) == QUALITY[table]
    assert wide["metric"].tolist() == ["PESQ", "STI", "STOI", "SNR", "SI-SDR"]
    assert wide.drop(columns="metric").notna().all().all()
    long = pd.read_csv(smoke_run / f"results/{table}_ci.csv")
    attacked = pd.read_csv(smoke_run / "results/attacks/grad/ds/test/testset.csv")
    assert (long["n"] + long["n_missing"] == len(attacked)).all()
    assert (smoke_run / f"results/{table}.md").read_text().startswith("# Table")


def test_table4_has_the_papers_shape(smoke_run):
    wide = pd.read_csv(smoke_run / "results/table4.csv")
    assert list(wide.columns) == ["attack", "row", "w/o SE", "SE_DNN", "SE_U-Net_W", "SE_U-Net_At"]
    assert wide["attack"].tolist() == ["Grad_adv"] * 4 + ["Evo_adv"] * 4
    assert wide["row"].tolist() == ["RoSA_ASR", "RoSA_ASR+AdvT", "WER_ASR", "WER_ASR+AdvT"] * 2
    values = wide.set_index(["attack", "row"])
    rosa = values[values.index.get_level_values("row").str.startswith("RoSA")]
    assert ((rosa >= 0) & (rosa <= 100)).all().all() and (values >= 0).all().all()
    # RoSA w/o SE for ds is the success rate of its over-the-air trials
    trials = pd.read_csv(smoke_run / "results/ota/grad/ds/none.csv")
    cell = wide[(wide["attack"] == "Grad_adv") & (wide["row"] == "RoSA_ASR")]["w/o SE"].iloc[0]
    assert cell == pytest.approx(100 * trials["success"].mean())


def test_evo_attack_outputs_record_queries(smoke_run):
    from advspeech.attacks.runner import MANIFEST_COLUMNS

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    for split in ("test", "train"):
        manifest = pd.read_csv(smoke_run / f"results/attacks/evo/ds/{split}/manifest.csv")
        assert list(manifest.columns) == MANIFEST_COLUMNS
        done = manifest[manifest["skipped"].isna()]
        assert (done["queries"] > 0).all() and (done["queries"] <= 40).all()
        # whole generations of 8 candidates and the re-scored elite, each played in
        # rooms_per_query rooms, then the final transcription and 2 room checks
        rooms = config["attacks"]["evo"]["rooms_per_query"]
        per_generation = (8 + 1) * rooms if rooms else 8
        assert ((done["queries"] - 3) % per_generation == 0).all()


def test_adversarial_training_uses_the_train_split_attacks(smoke_run):
    """ds_advt and the advt enhancement models learn from grad and evo train examples."""
    n_clean = len(pd.read_csv(smoke_run / "results/data/clean/train.csv"))
    n_noisy = len(pd.read_csv(smoke_run / "results/data/mix/train.csv"))
    n_adv = sum(
        len(pd.read_csv(smoke_run / f"results/attacks/{a}/ds/train/manifest.csv"))
        for a in ("grad", "evo")
    )
    assert n_adv > 0
    repeat = yaml.safe_load(SMOKE.read_text())["asr"]["advt"]["adversarial_repeat"]
    asr_log = (smoke_run / "logs/train_asr/ds_advt.log").read_text()
    assert f"on {n_clean + n_noisy + repeat * n_adv} utterances" in asr_log
    for name in ("dnn_advt", "unet_at_advt"):
        se_log = (smoke_run / f"logs/train_se/{name}.log").read_text()
        assert f"{n_noisy} noisy and {n_adv} adversarial training pairs" in se_log
    for name in ("dnn_noisy", "unet_at_noisy"):
        se_log = (smoke_run / f"logs/train_se/{name}.log").read_text()
        assert f"{n_noisy} noisy and 0 adversarial training pairs" in se_log


def test_figures_and_their_data(smoke_run):
    for fig in ("fig2", "fig3"):
        png = smoke_run / f"results/{fig}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    page = (smoke_run / "results/audio_examples.html").read_text()
    assert page.count("<audio controls") == 6 and "data:audio/wav;base64," in page
    curve = pd.read_csv(smoke_run / "results/fig3.csv")
    assert list(curve.columns) == ["attack", "defence", "snr_db_budget", "tasr", "n"]
    assert set(curve["defence"]) == {"none", "unet_at_advt"}
    assert set(curve["attack"]) == {"grad", "evo"}
    assert curve["snr_db_budget"].min() == 10.0 and curve["snr_db_budget"].max() == 30.0
    for _, part in curve.groupby(["attack", "defence"]):  # TASR falls with the budget
        assert part.sort_values("snr_db_budget")["tasr"].is_monotonic_decreasing
    snr = pd.read_csv(smoke_run / "results/fig3_snr.csv")
    assert list(snr.columns) == [
        "attack",
        "defence",
        "snr_db_full_success",
        "median_quietest_db",
        "censored_above",
        "never",
        "n",
    ]
    # every attempt holds its budget: no example is louder than its budget allows
    for attack in ("grad", "evo"):
        for defence in ("none", "unet_at_advt"):
            path = smoke_run / f"results/adaptive/{attack}/{defence}.csv"
            trials = pd.read_csv(path, keep_default_na=False)
            done = trials[trials["skipped"] == ""]
            assert (done["snr_db"] >= done["snr_db_budget"] - 0.02).all()


def test_claims_file(smoke_run):
    claims = pd.read_csv(smoke_run / "results/claims.csv")
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
    assert set(claims["artifact"]) == {"table1", "table2", "table3", "table4", "fig3", "controls"}
    assert claims["holds"].dtype == bool and claims["claim_id"].is_unique
    # every verdict comes from a paired per-utterance difference with its interval
    assert claims["our_value"].str.contains(r"[+-]\d+\.\d+ \[[+-]\d+\.\d+, [+-]\d+\.\d+\]").all()
    assert claims["our_value"].str.contains("utt").all()
    # the smoke run attacks 2 utterances adaptively: below the 8 a paired claim needs
    assert (claims.loc[claims["artifact"] == "fig3", "verdict"] == "untestable").all()
    assert set(claims["verdict"]) <= {"holds", "contradicted", "not_shown", "untestable"}
    untestable = claims["verdict"] == "untestable"
    assert (
        claims.loc[untestable, "reason"]
        .isin(["constant arms", "too few units", "underpowered"])
        .all()
    )
    assert (claims.loc[~untestable, "reason"].fillna("") == "").all()
    # no claim is decided with fewer voices than its design allows
    decided = claims["verdict"].isin(["holds", "contradicted"])
    assert (claims.loc[decided, "min_p"] < 0.025).all()
    controls = claims[claims["artifact"] == "controls"]
    assert sorted(controls["claim_id"]) == sorted(
        f"C-{se}_{t}-CLEAN-WER" for se in ("dnn", "waveunet", "unet_at") for t in ("noisy", "advt")
    )


def test_benign_controls(smoke_run):
    """Every defence's clean and noisy WER for both recognisers; the undefended clean
    cell is the recogniser's own corpus WER (evaluate_asr)."""
    table = pd.read_csv(smoke_run / "results/controls.csv")
    assert list(table.columns) == [
        "asr",
        "defence",
        "testset",
        "wer",
        "ci_low",
        "ci_high",
        "n",
        "n_utterances",
        "n_voices",
    ]
    defences = ["none"] + [
        f"{s}_{t}" for s in ("dnn", "waveunet", "unet_at") for t in ("noisy", "advt")
    ]
    assert len(table) == 2 * len(defences) * 2
    assert set(table["defence"]) == set(defences)
    n_clean = len(pd.read_csv(smoke_run / "results/data/clean/test.csv"))
    n_noisy = len(pd.read_csv(smoke_run / "results/data/mix/test.csv"))
    assert (table.loc[table["testset"] == "clean", "n"] == n_clean).all()
    assert (table.loc[table["testset"] == "noisy", "n"] == n_noisy).all()
    assert (table["n_utterances"] == n_clean).all()
    assert ((table["ci_low"] <= table["wer"]) & (table["wer"] <= table["ci_high"])).all()
    for asr in ("ds", "ds_advt"):
        own = pd.read_csv(smoke_run / f"results/asr/{asr}/wer.csv")
        cell = table[
            (table["asr"] == asr) & (table["defence"] == "none") & (table["testset"] == "clean")
        ]
        assert cell["wer"].iloc[0] == pytest.approx(
            own.loc[own["testset"] == "clean", "wer"].iloc[0]
        )
    assert (smoke_run / "results/controls.md").read_text().startswith("# Benign controls")


def test_every_adversarial_file_respects_its_bound(smoke_run):
    """The bounds an attack enforces hold for the perturbation as written: l_inf (16-bit
    files: one quantisation step of tolerance) and the SNR budget (exactly: the attacks
    project a little inside it), for the default budget and every budget of the sweep."""
    import numpy as np

    from advspeech.core.dsp import snr_db
    from advspeech.core.io import read_audio

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    checked = 0
    sweep = list(smoke_run.glob("results/budget/*/snr*/manifest.csv"))
    for manifest in [*smoke_run.glob("results/attacks/*/*/*/manifest.csv"), *sweep]:
        in_sweep = manifest in sweep
        attack = manifest.parts[-3] if in_sweep else manifest.parts[-4]
        budget = float(manifest.parts[-2][3:]) if in_sweep else config["attacks"]["snr_db"]
        bound = config["attacks"][attack]["linf"]
        frame = pd.read_csv(manifest)
        for row in frame[frame["skipped"].isna()].itertuples():
            adv = read_audio(smoke_run / row.adv_path)[0][0]
            clean = read_audio(smoke_run / row.clean_path)[0][0]
            assert np.max(np.abs(adv - clean)) <= bound + 1.5 / 32768, (row.adv_path, bound)
            assert snr_db(clean, adv) >= budget, (row.adv_path, budget)
            checked += 1
    assert checked >= 12 and sweep


def test_table4_alone_builds_only_what_it_needs(smoke_run, tmp_path):
    """From a fresh directory, Table 4 needs no quality table, figure or noisy-only model."""
    jobs = planned_jobs(snakemake(tmp_path, "-n", "results/table4.csv"))
    assert "quality_table" not in jobs and "fig2" not in jobs and "fig3" not in jobs
    assert "adaptive_attack" not in jobs and "claims" not in jobs
    assert jobs["over_the_air"] == 16 and jobs["table4"] == 1
    assert jobs["attack"] == 6  # grad/evo x (ds test, ds train, ds_advt test)
    assert jobs["train_se"] == 6  # advt models start from the noisy ones
    assert jobs.get("enhance", 0) == 0 and jobs.get("score", 0) == 0


def test_report_opens_with_what_was_run_and_lists_every_artifact(smoke_run, tmp_path):
    """The report's first page is workflow/report/workflow.rst with the run's config
    filled in; every paper artifact is in it. Where Chromium is installed, the report
    also renders headless and shows the description and its result categories."""
    import shutil
    import zipfile

    out = smoke_run / "report.zip"
    snakemake(smoke_run, "--report", str(out))
    archive = zipfile.ZipFile(out)
    names = "\n".join(archive.namelist())
    for artifact in (
        "table1.csv",
        "table2.csv",
        "table3.csv",
        "se_clean.csv",
        "table4.csv",
        "fig2.png",
        "fig3.png",
        "claims.csv",
        "controls.csv",
        "audio_examples.html",
        "fig_perturbations.png",
        "perturbation_examples.html",
    ):
        assert artifact in names, artifact
    index = next(n for n in archive.namelist() if n.endswith("report.html"))
    page = archive.read(index).decode()
    smoke = yaml.safe_load(SMOKE.read_text())
    assert "What was run." in page and "open the door" in page
    # the description's template is filled with the run's config (its seed, as code)
    assert re.search(
        rf"seed\W{{0,20}}tt class=\W{{0,4}}docutils literal\W{{0,12}}{smoke['seed']}\b", page
    )
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        archive.extractall(tmp_path)
        dom = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--virtual-time-budget=15000",
                "--dump-dom",
                (tmp_path / index).as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        ).stdout
        assert "What was run." in dom
        assert f'seed <tt class="docutils literal">{smoke["seed"]}</tt>' in dom
        for category in ("Tables", "Figures", "Audio examples", "Claims"):
            assert category in dom, category
    json.dumps(names)
    Path(out).unlink()


def test_budget_sweep_table_and_figure(smoke_run):
    from advspeech.reporting.budget import BUDGET_COLUMNS

    config = yaml.safe_load(SMOKE.read_text())["attacks"]["budget"]
    table = pd.read_csv(smoke_run / "results/budget.csv")
    assert list(table.columns) == BUDGET_COLUMNS
    defences = ["none", "dnn_noisy", "waveunet_noisy", "unet_at_noisy"]
    expected = [
        (a, d, float(b)) for a in ("grad", "evo") for d in defences for b in config["snr_db"]
    ]
    assert (
        list(table[["attack", "defence", "snr_db_budget"]].itertuples(index=False, name=None))
        == expected
    )
    assert (table["snr_db_measured"] >= table["snr_db_budget"]).all()
    assert ((table["rosa_low"] <= table["rosa"]) & (table["rosa"] <= table["rosa_high"])).all()
    assert (table["n_utterances"] >= 1).all() and (table["asr"] == "ds").all()
    # each row is the RoSA of its trial file
    trials = pd.read_csv(smoke_run / f"results/budget/evo/snr{config['snr_db'][0]:g}/ota_none.csv")
    row = table[(table["attack"] == "evo") & (table["defence"] == "none")].iloc[0]
    assert row["rosa"] == pytest.approx(100 * trials["success"].mean())
    assert (smoke_run / "results/fig_budget.png").stat().st_size > 10_000


def test_black_box_query_sweep_has_transfer_no_prior_and_prior_rows(smoke_run):
    from advspeech.reporting.evo_queries import EVO_QUERIES_COLUMNS

    attacks = smoke_config()["attacks"]
    budgets = attacks["evo_queries"]["budgets"]
    table = pd.read_csv(smoke_run / "results/evo_queries.csv")
    assert list(table.columns) == EVO_QUERIES_COLUMNS
    expected = [("transfer", 0)] + [(v, q) for v in ("noprior", "prior") for q in budgets]
    assert list(table[["variant", "queries"]].itertuples(index=False, name=None)) == expected
    assert ((table["rosa_low"] <= table["rosa"]) & (table["rosa"] <= table["rosa_high"])).all()
    searched = table[table["variant"] != "transfer"]
    assert (searched["queries_used"] <= searched["queries"]).all()
    assert (searched["queries_used"] > 0).all() and table["queries_used"].iloc[0] == 0
    # every example within the budget as played
    assert (table["snr_db"] >= attacks["snr_db"] - 0.05).all()
    # the transfer row plays the surrogate's own white-box examples; the prior search
    # got the surrogate and those examples, the victim only through queries
    transfer = pd.read_csv(smoke_run / "results/attacks/grad/surrogate/test/manifest.csv")
    trials = pd.read_csv(smoke_run / "results/evo_queries/evo/transfer/q0/ota.csv")
    assert set(trials["utt_id"]) <= set(transfer["utt_id"])
    assert table["rosa"].iloc[0] == pytest.approx(100 * trials["success"].mean())
    log = (smoke_run / f"logs/evo_queries_attack/evo/prior/q{budgets[0]}.log").read_text()
    assert f"prior: the surrogate and its examples of {len(transfer)} utterances" in log
    noprior = (smoke_run / f"logs/evo_queries_attack/evo/noprior/q{budgets[0]}.log").read_text()
    assert "prior: the surrogate" not in noprior
    assert (smoke_run / "results/fig_evo_queries.png").stat().st_size > 10_000


def test_the_dev_query_curve_driver_measures_every_variant_on_dev(smoke_run, tmp_path):
    """experiments/evo_queries_dev.py on the smoke run: the transfer row and both searches
    at each budget, over the dev rooms, in the columns of results/evo_queries.csv."""
    from advspeech.reporting.evo_queries import EVO_QUERIES_COLUMNS

    out = tmp_path / "curve"
    cmd = [sys.executable, str(REPO / "experiments/evo_queries_dev.py"), "--workdir",
           str(smoke_run), "--budgets", "25", "50", "--utterances", "2", "--threads", "1",
           "--set", "pairs=2", "rooms=2", "check_rooms=2", "--out", str(out)]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    table = pd.read_csv(out.with_suffix(".csv"))
    assert list(table.columns) == [*EVO_QUERIES_COLUMNS, "split"]
    assert list(table[["variant", "queries"]].itertuples(index=False, name=None)) == [
        ("transfer", 0), ("noprior", 25), ("noprior", 50), ("prior", 25), ("prior", 50)
    ]  # fmt: skip
    assert (table["split"] == "dev").all() and (table["n_utterances"] == 2).all()
    assert (table["queries_used"] <= table["queries"].where(table["queries"] > 0, 0)).all()
    trials = pd.read_csv(out / "prior" / "q25" / "trials.csv")
    dev_rooms = set(pd.read_csv(smoke_run / "results/data/rirs/dev.csv")["room_id"])
    assert set(trials["room_id"]) <= dev_rooms


def test_perturbation_examples_show_clean_adversarial_and_perturbation(smoke_run):
    page = (smoke_run / "results/perturbation_examples.html").read_text()
    assert page.count("<audio") == page.count("perturbation, SNR") * 3 >= 6
    assert (smoke_run / "results/fig_perturbations.png").stat().st_size > 10_000


def test_se_on_clean_speech_table(smoke_run):
    wide = pd.read_csv(smoke_run / "results/se_clean.csv")
    assert list(wide.columns) == [
        "metric", "DNN", "U-Net_W", "U-Net_At", "DNN_T", "U-Net_T_W", "U-Net_T_At"
    ]  # fmt: skip
    assert wide["metric"].tolist() == ["PESQ", "STI", "STOI", "SNR", "SI-SDR"]
    clean = pd.read_csv(smoke_run / "results/data/clean/test.csv")
    long = pd.read_csv(smoke_run / "results/se_clean_ci.csv")
    assert (long["n"] + long["n_missing"] == len(clean)).all()


def test_defences_table_adaptive_sweeps_and_claims(smoke_run):
    """results/defences.csv: one row per defence of defences.table with RoSA of both
    attacks, benign WER and speech quality through it; the adaptive sweep through each
    defence; the claims comparing SE models with transformations."""
    smoke = yaml.safe_load(SMOKE.read_text())["defences"]
    table = pd.read_csv(smoke_run / "results/defences.csv")
    assert table["defence"].tolist() == smoke["table"]
    assert table["kind"].tolist() == ["none", "se", "transform", "transform"]
    for column in ("grad_rosa", "evo_rosa", "clean_wer", "noisy_wer"):
        assert table[column].between(0, 100).all()
        assert (table[f"{column}_low"] <= table[column] + 1e-9).all()
        assert (table[column] <= table[f"{column}_high"] + 1e-9).all()
    # the undefended row is Table 4's w/o-SE cell and the clean input scored against itself
    trials = pd.read_csv(smoke_run / "results/ota/grad/ds/none.csv")
    assert table.loc[0, "grad_rosa"] == pytest.approx(100 * trials["success"].mean())
    assert table.loc[0, "clean_pesq"] > 4.5 and table.loc[0, "clean_stoi"] > 0.99
    # a transformation changes the speech: MP3 at 32 kbps scores below the clean input
    assert table.set_index("defence").loc["mp3", "clean_pesq"] < table.loc[0, "clean_pesq"]
    adaptive = pd.read_csv(smoke_run / "results/adaptive_defences.csv")
    floor, ceiling = yaml.safe_load(SMOKE.read_text())["attacks"]["adaptive"]["snr_range"]
    assert adaptive["defence"].tolist() == smoke["adaptive"]["defences"]
    assert (adaptive["quietest_low"] <= adaptive["quietest_db"] + 1e-9).all()
    assert adaptive["quietest_db"].between(floor - (ceiling - floor), ceiling).all()
    assert (adaptive["never"] + adaptive["at_ceiling"] <= adaptive["n_utterances"]).all()
    claims = pd.read_csv(smoke_run / "results/defence_claims.csv")
    assert claims["claim_id"].tolist() == [
        "D-unet_at_advt-BEATS-TRANSFORMS",
        "D-unet_at_advt-ADAPTIVE",
    ]
    assert claims["holds"].dtype == bool
    for png in ("fig_defences.png", "fig_adaptive_defences.png"):
        assert (smoke_run / "results" / png).stat().st_size > 10_000


def test_attack_cost_bench_prints_both_attacks_and_their_ratio_on_dev(smoke_run, tmp_path):
    """bench/attack_cost.py on a tiny setting: both rows, the ratio, dev only."""
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, str(root / "bench/attack_cost.py"), "--workdir", str(smoke_run)]
    refused = subprocess.run([*cmd, "--split", "test"], capture_output=True, text=True)
    assert refused.returncode == 2 and "not 'test'" in refused.stderr
    out = tmp_path / "cost"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(smoke_config()))
    run = subprocess.run(
        [*cmd, "--utterances", "2", "--reference-steps", "5", "--rooms", "2", "--threads", "1",
         "--configfile", str(tmp_path / "config.yaml"), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    table = pd.read_csv(out / "attack_cost.csv")
    assert table["method"].str.startswith(("reference", "grad")).tolist() == [True, True]
    assert table["rosa"].between(0, 100).all() and (table["cpu_s"] > 0).all()
    assert (table["rosa_low"] <= table["rosa"]).all() and (
        table["rosa"] <= table["rosa_high"]
    ).all()
    assert "cost per successful trial, reference / ours" in run.stdout

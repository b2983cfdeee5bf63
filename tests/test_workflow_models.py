"""Recogniser, enhancement, Table 1 and attack stages of the smoke DAG; re-run scope."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from testkit import planned_jobs, snakemake

from advspeech.core.io import read_audio
from advspeech.core.torchutil import load_checkpoint

pytestmark = pytest.mark.workflow
SMOKE = Path(__file__).parent / "smoke.yaml"


def test_both_recognisers_are_trained_and_evaluated(smoke_run):
    smoke = yaml.safe_load(SMOKE.read_text())
    for asr in ("ds", "ds_advt"):
        wer = pd.read_csv(smoke_run / f"results/asr/{asr}/wer.csv")
        assert list(wer.columns) == ["testset", "snr_db", "wer", "cer", "n"]
        assert wer["testset"].tolist() == ["clean"] + ["noisy"] * len(smoke["mix"]["snrs_db"])
        assert sorted(wer["snr_db"].dropna()) == sorted(smoke["mix"]["snrs_db"])
        assert ((wer["wer"] >= 0) & (wer["cer"] >= 0)).all() and (wer["n"] > 0).all()
        transcripts = pd.read_csv(smoke_run / f"results/asr/{asr}/transcripts.csv")
        assert len(transcripts) == wer["n"].sum()
        payload = load_checkpoint(smoke_run / f"results/models/asr/{asr}.pt")
        assert payload["meta"]["arch"] == "ds"
        history = json.loads((smoke_run / f"results/models/asr/{asr}.history.json").read_text())
        assert history["epochs"] and "dev_wer" in history["epochs"][0]
    advt = json.loads((smoke_run / "results/models/asr/ds_advt.history.json").read_text())
    assert advt["meta"]["train"]["alpha"] == pytest.approx(0.34)
    # resumable state is removed once training has finished
    assert not list((smoke_run / "resources/train_state").rglob("*.pt"))


def test_all_six_enhancement_models_are_trained_and_applied(smoke_run):
    test = pd.read_csv(smoke_run / "results/data/mix/test.csv")
    adversarial = pd.read_csv(smoke_run / "results/attacks/grad/ds/test/manifest.csv")
    for se in ("dnn", "waveunet", "unet_at"):
        for training in ("noisy", "advt"):
            name = f"{se}_{training}"
            payload = load_checkpoint(smoke_run / f"results/models/se/{name}.pt")
            assert payload["meta"]["name"] == se
            assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())
            # every model enhances the adversarial test set (Tables 2-3); the noisy test
            # set (Table 1) is enhanced by the noisy-trained models
            testsets = {"adv_grad": len(adversarial)} | (
                {"noisy": len(test)} if training == "noisy" else {}
            )
            for testset, n in testsets.items():
                enhanced = pd.read_csv(smoke_run / f"results/enhanced/{name}/{testset}.csv")
                assert len(enhanced) == n
                column = "noisy_path" if testset == "noisy" else "adv_path"
                for row in enhanced.head(3).itertuples():
                    out = read_audio(smoke_run / row.enhanced_path)[0][0]
                    source = read_audio(smoke_run / getattr(row, column))[0][0]
                    assert len(out) == len(source)
    history = json.loads((smoke_run / "results/models/se/unet_at_advt.history.json").read_text())
    assert history["meta"]["train"]["alpha"] == pytest.approx(0.34)


def test_table1_has_the_papers_shape(smoke_run):
    table = pd.read_csv(smoke_run / "results/table1.csv")
    assert list(table.columns) == ["metric", "Noisy_D", "DNN", "U-Net_W", "U-Net_At"]
    assert table["metric"].tolist() == ["PESQ", "STI", "STOI", "SNR", "SI-SDR"]
    assert table.drop(columns="metric").notna().all().all()
    long = pd.read_csv(smoke_run / "results/table1_ci.csv")
    assert list(long.columns) == [
        "system",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "n",
        "n_missing",
        "n_utterances",
        "n_voices",
    ]
    assert ((long["ci_low"] <= long["mean"]) & (long["mean"] <= long["ci_high"])).all()
    md = (smoke_run / "results/table1.md").read_text()
    assert "| PESQ |" in md and "U-Net_At" in md
    # the unprocessed SNR column is the mixing SNR, by the paper's definition
    scores = pd.read_csv(smoke_run / "results/scores/unprocessed/noisy.csv")
    mix = pd.read_csv(smoke_run / "results/data/mix/test.csv")
    merged = scores.merge(mix, left_on="item_id", right_on="mix_id")
    assert (merged["snr"] - merged["snr_db"]).abs().max() < 0.1


def _planned_with(smoke_run, tmp_path, overrides: dict) -> dict[str, int]:
    """{rule: count} a dry run plans on the smoke run with ``overrides`` merged over it."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(overrides))
    return planned_jobs(snakemake(smoke_run, "-n", configfiles=[SMOKE, cfg]))


def test_changing_an_se_hyperparameter_reruns_exactly_its_descendants(smoke_run, tmp_path):
    jobs = _planned_with(smoke_run, tmp_path, {"se": {"train": {"patience": 7}}})
    # noisy models retrain; advt models start from them; all 6 re-enhance the adversarial,
    # clean and noisy test sets; Tables 1-3 rescore; every SE-defended over-the-air trial
    # and benign control, the adaptive attacks through U-Net_At and the artifacts built on
    # them follow
    assert jobs == {
        "train_se": 6,
        "enhance": 18,
        "score": 15,
        "benign_wer": 24,
        "controls": 1,
        "quality_table": 4,
        "over_the_air": 24,
        "table4": 2,  # Table 4 and its shifted-rooms twin
        "fig2": 1,
        "adaptive_attack": 2,
        "fig3": 1,
        "claims": 1,
        "all": 1,
    }


def test_a_per_model_training_override_reruns_only_that_models_descendants(smoke_run, tmp_path):
    jobs = _planned_with(
        smoke_run, tmp_path, {"se": {"train": {"per_model": {"dnn": {"lr": 0.002}}}}}
    )
    # dnn_noisy retrains, dnn_advt starts from it; their enhancements, scores and tables,
    # their benign controls and the over-the-air trials through DNN_T follow; the U-Nets
    # stay
    assert jobs == {
        "train_se": 2,
        "enhance": 6,
        "score": 5,
        "benign_wer": 8,
        "controls": 1,
        "quality_table": 4,
        "over_the_air": 8,
        "table4": 2,  # Table 4 and its shifted-rooms twin
        "fig2": 1,
        "claims": 1,
        "all": 1,
    }


def test_a_per_model_fine_tuning_override_reruns_only_that_fine_tuned_model(smoke_run, tmp_path):
    jobs = _planned_with(
        smoke_run, tmp_path, {"se": {"advt": {"per_model": {"waveunet": {"segment": 2048}}}}}
    )
    # only U-Net_T_W is fine-tuned again (its noisy-trained start stays): its
    # enhancements, scores, Table 3 and the clean-input table, its benign controls and
    # the over-the-air trials through it
    assert jobs == {
        "train_se": 1,
        "enhance": 3,
        "score": 2,
        "benign_wer": 4,
        "controls": 1,
        "quality_table": 2,
        "over_the_air": 8,
        "table4": 2,  # Table 4 and its shifted-rooms twin
        "claims": 1,
        "all": 1,
    }


def test_changing_the_advt_recogniser_eps_reruns_only_the_twin(smoke_run, tmp_path):
    jobs = _planned_with(smoke_run, tmp_path, {"asr": {"advt": {"eps": 0.01}}})
    # the twin is retrained, re-evaluated (with its benign controls), attacked again
    # (white box) and re-scored
    assert jobs == {
        "train_asr": 1,
        "evaluate_asr": 1,
        "benign_wer": 14,
        "controls": 1,
        "attack": 2,
        "over_the_air": 16,
        "table4": 2,  # Table 4 and its shifted-rooms twin
        "claims": 1,
        "all": 1,
    }


def test_editing_a_library_module_reruns_the_rules_that_import_it(smoke_run):
    """Library modules are declared inputs: an edited claims.py re-runs the claims check
    and nothing else. Snakemake 9 compares input checksums, so the content must change,
    not only the mtime."""
    import advspeech.evaluation.claims

    module = Path(advspeech.evaluation.claims.__file__)
    original = module.read_bytes()
    before = module.stat()
    try:
        module.write_bytes(original + b"\n# an edit\n")
        jobs = planned_jobs(snakemake(smoke_run, "-n"))
    finally:
        module.write_bytes(original)
        os.utime(module, (before.st_atime, before.st_mtime))
    assert jobs == {"claims": 1, "all": 1}


def test_grad_attack_and_over_the_air_outputs(smoke_run):
    from advspeech.attacks.runner import MANIFEST_COLUMNS

    targets = ["results/ota/grad/ds/none.csv", "results/ota/grad/ds/unet_at_advt.csv"]
    manifest = pd.read_csv(smoke_run / "results/attacks/grad/ds/test/manifest.csv")
    assert list(manifest.columns) == MANIFEST_COLUMNS
    assert len(manifest) == 3 and (manifest["target"] == "open the door").all()
    assert (manifest["snr_db"] > 0).all() and (manifest["linf_db"] < 0).all()
    for target in targets:
        trials = pd.read_csv(smoke_run / target)
        columns = ["utt_id", "room_id", "transcript", "success", "wer", "words"]
        assert list(trials.columns) == columns
        assert len(trials) == 3 * 2  # 3 examples x 2 held-out test rooms
        texts = manifest.set_index("utt_id")["text"]
        assert (trials["words"] == [len(texts[u].split()) for u in trials["utt_id"]]).all()
        assert set(trials["room_id"]) <= set(
            pd.read_csv(smoke_run / "results/data/rirs/test.csv")["room_id"]
        )


def test_editing_a_workflow_script_reruns_its_rule(smoke_run):
    """Snakemake's code trigger: a changed script re-runs the rule that runs it."""
    script = Path(__file__).resolve().parents[1] / "workflow/scripts/data_summary.py"
    original = script.read_bytes()
    before = script.stat()
    try:
        script.write_bytes(original + b"\n# an edit\n")
        jobs = planned_jobs(snakemake(smoke_run, "-n"))
    finally:
        script.write_bytes(original)
        os.utime(script, (before.st_atime, before.st_mtime))
    assert jobs == {"data_summary": 1, "all": 1}


def test_the_surrogate_learns_from_speech_and_voices_the_victim_never_saw(smoke_run):
    """The attacker's own recogniser: no utterance, sentence, speaker or voice of the
    victim's corpus in its training or early-stopping data, and weights of its own."""
    data = smoke_run / "results/data/clean"
    victim = pd.concat([pd.read_csv(p) for p in data.glob("*.csv") if "attacker" not in p.name
                        and not p.name.endswith("_skipped.csv")])  # fmt: skip
    attacker = pd.concat([pd.read_csv(data / f"{s}.csv") for s in ("attacker", "attacker_dev")])
    assert len(attacker) and set(attacker["split"]) == {"attacker", "attacker_dev"}
    for column in ("utt_id", "speaker", "text", "clean_path"):
        assert not set(attacker[column]) & set(victim[column]), column
    voice = ["voice", "words_per_minute", "pitch", "pitch_range"]
    victim_voices = pd.read_csv(smoke_run / "resources/embedded/speakers.csv")[voice]
    own_voices = pd.read_csv(smoke_run / "resources/embedded/attacker_speakers.csv")[voice]
    assert not set(map(tuple, own_voices.values)) & set(map(tuple, victim_voices.values))
    mixtures = pd.read_csv(smoke_run / "results/data/mix/attacker.csv")
    assert set(mixtures["utt_id"]) <= set(attacker["utt_id"])
    surrogate = load_checkpoint(smoke_run / "results/models/asr/surrogate.pt")
    victim_model = load_checkpoint(smoke_run / "results/models/asr/ds.pt")
    assert surrogate["meta"]["arch"] == victim_model["meta"]["arch"]  # the same family
    # the learnt weights (the MFCC front end's fixed buffers are the same by design)
    weights = [k for k in victim_model["state_dict"] if not k.startswith("front_end.")]
    assert weights and all(
        not torch.equal(surrogate["state_dict"][k], victim_model["state_dict"][k]) for k in weights
    )

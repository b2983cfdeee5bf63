"""The recogniser's dev WER per voice, for a training variant against the default.

Trains ``ds`` on a results tree's train split with the default ``asr`` settings
(config.yaml) changed by the options given, selects the epoch on dev as the workflow
does, and transcribes the clean and noisy dev sets item by item. ``--model`` scores a
trained checkpoint instead (e.g. the tree's own ``results/models/asr/ds.pt``, the
default). ``--compare A B`` pairs two runs' dev items: WER of each, per-voice range, and
the difference B - A with a 95 % interval over voices, then utterances;
``--compare-voices A B`` pairs two corpora's dev voices instead (same voices, other
sentences): the mean per-voice WER difference, a bootstrap over voices. Train and dev
only: a manifest with test rows is refused.

    .venv/bin/python experiments/asr_voice_dev.py --tree ../run --model \\
        ../run/results/models/asr/ds.pt --out dev/base
    .venv/bin/python experiments/asr_voice_dev.py --tree ../run \\
        --speed-perturb 0.9 1.0 1.1 --out dev/speed
    .venv/bin/python experiments/asr_voice_dev.py --compare dev/base dev/speed
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd
import torch
from tuning import default_config, refuse_test_rows, tuning_args, tuning_parser

from advspeech.evaluation.statistics import cluster_bootstrap_ci, voice_of
from advspeech.pipeline.config import asr_train_settings

SCRIPT = "experiments/asr_voice_dev.py"
DEV_SETS = {"clean": ("results/data/clean/dev.csv", "clean_path"),
            "noisy": ("results/data/mix/dev.csv", "noisy_path")}  # fmt: skip


def train(tree: Path, out: Path, speed: list[float], epochs: int | None, seed: int) -> Path:
    """Train ds in ``tree``'s data with the default settings and the given changes."""
    from advspeech.asr.train import fit_recognizer

    cfg = default_config()
    settings = asr_train_settings(cfg, "ds")
    settings["speed_perturb"] = speed
    if epochs:
        settings["epochs"] = epochs
    model = out / "ds.pt"
    fit_recognizer(
        model_cfg=cfg["asr"]["model"],
        train_cfg=settings,
        train_manifests={
            "clean_path": [str(tree / "results/data/clean/train.csv")],
            "noisy_path": [str(tree / "results/data/mix/train.csv")],
        },
        dev_manifests={
            "clean_path": [str(tree / DEV_SETS["clean"][0])],
            "noisy_path": [str(tree / DEV_SETS["noisy"][0])],
        },
        rir_manifest=str(tree / "results/data/rirs/train.csv"),
        out_model=str(model),
        out_history=str(out / "ds.history.json"),
        state_path=str(out / "state.pt"),
        device="cpu",
        seed=seed,
    )
    return model


def score(tree: Path, model: Path, out: Path) -> pd.DataFrame:
    """Per-item dev transcripts of ``model`` (``testset,utt_id,item_id,words,wer``)."""
    from advspeech.asr.evaluate import load_recognizer, transcribe_manifest

    recognizer = load_recognizer(str(model), torch.device("cpu"))
    frames = []
    for testset, (manifest, column) in DEV_SETS.items():
        frames.append(transcribe_manifest(recognizer, manifest, column).assign(testset=testset))
    items = pd.concat(frames, ignore_index=True)
    items["voice"] = voice_names(tree, items["utt_id"])
    items.to_csv(out / "dev_items.csv", index=False)
    return items


def voice_names(tree: Path, utt_ids: pd.Series) -> pd.Series:
    """Each utterance's voice: the embedded corpus's voice (accent+variant, rate, pitch,
    pitch range: the same voice keeps its name when speaker ids shift between corpora),
    else its speaker id."""
    speakers = tree / "resources/embedded/speakers.csv"
    ids = utt_ids.map(voice_of)
    if not speakers.exists():
        return ids
    frame = pd.read_csv(speakers)
    names = dict(zip(frame["speaker"].astype(str),
                     frame["voice"] + "/" + frame["words_per_minute"].astype(str) + "/"
                     + frame["pitch"].astype(str) + "/" + frame["pitch_range"].astype(str),
                     strict=True))  # fmt: skip
    return ids.map(names)


def per_voice(items: pd.DataFrame) -> pd.DataFrame:
    """Per test set and voice: the voice's WER (its errors over its words)."""
    g = items.assign(errors=items["wer"] * items["words"] / 100.0)
    sums = g.groupby(["testset", "voice"])[["errors", "words"]].sum()
    return (100.0 * sums["errors"] / sums["words"]).rename("wer").reset_index()


def compare_voices(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """B - A paired by voice (for corpora whose dev voices agree but sentences do not):
    the mean over voices of the per-voice WER difference, a bootstrap over voices."""
    joined = per_voice(a).merge(per_voice(b), on=["testset", "voice"], suffixes=("_a", "_b"))
    rows = []
    for testset, g in joined.groupby("testset"):
        ci = cluster_bootstrap_ci((g["wer_b"] - g["wer_a"]).to_numpy())
        rows.append({"testset": testset, "b_minus_a": ci.mean, "low": ci.low, "high": ci.high,
                     "voices": len(g), "worst_a": g["wer_a"].max(),
                     "worst_b": g["wer_b"].max()})  # fmt: skip
    return pd.DataFrame(rows)


def summary(items: pd.DataFrame) -> pd.DataFrame:
    """Per test set: corpus WER, and the best, median and worst voice's WER."""
    corpus = items.assign(errors=items["wer"] * items["words"] / 100.0)
    sums = corpus.groupby("testset")[["errors", "words"]].sum()
    voices = per_voice(items).groupby("testset")["wer"]
    return pd.DataFrame({"wer": 100.0 * sums["errors"] / sums["words"],
                         "voices": voices.size(), "best_voice": voices.min(),
                         "median_voice": voices.median(), "worst_voice": voices.max(),
                         "voices_above_12": voices.apply(lambda w: int((w > 12.0).sum()))}
                        ).reset_index()  # fmt: skip


def compare(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """B - A on the same dev items: the words-weighted mean of the per-item WER
    differences (= the corpus WER difference) with a voice-then-utterance interval."""
    rows = []
    joined = a.merge(b, on=["testset", "item_id", "utt_id", "words"], suffixes=("_a", "_b"))
    for testset, g in joined.groupby("testset"):
        ci = cluster_bootstrap_ci(g["wer_b"] - g["wer_a"], g["utt_id"], weights=g["words"])
        rows.append({"testset": testset, "b_minus_a": ci.mean, "low": ci.low, "high": ci.high,
                     "items": ci.n, "voices": ci.voices})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = tuning_parser(__doc__, "asr_voice_dev", split=False)
    parser.add_argument("--tree", type=Path, help="a workflow's working directory (its results/)")
    parser.add_argument("--model", type=Path, help="score this checkpoint instead of training")
    parser.add_argument("--speed-perturb", type=float, nargs="*", default=[])
    parser.add_argument("--epochs", type=int, help="asr.train.epochs (default: config.yaml)")
    parser.add_argument("--seed", type=int, default=1234, help="training randomness")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    parser.add_argument(
        "--compare-voices", nargs=2, type=Path, metavar=("A", "B"), help="pair by voice"
    )
    args = tuning_args(parser, SCRIPT)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    pair = args.compare or args.compare_voices
    if pair:
        a, b = (pd.read_csv(p / "dev_items.csv") for p in pair)
        for name, items in (("A", a), ("B", b)):
            print(name, "\n", summary(items).round(2).to_string(index=False))
        diff = compare(a, b) if args.compare else compare_voices(a, b)
        print("B - A\n", diff.round(2).to_string(index=False))
        return
    if args.tree is None:
        parser.error("--tree is required unless --compare")
    tree, out = args.tree.resolve(), Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for manifest, _ in DEV_SETS.values():
        refuse_test_rows(parser, pd.read_csv(tree / manifest), str(tree / manifest), SCRIPT)
    os.chdir(tree)  # manifests hold paths relative to the working directory
    model = args.model.resolve() if args.model else None
    if model is None:
        model = train(tree, out, args.speed_perturb, args.epochs, args.seed)
    items = score(tree, model, out)
    print(summary(items).round(2).to_string(index=False))


if __name__ == "__main__":
    main()

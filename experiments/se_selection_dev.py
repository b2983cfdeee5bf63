"""Select an enhancement model's training settings on dev: train variants, score on dev.

Each variant (``--variant NAME key=value ...``, over ``se.models.<model>`` and
``se.train`` of config.yaml) is trained exactly as the ``train_se`` rule would, on the
train mixtures of a finished workflow run with early stopping on the dev loss, in its
own process (``--jobs`` at a time, one thread each), then applied to every *dev*
mixture and to each mixture's clean utterance. Printed side by side: PESQ, STOI and SNR
on the mixtures, PESQ and STOI of the clean utterances through the model (against
themselves: the benign control), and each variant's paired difference to the first one
with a 95 % interval over utterances, and whether it meets the clean-speech control: the
lower 95 % bound over dev *speakers* of its clean PESQ and STOI at least 3.5 and 0.95
(the bound, not the mean: test speaks with voices dev has not got). A variant whose model
file in ``--out`` was trained with the same settings is reused, not retrained (delete the
file to retrain), and its per-mixture scores are cached beside it (``NAME.scores.csv``).
A tuning tool: it reads train and dev data only and refuses ``--split test``.

``--training advt`` selects the adversarial fine-tuning (``se.advt``, Eq. 6) instead:
each variant starts from the workdir's noisy-trained model of the same architecture and
learns from the train-split adversarial examples, as the ``train_se`` rule's ``advt``
training does; variant keys then override ``se.advt``.

    .venv/bin/python experiments/se_selection_dev.py --workdir DIR --model waveunet \\
        --variant l1_stft loss=l1_stft --variant mse loss=mse --variant l1_stft_lr5e-4 loss=l1_stft lr=0.0005
    .venv/bin/python experiments/se_selection_dev.py --workdir DIR --model unet_at --training advt \\
        --variant default --variant clean2 clean_fraction=0.25
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from tuning import default_config, tuning_args, tuning_parser

from advspeech.core.io import read_audio, read_csv
from advspeech.core.torchutil import set_threads
from advspeech.evaluation.metrics import pesq_stoi_snr
from advspeech.evaluation.statistics import cluster_bootstrap_ci, paired_difference_ci
from advspeech.pipeline.config import se_train_settings
from advspeech.se.enhance import enhance_signal, load_enhancer
from advspeech.se.train import SETrainConfig, fit_enhancer

TRAIN_KEYS = {f.name for f in fields(SETrainConfig)}


def trained_before(
    out: str, model: str, model_cfg: dict, train_cfg: dict, init: str | None = None
) -> bool:
    """Whether ``out`` holds a finished training of exactly these settings (and, for a
    fine-tuning, one newer than the model ``init`` it started from)."""
    history = Path(out.replace(".pt", ".history.json"))
    if not (Path(out).exists() and history.exists()):
        return False
    if init is not None and os.path.getmtime(out) < os.path.getmtime(init):
        return False
    meta = json.loads(history.read_text()).get("meta", {})
    return (meta.get("name"), meta.get("model"), meta.get("train")) == (
        model,
        model_cfg,
        train_cfg,
    )


def train_variant(job: tuple) -> str:
    """Train one variant as the ``train_se`` rule would (in a worker process). ``job``:
    name, model, model config, train config, output, seed, start model, adversarial
    manifests, and optionally the train and dev mixture manifests (default: the run's)."""
    name, model, model_cfg, train_cfg, out, seed, init, adversarial, *manifests = job
    train_manifest, dev_manifest = manifests or (
        "results/data/mix/train.csv",
        "results/data/mix/dev.csv",
    )
    if trained_before(out, model, model_cfg, train_cfg, init):
        return f"{name} (reused {out})"
    set_threads(1)
    fit_enhancer(
        name=model,
        model_cfg=model_cfg,
        train_cfg=train_cfg,
        train_manifest=train_manifest,
        dev_manifest=dev_manifest,
        adversarial_manifests=adversarial,
        init_model=init,
        out_model=out,
        out_history=out.replace(".pt", ".history.json"),
        state_path=out.replace(".pt", ".state.pt"),
        device="cpu",
        seed=seed,
    )
    return name


# the benign control on dev: each line must be cleared by the lower 95 % bound of the
# model's score on clean dev speech over dev speakers (test has voices dev has not got,
# so the dev bound, not the dev mean, must clear the line)
CLEAN_CONTROL = {"clean_pesq": 3.5, "clean_stoi": 0.95}


def score_variant(stem: str, mixtures: pd.DataFrame, pairs: list, segment: int, jobs: int) -> dict:
    """Per-mixture PESQ, STOI and SNR of ``stem``.pt on the (clean, noisy) ``pairs`` of
    ``mixtures``, and PESQ and STOI of each clean utterance through it against itself
    (the benign control); cached in ``stem``.scores.csv while it is newer than the model."""
    cache = Path(f"{stem}.scores.csv")
    if cache.exists() and cache.stat().st_mtime > Path(f"{stem}.pt").stat().st_mtime:
        cached = pd.read_csv(cache)
        if cached["mix_id"].tolist() == mixtures["mix_id"].tolist():
            return {c: cached[c].to_numpy() for c in cached.columns if c != "mix_id"}
    model = load_enhancer(f"{stem}.pt", torch.device("cpu"))
    outputs = [enhance_signal(model, torch.from_numpy(n), segment, "cpu").numpy() for _, n in pairs]
    scores = pesq_stoi_snr([c for c, _ in pairs], outputs, jobs)
    through = [enhance_signal(model, torch.from_numpy(c), segment, "cpu").numpy() for c, _ in pairs]
    clean_scores = pesq_stoi_snr([c for c, _ in pairs], through, jobs)
    scores |= {f"clean_{m}": clean_scores[m] for m in ("pesq", "stoi")}
    pd.DataFrame({"mix_id": mixtures["mix_id"], **scores}).to_csv(cache, index=False)
    return {m: np.asarray(v) for m, v in scores.items()}


def main() -> None:
    parser = tuning_parser(__doc__, "results/experiments/se_selection_dev")
    parser.add_argument("--workdir", default=".", help="a finished workflow run")
    parser.add_argument("--model", default="waveunet")
    parser.add_argument("--variant", nargs="+", action="append", required=True)
    parser.add_argument("--training", choices=["noisy", "advt"], default="noisy")
    args = tuning_args(parser, "experiments/se_selection_dev.py")
    config = default_config()
    os.chdir(args.workdir)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    # as the train_se rule: advt fine-tunes the noisy-trained model on adversarial pairs
    init, adversarial = None, []
    if args.training == "advt":
        init = f"results/models/se/{args.model}_noisy.pt"
        adversarial = [
            f"results/attacks/{attack}/ds/train/manifest.csv"
            for attack in config["attacks"]["adversarial_training"]
        ]
        for path in [init, *adversarial]:
            if not Path(path).exists():
                parser.error(f"--training advt needs {path} in --workdir {args.workdir}")
    jobs = []
    for name, *pairs in args.variant:
        overrides = {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in pairs)}
        model_cfg = {**config["se"]["models"][args.model]}
        train_cfg = se_train_settings(config, args.model, args.training)
        for key, value in overrides.items():
            (train_cfg if key in TRAIN_KEYS else model_cfg)[key] = value
        out = f"{args.out}/{name}.pt"
        jobs.append(
            (name, args.model, model_cfg, train_cfg, out, config["seed"], init, adversarial)
        )
    with ProcessPoolExecutor(args.jobs) as pool:
        for done in pool.map(train_variant, jobs):
            print(f"trained {done}", flush=True)

    set_threads(args.jobs)
    mixtures = read_csv(
        f"results/data/mix/{args.split}.csv", required=["noisy_path", "clean_path", "speaker"]
    )
    pairs = [
        (read_audio(c)[0][0], read_audio(n)[0][0])
        for c, n in zip(mixtures["clean_path"], mixtures["noisy_path"], strict=True)
    ]
    utts = mixtures["utt_id"].to_numpy()
    speakers = mixtures["speaker"].to_numpy()
    segment = config["se"]["segment"]
    results = {
        name: score_variant(f"{args.out}/{name}", mixtures, pairs, segment, args.jobs)
        for name, *_ in args.variant
    }
    first = args.variant[0][0]
    rows = []
    for name, *pairs_ in args.variant:
        row = {"variant": name, "settings": " ".join(pairs_), "mixtures": len(mixtures)}
        for metric, values in results[name].items():
            diff = paired_difference_ci(values, results[first][metric], utts)
            row |= {
                metric: float(np.nanmean(values)),
                f"{metric}_vs_{first}": diff.mean,
                f"{metric}_low": diff.low,
                f"{metric}_high": diff.high,
            }
        for metric in CLEAN_CONTROL:  # cluster bootstrap by speaker
            bound = cluster_bootstrap_ci(results[name][metric], speakers)
            row |= {f"{metric}_speaker_low": bound.low}
        row["meets_clean_control"] = all(
            row[f"{m}_speaker_low"] >= line for m, line in CLEAN_CONTROL.items()
        )
        rows.append(row)
        print(
            f"{name:>16}: "
            + "  ".join(
                f"{m.upper()} {row[m]:.3f} ({row[f'{m}_vs_{first}']:+.3f} [{row[f'{m}_low']:+.3f}, {row[f'{m}_high']:+.3f}])"
                for m in ("pesq", "stoi", "snr", "clean_pesq", "clean_stoi")
            )
            + "  clean PESQ/STOI speaker low "
            + "/".join(f"{row[f'{m}_speaker_low']:.3f}" for m in CLEAN_CONTROL)
            + ("  meets" if row["meets_clean_control"] else "  misses")
            + " the clean control",
            flush=True,
        )
    pd.DataFrame(rows).to_csv(f"{args.out}/selection.csv", index=False)
    print(f"wrote {args.out}/selection.csv")


if __name__ == "__main__":
    main()

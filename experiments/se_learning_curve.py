"""Learning curves of the enhancement models: dev quality against training budget.

For each model of config.yaml (``se.models`` with ``se.train`` and its ``per_model``
override), one training run on the train mixtures of a finished workflow run is carried
to the largest budget multiple; at each multiple of the default step count (default
1/2, 1, 2, 4, 8) the weights the ``train_se`` rule would keep at that budget (lowest dev
loss so far; early stopping off) are applied to a fixed sample of *dev* mixtures and to
their clean utterances. Printed as one table, saved as CSV and PNG: dev PESQ, STOI and
SNR of the enhanced mixtures, PESQ/STOI of the enhanced clean input against itself
(what the model does to clean speech), the training and dev loss, and the CPU seconds.
The gains over the noisy input come with 95 % cluster-bootstrap intervals over
utterances, and the per-mixture scores of each multiple (``{model}_{multiple}x.csv``) and
of the noisy input (``noisy.csv``) are kept, so that budgets or runs pair by ``mix_id``.

The schedule is the configured one *stretched over the largest budget*: with
``schedule: cosine`` a checkpoint at 1x is not a 1x run (its learning rate has not
decayed), so with cosine read the curve for "does it keep learning", and the final
point only for the value of the full budget. One process per model (``--jobs`` at a
time, one thread each). A tuning tool: it reads train and dev data, and refuses
``--split test``.

    .venv/bin/python experiments/se_learning_curve.py --workdir DIR [--models waveunet unet_at]
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from se_noise_generalisation import without_types
from tuning import REPO, tuning_args, tuning_parser

from advspeech.core.io import read_audio, read_csv
from advspeech.core.torchutil import seed_everything, set_threads
from advspeech.evaluation.metrics import pesq_stoi_snr
from advspeech.evaluation.statistics import paired_difference_ci
from advspeech.pipeline.config import se_train_settings
from advspeech.pipeline.split_guard import TestSplitRefused, require_tuning_split
from advspeech.se import build_se
from advspeech.se.dnn import DNNEnhancer
from advspeech.se.enhance import enhance_signal
from advspeech.se.train import Pairs, SETrainConfig, train_enhancer
from advspeech.training.checkpoint import ResumableState


def model_settings(config: dict, model: str) -> tuple[dict, dict]:
    """(model config, train config) exactly as the ``train_se`` rule gets them."""
    return dict(config["se"]["models"][model]), se_train_settings(config, model, "noisy")


def dev_sample(
    manifest: str, count: int, seed: int, types: list[str] | None = None
) -> tuple[list, list, pd.DataFrame]:
    """A fixed random sample of ``count`` mixtures of ``manifest`` (only those of the
    noise ``types`` when given): clean, noisy, and their ids (``mix_id`` where the
    manifest has it, ``utt_id``, ``noise_env``)."""
    mixtures = read_csv(manifest, required=["noisy_path", "clean_path", "utt_id"])
    if types:
        mixtures = mixtures[mixtures["noise_env"].isin(types)]
    mixtures = mixtures.sample(n=min(count, len(mixtures)), random_state=seed)
    clean = [read_audio(p)[0][0] for p in mixtures["clean_path"]]
    noisy = [read_audio(p)[0][0] for p in mixtures["noisy_path"]]
    ids = [c for c in ("mix_id", "utt_id", "noise_env") if c in mixtures]
    return clean, noisy, mixtures[ids].reset_index(drop=True)


def curve(job: tuple) -> list[dict]:
    """Train one model to the largest multiple, scoring the kept weights at each."""
    model_name, model_cfg, train_cfg, window, multiples, scored, count, seed, out, held_out = job
    set_threads(1)
    gen = seed_everything(seed)
    model = build_se(model_name, model_cfg)
    tag = "_".join(held_out)
    train, dev = (
        Pairs.from_manifest(
            without_types(
                f"results/data/mix/{split}.csv", held_out, Path(out) / f"{split}_without_{tag}.csv"
            ),
            "noisy_path",
        )
        for split in ("train", "dev")
    )
    clean, noisy, ids = dev_sample(scored, count, seed, held_out)
    base_steps = train_cfg["steps"]
    total = round(max(multiples) * base_steps)
    cfg = SETrainConfig(**{**train_cfg, "steps": total, "schedule_steps": total, "patience": 10**9})
    if isinstance(model, DNNEnhancer):
        x, y = train.sample(64, cfg.segment, torch.Generator().manual_seed(seed))
        model.fit_normalisation(x, y)
    state = ResumableState(f"{out}/{model_name}.state.pt", "learning-curve")
    state.clear()
    rows, spent = [], 0.0
    for multiple in sorted(multiples):
        steps = round(multiple * base_steps)
        t0 = time.process_time()
        # train_enhancer resumes from ``state`` and stops at cfg.steps: continuing the
        # same run, with the schedule of the largest budget
        best, history = train_enhancer(
            model,
            train,
            dev,
            SETrainConfig(**{**cfg.__dict__, "steps": steps}),
            torch.device("cpu"),
            gen,
            state,
        )
        spent += time.process_time() - t0
        kept = build_se(model_name, model_cfg)
        kept.load_state_dict(best["state_dict"])
        kept.eval()
        # enhanced as the workflow does, in se.segment windows (a model may train on shorter crops)
        enhanced = [enhance_signal(kept, torch.from_numpy(n), window, "cpu") for n in noisy]
        passed = [enhance_signal(kept, torch.from_numpy(c), window, "cpu") for c in clean]
        scores = pesq_stoi_snr(clean, [e.numpy() for e in enhanced])
        clean_scores = pesq_stoi_snr(clean, [p.numpy() for p in passed])
        per_mixture = ids.assign(
            **scores, **{f"clean_{k}": v for k, v in clean_scores.items() if k != "snr"}
        )
        per_mixture.to_csv(f"{out}/{model_name}_{multiple:g}x.csv", index=False)
        rows.append(
            {
                "model": model_name,
                "multiple": multiple,
                "steps": steps,
                "best_step": best["step"],
                "train_loss": history[-1]["train_loss"],
                "dev_loss": best["loss"],
                "pesq": float(np.nanmean(scores["pesq"])),
                "stoi": float(np.nanmean(scores["stoi"])),
                "snr": float(np.nanmean(scores["snr"])),
                "clean_pesq": float(np.nanmean(clean_scores["pesq"])),
                "clean_stoi": float(np.nanmean(clean_scores["stoi"])),
                "cpu_seconds": spent,
            }
        )
        print(
            "  ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in rows[-1].items()
            ),
            flush=True,
        )
    state.clear()
    return rows


def gains(out: str, model: str, multiple: float, noisy: dict, ids: pd.DataFrame) -> dict:
    """Enhanced minus noisy PESQ, STOI and SNR over the scored mixtures: mean and 95 %
    cluster-bootstrap interval over utterances (the same mixtures, paired)."""
    enhanced = pd.read_csv(f"{out}/{model}_{multiple:g}x.csv")
    row = {}
    for metric in ("pesq", "stoi", "snr"):
        diff = paired_difference_ci(enhanced[metric], noisy[metric], ids["utt_id"])
        row |= {f"{metric}_gain": diff.mean, f"{metric}_gain_low": diff.low}
        row |= {f"{metric}_gain_high": diff.high}
    return row


def plot(frame: pd.DataFrame, noisy: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["pesq", "stoi", "snr", "clean_pesq"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.4))
    for ax, metric in zip(axes, metrics, strict=True):
        for model, part in frame.groupby("model"):
            ax.plot(part["multiple"], part[metric], marker="o", label=model)
        if metric in noisy:
            ax.axhline(noisy[metric], color="grey", ls="--", label="noisy input")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training budget (x default steps)")
        ax.set_title(metric.replace("_", " ").upper() + " (dev)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = tuning_parser(__doc__, "results/experiments/se_learning_curve")
    parser.add_argument("--workdir", default=".", help="a finished workflow run")
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    parser.add_argument("--models", nargs="+", default=["dnn", "waveunet", "unet_at"])
    parser.add_argument("--multiples", nargs="+", type=float, default=[0.5, 1, 2, 4, 8])
    parser.add_argument("--count", type=int, default=48, help="dev mixtures scored")
    parser.add_argument(
        "--hold-out",
        nargs="+",
        default=[],
        help="train noise types left out of training; scored on mixtures of those types "
        "only (--mixtures: the cross-type dev mixtures of experiments/se_noise_generalisation.py)",
    )
    parser.add_argument("--mixtures", help="manifest of the scored mixtures (default: the split's)")
    args = tuning_args(parser, "experiments/se_learning_curve.py")
    config = yaml.safe_load(Path(args.config).read_text())
    if args.hold_out and not args.mixtures:
        parser.error("--hold-out needs --mixtures with mixtures of the held-out types")
    os.chdir(args.workdir)
    scored = args.mixtures or f"results/data/mix/{args.split}.csv"
    splits = set(read_csv(scored).get("split", []))
    try:
        for split in splits | ({"test"} if Path(scored).name == "test.csv" else set()):
            require_tuning_split(split, "experiments/se_learning_curve.py --mixtures")
    except TestSplitRefused as err:
        parser.error(str(err))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    seed = config["seed"]
    jobs = [
        (
            m,
            *model_settings(config, m),
            config["se"]["segment"],
            args.multiples,
            scored,
            args.count,
            seed,
            args.out,
            args.hold_out,
        )
        for m in args.models
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [row for part in pool.map(curve, jobs) for row in part]
    clean, noisy, ids = dev_sample(scored, args.count, seed, args.hold_out)
    noisy_scores = pesq_stoi_snr(clean, noisy)
    baseline = {k: float(np.nanmean(v)) for k, v in noisy_scores.items()}
    ids.assign(**noisy_scores).to_csv(f"{args.out}/noisy.csv", index=False)
    frame = pd.DataFrame(
        [row | gains(args.out, row["model"], row["multiple"], noisy_scores, ids) for row in rows]
    )
    frame.to_csv(f"{args.out}/curve.csv", index=False)
    plot(frame, baseline, f"{args.out}/curve.png")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(frame.round(3).to_string(index=False))
    print(
        f"noisy input ({len(noisy)} dev mixtures): PESQ {baseline['pesq']:.3f} "
        f"STOI {baseline['stoi']:.3f} SNR {baseline['snr']:.2f} dB"
    )
    print(f"wrote {args.out}/curve.csv and curve.png")


if __name__ == "__main__":
    main()

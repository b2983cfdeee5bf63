"""Issue 17's enhancement targets, read off a finished workflow run's per-item scores.

One row per done-when item of the issue "Enhancement that enhances" (the gains of the
noisy-trained models over the unprocessed noisy mixtures, the model ordering of the
paper's Table 1, and what every model does to clean speech), each with its paired
difference (or, for the clean-speech control, its mean) and a 95 % cluster-bootstrap
interval over utterances, computed from ``results/scores/<system>/{noisy,clean}.csv``
exactly as ``results/claims.csv`` computes its comparisons.

Two verdicts per row, because the issue states its targets on the mean: ``met`` (the
mean reaches the target) and ``clears`` (the whole interval does; for "above" items
this is the paired test's verdict). A report of a finished run, not a tuning tool: it
reads the run's final scores (test, on the default config) and chooses nothing.

    .venv/bin/python bench/se_targets.py --directory DIR [--out targets.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from advspeech.claims import SCORE_KEYS, compare
from advspeech.io import read_csv
from advspeech.metrics import cluster_bootstrap_ci
from advspeech.paper import NOISY_INPUT, SE_LABELS, SE_MODEL_NAMES, se_system

# issue 17, "Done when": gains over Noisy_D of U-Net_At and U-Net_W
UNET_GAIN_TARGETS = {"pesq": 0.25, "stoi": 0.0, "snr": 3.0}
UNETS = ("waveunet", "unet_at")
# every enhancement model fed clean speech, scored against it
CLEAN_TARGETS = {"pesq": 3.5, "stoi": 0.95}
UNPROCESSED = "unprocessed"  # the system name of Noisy_D in results/scores


def _scores(directory: Path, system: str, testset: str) -> pd.DataFrame:
    return read_csv(
        directory / "results" / "scores" / system / f"{testset}.csv",
        required=SCORE_KEYS + list(UNET_GAIN_TARGETS),
    )


def _row(item: str, value, target: float, strict: bool) -> dict:
    """``strict``: the target is "above" (> target) rather than "at least" (>= target)."""
    mean, low, high = value.mean, value.low, value.high
    reaches = (lambda x: x > target) if strict else (lambda x: x >= target)
    return {
        "item": item,
        "value": mean,
        "low": low,
        "high": high,
        "target": f"{'>' if strict else '>='} {target:g}",
        "met": bool(reaches(mean)),
        "clears": bool(reaches(low)),
        "utterances": value.clusters,
    }


def targets_table(directory: Path, seed: int = 0) -> pd.DataFrame:
    """The done-when items of issue 17 for the run in ``directory``."""
    noisy = {UNPROCESSED: _scores(directory, UNPROCESSED, "noisy")}
    for se in SE_MODEL_NAMES:
        noisy[se] = _scores(directory, se_system(se, "noisy"), "noisy")
    label = SE_LABELS["noisy"]

    def diff(a: str, b: str, metric: str):
        name_b = NOISY_INPUT if b == UNPROCESSED else label[b]
        return compare(noisy[a], noisy[b], metric, SCORE_KEYS, f"{label[a]} - {name_b}", seed).diff

    rows = []
    for se in UNETS:
        for metric, target in UNET_GAIN_TARGETS.items():
            rows.append(
                _row(
                    f"{metric.upper()} {label[se]} - {NOISY_INPUT}",
                    diff(se, UNPROCESSED, metric),
                    target,
                    strict=target == 0.0,
                )
            )
    for se in UNETS:
        rows.append(_row(f"PESQ {label[se]} - {label['dnn']}", diff(se, "dnn", "pesq"), 0.0, True))
    rows.append(
        _row(
            f"PESQ {label['unet_at']} - {label['waveunet']}",
            diff("unet_at", "waveunet", "pesq"),
            0.0,
            strict=False,
        )
    )
    for metric in UNET_GAIN_TARGETS:
        rows.append(
            _row(
                f"{metric.upper()} {label['dnn']} - {NOISY_INPUT}",
                diff("dnn", UNPROCESSED, metric),
                0.0,
                strict=True,
            )
        )
    for training, labels in SE_LABELS.items():
        for se in SE_MODEL_NAMES:
            clean = _scores(directory, se_system(se, training), "clean")
            for metric, target in CLEAN_TARGETS.items():
                value = cluster_bootstrap_ci(clean[metric], clean["utt_id"], seed=seed)
                rows.append(_row(f"clean {metric.upper()} {labels[se]}", value, target, False))
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", default=".", help="a finished workflow run")
    parser.add_argument("--out", help="also write the table here as CSV")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    args = parser.parse_args()
    table = targets_table(Path(args.directory), args.seed)
    with pd.option_context("display.width", 140, "display.float_format", "{:+.4f}".format):
        print(table.to_string(index=False))
    print(f"{int(table['met'].sum())} of {len(table)} items met on the mean")
    if args.out:
        table.to_csv(args.out, index=False, float_format="%.6g")


if __name__ == "__main__":
    main()

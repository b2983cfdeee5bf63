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

A second table gives each noisy-trained model's PESQ gain over Noisy_D by the mixtures'
input SNR, in MOS-LQO (what PESQ reports, and the issue's targets) and in the raw P.862
score behind it (:func:`advspeech.evaluation.metrics.pesq_wb_raw`). MOS-LQO is flat near its floor,
so a gain on inputs scoring about 1.1 reads several times smaller than the same raw gain
on inputs of the paper's 1.97.

    .venv/bin/python bench/se_targets.py --directory DIR [--out targets.csv] [--by-snr-out F]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from advspeech.core.io import read_csv
from advspeech.evaluation.claims import SCORE_KEYS, compare
from advspeech.evaluation.metrics import pesq_wb_raw
from advspeech.evaluation.statistics import cluster_bootstrap_ci
from advspeech.reporting.paper import NOISY_INPUT, SE_LABELS, SE_MODEL_NAMES, se_system

METRICS = ("pesq", "stoi", "snr")
# issue 17, "Done when": (strictly above?, bound) of the gains over Noisy_D of both U-Nets
UNET_GAIN_TARGETS = {"pesq": (False, 0.25), "stoi": (True, 0.0), "snr": (False, 3.0)}
UNETS = ("waveunet", "unet_at")
ABOVE = (True, 0.0)  # the orderings: a - b > 0
NOT_BELOW = (False, 0.0)  # U-Net_At - U-Net_W >= 0
# every enhancement model fed clean speech, scored against it: at least these
CLEAN_TARGETS = {"pesq": (False, 3.5), "stoi": (False, 0.95)}
UNPROCESSED = "unprocessed"  # the system name of Noisy_D in results/scores


def _scores(directory: Path, system: str, testset: str) -> pd.DataFrame:
    return read_csv(
        directory / "results" / "scores" / system / f"{testset}.csv",
        required=SCORE_KEYS + list(METRICS),
    )


def _row(item: str, value, target: tuple[bool, float]) -> dict:
    """``target``: (strict, bound), "above" (> bound) when strict, else "at least"."""
    strict, bound = target
    reaches = (lambda x: x > bound) if strict else (lambda x: x >= bound)
    return {
        "item": item,
        "value": value.mean,
        "low": value.low,
        "high": value.high,
        "target": f"{'>' if strict else '>='} {bound:g}",
        "met": bool(reaches(value.mean)),
        "clears": bool(reaches(value.low)),
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
            item = f"{metric.upper()} {label[se]} - {NOISY_INPUT}"
            rows.append(_row(item, diff(se, UNPROCESSED, metric), target))
    for se in UNETS:
        rows.append(_row(f"PESQ {label[se]} - {label['dnn']}", diff(se, "dnn", "pesq"), ABOVE))
    item = f"PESQ {label['unet_at']} - {label['waveunet']}"
    rows.append(_row(item, diff("unet_at", "waveunet", "pesq"), NOT_BELOW))
    for metric in METRICS:
        item = f"{metric.upper()} {label['dnn']} - {NOISY_INPUT}"
        rows.append(_row(item, diff("dnn", UNPROCESSED, metric), ABOVE))
    for training, labels in SE_LABELS.items():
        for se in SE_MODEL_NAMES:
            clean = _scores(directory, se_system(se, training), "clean")
            for metric, target in CLEAN_TARGETS.items():
                value = cluster_bootstrap_ci(clean[metric], clean["utt_id"], seed=seed)
                rows.append(_row(f"clean {metric.upper()} {labels[se]}", value, target))
    return pd.DataFrame(rows)


def gains_by_input_snr(directory: Path, seed: int = 0) -> pd.DataFrame:
    """PESQ gain over Noisy_D of each noisy-trained model by input SNR (and over all),
    in MOS-LQO and in raw P.862 units, paired by mixture, 95 % cluster-bootstrap
    intervals over utterances for the raw gain."""
    mixtures = read_csv(
        directory / "results" / "data" / "mix" / "test.csv", required=["mix_id", "snr_db"]
    )
    snr_of = mixtures.set_index("mix_id")["snr_db"]

    def frame(system: str) -> pd.DataFrame:
        scores = _scores(directory, system, "noisy")
        return scores.assign(
            pesq_raw=pesq_wb_raw(scores["pesq"]), input_snr=scores["item_id"].map(snr_of)
        )

    noisy = frame(UNPROCESSED)
    if noisy["input_snr"].isna().any():
        missing = noisy.loc[noisy["input_snr"].isna(), "item_id"].iloc[0]
        raise SystemExit(f"{missing}: scored mixture not in results/data/mix/test.csv")
    label = SE_LABELS["noisy"]
    levels = [(f"{snr:g} dB", noisy["input_snr"] == snr) for snr in sorted(snr_of.unique())]
    levels.append(("all", noisy["input_snr"].notna()))
    rows = []
    for se in SE_MODEL_NAMES:
        enhanced = frame(se_system(se, "noisy"))
        for level, chosen in levels:
            part = noisy[chosen]
            gain = {
                m: compare(enhanced, part, m, SCORE_KEYS, label[se], seed).diff
                for m in ("pesq", "pesq_raw")
            }
            rows.append(
                {
                    "model": label[se],
                    "input_snr": level,
                    "mixtures": int(chosen.sum()),
                    "noisy_pesq": part["pesq"].mean(),
                    "gain_mos_lqo": gain["pesq"].mean,
                    "gain_raw": gain["pesq_raw"].mean,
                    "gain_raw_low": gain["pesq_raw"].low,
                    "gain_raw_high": gain["pesq_raw"].high,
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", default=".", help="a finished workflow run")
    parser.add_argument("--out", help="also write the table here as CSV")
    parser.add_argument("--by-snr-out", help="also write the PESQ gains by input SNR here")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    args = parser.parse_args()
    table = targets_table(Path(args.directory), args.seed)
    by_snr = gains_by_input_snr(Path(args.directory), args.seed)
    with pd.option_context("display.width", 140, "display.float_format", "{:+.4f}".format):
        print(table.to_string(index=False))
        print(f"{int(table['met'].sum())} of {len(table)} items met on the mean")
        print("\nPESQ gain over Noisy_D by input SNR: MOS-LQO and raw P.862 (95 % CI, raw)")
        print(by_snr.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False, float_format="%.6g")
    if args.by_snr_out:
        by_snr.to_csv(args.by_snr_out, index=False, float_format="%.6g")


if __name__ == "__main__":
    main()

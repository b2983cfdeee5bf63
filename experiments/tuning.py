"""What every dev tuning driver shares: its command line with the split guard, the
repository's default config, and the cached scores of the unprocessed mixtures.

A tuning driver reads train and dev data only (docs/protocol.md): :func:`tuning_args`
refuses ``--split test`` and :func:`refuse_test_rows` a manifest holding test rows,
each as an argparse error naming the script (:mod:`advspeech.pipeline.split_guard`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from advspeech.pipeline.split_guard import TestSplitRefused, require_tuning_split

REPO = Path(__file__).resolve().parents[1]
METRICS = ("pesq", "stoi", "snr")


def tuning_parser(doc: str, out: str, split: bool = True) -> argparse.ArgumentParser:
    """An argument parser described by the first line of ``doc``, with ``--jobs`` and
    ``--out`` (default ``out``) and, with ``split``, ``--split`` (default dev)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if split:
        parser.add_argument("--split", default="dev", help="train or dev (test is refused)")
    parser.add_argument("--jobs", type=int, default=2, help="processes")
    parser.add_argument("--out", default=out, help="output folder or file stem")
    return parser


def tuning_args(parser: argparse.ArgumentParser, script: str) -> argparse.Namespace:
    """Parse the command line; ``--split test`` is an argparse error naming ``script``."""
    args = parser.parse_args()
    if hasattr(args, "split"):
        try:
            require_tuning_split(args.split, script)
        except TestSplitRefused as err:
            parser.error(str(err))
    return args


def refuse_test_rows(
    parser: argparse.ArgumentParser, frame: pd.DataFrame, source: str, script: str
) -> None:
    """An argparse error when any row of the manifest ``source`` is of the test split."""
    try:
        for split in sorted(set(frame["split"])):
            require_tuning_split(split, script)
    except TestSplitRefused as err:
        parser.error(f"{source}: {err}")


def default_config() -> dict:
    """The repository's config.yaml with the schema's defaults filled in, as the
    workflow sees it (the defaults a tuning run varies)."""
    from snakemake.utils import validate

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"), set_default=True)
    return config


def noisy_scores(
    mixtures: pd.DataFrame, pairs: list[tuple[str, str]], cache: Path, jobs: int
) -> dict[str, np.ndarray]:
    """PESQ, STOI and SNR of the unprocessed mixtures (``pairs``: clean and noisy
    paths, in ``mixtures``' order), cached in ``cache``; the cache is used only when it
    holds exactly these mixtures, in this order."""
    from advspeech.evaluation.metrics import pesq_stoi_snr

    cache = Path(cache)
    if cache.exists():
        cached = pd.read_csv(cache)
        if cached["mix_id"].tolist() == mixtures["mix_id"].tolist():
            return {m: cached[m].to_numpy() for m in METRICS}
    scores = pesq_stoi_snr([c for c, _ in pairs], [n for _, n in pairs], jobs)
    pd.DataFrame({"mix_id": mixtures["mix_id"], **scores}).to_csv(cache, index=False)
    return {m: np.asarray(scores[m]) for m in METRICS}

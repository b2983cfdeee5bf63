"""Intervals and paired tests over scored items.

Trials of one utterance (its noises, SNRs, rooms) are correlated: resampling them as if
independent makes intervals too narrow. Every interval here resamples utterances
(clusters) with all their items, and a comparison of two systems on the same items
bootstraps the per-utterance paired differences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval, the finite items it is over and their clusters."""

    mean: float  # mean over the finite items
    low: float
    high: float
    n: int  # finite items
    clusters: int  # utterances they belong to


def cluster_bootstrap_ci(
    values: Sequence[float],
    clusters: Sequence[object] | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    weights: Sequence[float] | None = None,
) -> Interval:
    """(Weighted) mean of the finite ``values`` with a percentile cluster-bootstrap
    interval: each replicate draws clusters (utterances) with replacement and takes the
    mean over all items of the drawn clusters. ``clusters=None`` makes every item its own
    cluster. ``weights`` (e.g. reference words, so that per-utterance WERs average to
    the corpus WER) default to one per item."""
    x = np.asarray(values, dtype=np.float64)
    groups = np.arange(x.size) if clusters is None else np.asarray(clusters)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if groups.shape != x.shape or w.shape != x.shape:
        raise ValueError(f"{x.size} values, {groups.size} cluster labels, {w.size} weights")
    keep = np.isfinite(x) & (w > 0)
    x, groups, w = x[keep], groups[keep], w[keep]
    if x.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, 0)
    _, index = np.unique(groups, return_inverse=True)
    sums = np.bincount(index, weights=w * x)
    totals = np.bincount(index, weights=w)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, sums.size, size=(n_boot, sums.size))
    means = sums[draw].sum(axis=1) / totals[draw].sum(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    mean = float(np.sum(w * x) / np.sum(w))
    return Interval(mean, float(lo), float(hi), int(x.size), int(sums.size))


def bootstrap_ci(
    values: Sequence[float], n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float, int]:
    """Mean of independent finite values with a percentile bootstrap CI: (mean, low,
    high, n). For items grouped by utterance use :func:`cluster_bootstrap_ci`."""
    ci = cluster_bootstrap_ci(values, None, n_boot, level, seed)
    return ci.mean, ci.low, ci.high, ci.n


def paired_difference_ci(
    a: Sequence[float],
    b: Sequence[float],
    clusters: Sequence[object],
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Mean of a - b over items scored by both systems (the same item at the same
    position), with a cluster-bootstrap interval over utterances: a paired test whose
    verdict "a > b" is ``low > 0``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values differ in shape: {a.shape} vs {b.shape}")
    return cluster_bootstrap_ci(a - b, clusters, n_boot, level, seed)

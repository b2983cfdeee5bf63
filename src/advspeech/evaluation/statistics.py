"""Intervals and paired tests over scored items, at the level of the independent units.

The items of a table (an utterance's noises and SNRs, its room trials, its budgets) are
nested: items within utterances, utterances within voices. Neither level is
independent of the one above it, so every interval here is a hierarchical bootstrap:
each replicate draws voices with replacement, then utterances with replacement within
each drawn voice, and takes the (weighted) mean over all items of the drawn
utterances. A claim about "speech" then holds over voices, not only over the sentences
of the voices this run happened to draw. A comparison of two systems on the same items
bootstraps the per-item paired differences the same way.

Voices are read off utterance ids in the LibriSpeech layout (``<speaker>-<chapter>-<n>``,
:func:`voice_of`); labels of another shape are their own voice (an utterance-level
bootstrap). A cell whose values are all zero has no sampling variation to resample; it
gets a one-sided 95 % upper bound instead, the rule of three over its voices
(:func:`zero_upper_bound`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

_LIBRISPEECH_ID = re.compile(r"^(\d+)-\d+-\d+$")


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval, the finite items it is over, the utterances
    (``clusters``) and voices they belong to, and the bootstrap replicates of the mean."""

    mean: float  # mean over the finite items
    low: float
    high: float
    n: int  # finite items
    clusters: int  # utterances they belong to
    voices: int = 0  # voices the utterances belong to
    replicates: np.ndarray | None = field(default=None, repr=False, compare=False)

    def p_at_most(self, threshold: float = 0.0) -> float:
        """Bootstrap p-value of "the mean is above ``threshold``": the share of
        replicates at or below it, (k + 1) / (B + 1); 1.0 without replicates."""
        if self.replicates is None or not len(self.replicates):
            return 1.0
        k = int(np.sum(self.replicates <= threshold))
        return (k + 1) / (len(self.replicates) + 1)

    def p_at_least(self, threshold: float) -> float:
        """Bootstrap p-value of "the mean is below ``threshold``"."""
        if self.replicates is None or not len(self.replicates):
            return 1.0
        k = int(np.sum(self.replicates >= threshold))
        return (k + 1) / (len(self.replicates) + 1)


def voice_of(utt_id: object) -> str:
    """The speaker of an utterance id in the LibriSpeech layout (``84-121123-0001`` ->
    ``84``); any other label is its own voice."""
    text = str(utt_id)
    match = _LIBRISPEECH_ID.match(text)
    return match.group(1) if match else text


def zero_upper_bound(voices: int, scale: float = 1.0) -> float:
    """One-sided 95 % upper bound of a rate observed as zero over ``voices`` independent
    voices: the rule of three, 3 / voices (capped at ``scale``), times ``scale`` (100
    for a percentage)."""
    return scale * min(1.0, 3.0 / max(voices, 1))


def cluster_bootstrap_ci(
    values: Sequence[float],
    clusters: Sequence[object] | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    weights: Sequence[float] | None = None,
    voices: Sequence[object] | None = None,
    crossed: Sequence[object] | None = None,
) -> Interval:
    """(Weighted) mean of the finite ``values`` with a percentile hierarchical-bootstrap
    interval: voices with replacement, then utterances (``clusters``) with replacement
    within each drawn voice, the mean over all items of the drawn utterances. With
    ``crossed`` (the room, or noise recording, of each item: a factor every utterance
    meets, not one nested in it), a two-way bootstrap: each replicate also draws the
    levels of that factor with replacement, and an item counts as often as its
    utterance times its level are drawn, so the interval carries the factor's variance.

    Args:
        values: one value per item (NaN items are left out and counted).
        clusters: the utterance of each item; None makes every item its own utterance.
        weights: per item (e.g. reference words, so per-utterance WERs average to the
            corpus WER); one per item by default.
        voices: the voice of each item; by default read off the utterance ids
            (:func:`voice_of`).

    Returns:
        :class:`Interval` with the counts of items, utterances and voices and the
        replicates of the mean.
    """
    x = np.asarray(values, dtype=np.float64)
    utts = np.arange(x.size) if clusters is None else np.asarray(clusters)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if utts.shape != x.shape or w.shape != x.shape:
        raise ValueError(f"{x.size} values, {utts.size} cluster labels, {w.size} weights")
    if voices is None:
        spk = utts if clusters is None else np.array([voice_of(u) for u in utts])
    else:
        spk = np.asarray(voices)
    keep = np.isfinite(x) & (w > 0)
    x, utts, w, spk = x[keep], utts[keep], w[keep], spk[keep]
    if x.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, 0, 0)
    utt_keys, index = np.unique(utts, return_inverse=True)
    sums = np.bincount(index, weights=w * x)
    totals = np.bincount(index, weights=w)
    n_voices, utt_voice = _utterance_voices(spk, index, utt_keys.size)
    rng = np.random.default_rng(seed)
    if crossed is None:
        num, den = _hierarchical_draws(sums, totals, utt_voice, n_voices, n_boot, rng)
    else:
        levels = np.unique(np.asarray(crossed)[keep], return_inverse=True)[1]
        times = _crossed_counts(index, levels, utt_voice, n_voices, n_boot, rng)
        num, den = times @ (w * x), times @ w
    means = num / np.where(den > 0, den, np.nan)
    means = means[np.isfinite(means)]
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    mean = float(np.sum(w * x) / np.sum(w))
    return Interval(mean, float(lo), float(hi), int(x.size), int(utt_keys.size), n_voices, means)


def _utterance_voices(spk: np.ndarray, index: np.ndarray, n_utts: int) -> tuple[int, np.ndarray]:
    """The number of voices and each utterance's voice (an utterance has one voice: its
    first item's); every utterance its own voice gives a plain cluster bootstrap, in
    utterance order."""
    first = np.zeros(n_utts, dtype=np.int64)
    first[index[::-1]] = np.arange(index.size)[::-1]
    voice_keys, utt_voice = np.unique(spk[first], return_inverse=True)
    if voice_keys.size == n_utts:
        utt_voice = np.arange(n_utts)
    return int(voice_keys.size), utt_voice


def _voice_draws(utt_voice: np.ndarray, n_voices: int, n_boot: int, rng: np.random.Generator):
    """The hierarchical draw, one voice at a time: ``n_voices`` voices with replacement,
    each drawn voice contributing as many utterances, drawn with replacement from its
    own, as it has. Yields, per voice drawn in some replicate, the (n_boot, k) utterance
    indices drawn and the mask of those each replicate uses."""
    drawn = rng.integers(0, n_voices, size=(n_boot, n_voices))
    counts = (drawn[:, :, None] == np.arange(n_voices)[None, None, :]).sum(axis=1)
    for v in range(n_voices):
        members = np.flatnonzero(utt_voice == v)
        times = counts[:, v]
        if times.max() == 0:
            continue
        draw = members[rng.integers(0, members.size, size=(n_boot, times.max() * members.size))]
        used = np.arange(draw.shape[1])[None, :] < (times * members.size)[:, None]
        yield draw, used


def _hierarchical_draws(
    sums: np.ndarray,
    totals: np.ndarray,
    utt_voice: np.ndarray,
    n_voices: int,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate of the hierarchical draw (:func:`_voice_draws`), the summed weighted
    values and weights of the drawn utterances."""
    num = np.zeros(n_boot)
    den = np.zeros(n_boot)
    for draw, used in _voice_draws(utt_voice, n_voices, n_boot, rng):
        num += np.where(used, sums[draw], 0.0).sum(axis=1)
        den += np.where(used, totals[draw], 0.0).sum(axis=1)
    return num, den


def _utterance_counts(
    utt_voice: np.ndarray, n_voices: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_boot, utterances): how often each utterance is drawn in each replicate of the
    hierarchical draw (:func:`_voice_draws`)."""
    counts = np.zeros((n_boot, utt_voice.size))
    for draw, used in _voice_draws(utt_voice, n_voices, n_boot, rng):
        rows = np.broadcast_to(np.arange(n_boot)[:, None], draw.shape)
        np.add.at(counts, (rows[used], draw[used]), 1.0)
    return counts


def _crossed_counts(
    utterance: np.ndarray,
    level: np.ndarray,
    utt_voice: np.ndarray,
    n_voices: int,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(n_boot, items): how often each item counts in each replicate of the two-way
    bootstrap: its utterance's count in the hierarchical draw times its level's count in
    an independent draw of the crossed factor's levels with replacement."""
    utt_times = _utterance_counts(utt_voice, n_voices, n_boot, rng)
    n_levels = int(level.max()) + 1
    level_times = rng.multinomial(n_levels, np.full(n_levels, 1.0 / n_levels), size=n_boot)
    return utt_times[:, utterance] * level_times[:, level]


def rate_ci(
    successes: Sequence[float],
    clusters: Sequence[object],
    scale: float = 100.0,
    n_boot: int = 2000,
    seed: int = 0,
    crossed: Sequence[object] | None = None,
) -> Interval:
    """A success rate (RoSA, TASR) in ``scale`` units (percent by default) with its
    hierarchical-bootstrap interval (two-way with ``crossed``, e.g. the rooms of
    over-the-air trials); a rate observed as zero reports [0, rule of three over its
    voices] (:func:`zero_upper_bound`) instead of [0, 0]."""
    values = scale * np.asarray(successes, dtype=np.float64)
    ci = cluster_bootstrap_ci(values, clusters, n_boot=n_boot, seed=seed, crossed=crossed)
    if ci.n and ci.mean == 0.0:
        return Interval(0.0, 0.0, zero_upper_bound(ci.voices, scale), ci.n, ci.clusters,
                        ci.voices, ci.replicates)  # fmt: skip
    return ci


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
    weights: Sequence[float] | None = None,
) -> Interval:
    """(Weighted) mean of a - b over items scored by both systems (the same item at the
    same position), with a hierarchical-bootstrap interval over voices and utterances.
    The claims' tests are the sign-flip tests over voices (:func:`sign_flip_test`); this
    interval is the effect's size and uncertainty."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values differ in shape: {a.shape} vs {b.shape}")
    return cluster_bootstrap_ci(a - b, clusters, n_boot, level, seed, weights=weights)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaN stays NaN): the k-th
    smallest of m is multiplied by m - k + 1, made monotone, capped at 1."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


# --- calibrated paired tests at the voice level ----------------------------------------------

EXACT_MAX_VOICES = 16
"""Up to this many voices the sign-flip test enumerates every sign pattern (2^16 =
65,536); beyond, it draws :data:`SIGN_FLIP_DRAWS` random patterns."""
SIGN_FLIP_DRAWS = 20_000


@dataclass(frozen=True)
class SignFlipTest:
    """A one-sided sign-flip (randomisation) test of the mean voice-level difference:
    under the null each voice's mean difference is as likely to be negative as positive
    (symmetric about 0), so flipping the signs of the voices' differences gives the null
    distribution of their mean. ``p_greater`` tests "mean > 0", ``p_less`` "mean < 0";
    ``min_p`` is the smallest p-value the design can give (1 / 2^voices for the exact
    test), whatever the data."""

    voices: int
    mean: float  # mean over voices of the voices' mean differences
    p_greater: float
    p_less: float
    min_p: float
    exact: bool


def voice_means(
    diffs: Sequence[float], voices: Sequence[object], weights: Sequence[float] | None = None
) -> np.ndarray:
    """Each voice's (weighted) mean of its items' finite differences, in voice order:
    the independent units of every paired test (items within a voice are correlated)."""
    d = np.asarray(diffs, dtype=np.float64)
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=np.float64)
    v = np.asarray(voices)
    keep = np.isfinite(d) & (w > 0)
    d, w, v = d[keep], w[keep], v[keep]
    if d.size == 0:
        return np.zeros(0)
    _, index = np.unique(v, return_inverse=True)
    return np.bincount(index, weights=w * d) / np.bincount(index, weights=w)


def sign_flip_test(units: Sequence[float], seed: int = 0) -> SignFlipTest:
    """The sign-flip test of the mean of ``units`` (one value per independent unit, e.g.
    :func:`voice_means`), exact up to :data:`EXACT_MAX_VOICES` units, Monte-Carlo with
    :data:`SIGN_FLIP_DRAWS` draws (p = (k + 1) / (B + 1)) beyond. Ties with the observed
    mean count as at least as extreme, so the test is conservative."""
    x = np.asarray(units, dtype=np.float64)
    n = x.size
    if n == 0:
        return SignFlipTest(0, float("nan"), float("nan"), float("nan"), 1.0, True)
    observed = float(x.mean())
    # a relative tolerance so that sign patterns equal to the observed mean up to
    # rounding count as ties
    tol = 1e-12 * max(1.0, float(np.abs(x).max()))
    if n <= EXACT_MAX_VOICES:
        patterns = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1) * 2 - 1
        null = patterns @ x / n
        p_greater = float(np.mean(null >= observed - tol))
        p_less = float(np.mean(null <= observed + tol))
        return SignFlipTest(n, observed, p_greater, p_less, 1.0 / 2**n, True)
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(SIGN_FLIP_DRAWS, n))
    null = signs @ x / n
    draws = SIGN_FLIP_DRAWS + 1
    p_greater = (int(np.sum(null >= observed - tol)) + 1) / draws
    p_less = (int(np.sum(null <= observed + tol)) + 1) / draws
    return SignFlipTest(n, observed, p_greater, p_less, max(1.0 / 2**n, 1.0 / draws), False)

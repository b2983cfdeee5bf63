"""The paired comparison every claim is made of, and the table claims are collected in.

A comparison is a paired test on the differences a - b of the same items. Items within
a voice are correlated, so the test's unit is the voice: each voice's (weighted) mean
difference, and an exact sign-flip test of their mean (Monte-Carlo beyond
:data:`~advspeech.evaluation.statistics.EXACT_MAX_VOICES` voices;
:func:`~advspeech.evaluation.statistics.sign_flip_test`). Two forms:

- *superiority* ("a > b"): p of the voices' mean difference above 0;
- *non-inferiority* within a margin ("a - b < margin", the benign-cost claims): p of
  the voices' mean of margin - (a - b) above 0.

The interval shown beside each difference is the hierarchical bootstrap over voices,
then utterances. WER differences are weighted by reference words (the corpus WER of
the tables), every other measure by item.

A claim over several comparisons holds only when every one does (an intersection-union
test: its p is the largest of theirs); it is contradicted when some comparison goes
significantly the other way (the smallest opposite p, times the number of
comparisons). The family is every testable claim of one file; both directions are
Holm-adjusted over it at :data:`ALPHA` one-sided each. Verdicts:

- ``holds``: adjusted p below :data:`ALPHA`;
- ``contradicted``: the opposite direction's adjusted p below :data:`ALPHA`;
- ``not_shown``: neither;
- ``untestable`` with a ``reason``: ``constant arms`` (0 % against 0 %, 100 % against
  100 %), ``too few units`` (fewer than :data:`MIN_VOICES` voices or
  :data:`MIN_UTTERANCES` utterances), or ``underpowered``: not decided, and its
  ``min_p`` (the smallest p its design can give, 1 / 2^voices) times its Holm
  multiplier is not below :data:`ALPHA`, so no data could have made it hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advspeech.evaluation.statistics import (
    EXACT_MAX_VOICES,
    SIGN_FLIP_DRAWS,
    Interval,
    SignFlipTest,
    holm,
    paired_difference_ci,
    sign_flip_test,
    voice_means,
    voice_of,
)

# fewer utterances or voices than this cannot carry a paired claim about a whole test set
MIN_UTTERANCES = 8
MIN_VOICES = 3
# a defence "keeps clean WER" when its paired increase over no defence is below this
# (a non-inferiority margin, in WER points)
CLEAN_WER_MARGIN = 2.0
ALPHA = 0.025  # one-sided, after Holm's adjustment over the claims of one file

CLAIM_COLUMNS = [
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
SCORE_KEYS = ["utt_id", "item_id"]  # a scored item: an utterance's mixture or example
TRIAL_KEYS = ["utt_id", "room_id"]  # an over-the-air trial: an utterance in a room
VERDICTS = ("holds", "contradicted", "not_shown", "untestable")
UNTESTABLE_REASONS = ("constant arms", "too few units", "underpowered")


@dataclass(frozen=True)
class Comparison:
    """a - b over the shared items: the bootstrap interval of the item-level mean and the
    sign-flip test over voices; a superiority test, or a non-inferiority test when
    ``margin`` is set."""

    label: str
    diff: Interval
    test: SignFlipTest
    constant: bool = False  # both arms constant and equal: nothing to decide
    margin: float | None = None

    @property
    def reason(self) -> str:
        """Why nothing can be decided ("" when the comparison is testable)."""
        d = self.diff
        if self.constant:
            return "constant arms"
        if d.clusters < MIN_UTTERANCES or d.voices < MIN_VOICES:
            return "too few units"
        return ""

    @property
    def untestable(self) -> bool:
        return bool(self.reason)

    @property
    def p_value(self) -> float:
        """One-sided p of a > b (or of a - b < margin) over voices; NaN when untestable."""
        return float("nan") if self.untestable else self.test.p_greater

    @property
    def p_opposite(self) -> float:
        """One-sided p of the opposite direction (a < b, or a - b > margin)."""
        return float("nan") if self.untestable else self.test.p_less

    @property
    def greater(self) -> bool:
        """a > b: enough utterances and the interval of a - b above 0."""
        return bool(not self.untestable and self.diff.low > 0)

    @property
    def within_margin(self) -> bool:
        """a - b below :data:`CLEAN_WER_MARGIN` at the upper interval end."""
        return bool(not self.untestable and self.diff.high < CLEAN_WER_MARGIN)

    def __str__(self) -> str:
        d = self.diff
        return (
            f"{self.label}: {d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}] "
            f"({d.n} items, {d.clusters} utt, {d.voices} voices)"
        )


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    value: str,
    keys: list[str],
    label: str,
    seed: int = 0,
    margin: float | None = None,
    weights: str | None = None,
) -> Comparison:
    """Paired comparison of column ``value`` of two per-item frames joined on ``keys``
    (``utt_id`` among them: the utterance, whose id names its voice); a non-inferiority
    comparison when ``margin`` is given. ``weights`` names a column of ``a`` weighting
    the items (``words`` for WER: the difference of corpus WERs)."""
    columns = keys + [value]
    extra = [weights] if weights and weights not in columns else []
    joined = a[columns + extra].merge(b[columns], on=keys, suffixes=("_a", "_b"))
    va = joined[f"{value}_a"].astype(float).to_numpy()
    vb = joined[f"{value}_b"].astype(float).to_numpy()
    w = None if weights is None else joined[weights].astype(float).to_numpy()
    diff = paired_difference_ci(va, vb, joined["utt_id"], seed=seed, weights=w)
    per_voice = voice_means(va - vb, [voice_of(u) for u in joined["utt_id"]], w)
    units = per_voice if margin is None else margin - per_voice
    finite = np.isfinite(va) & np.isfinite(vb)
    constant = bool(
        finite.any()
        and np.ptp(va[finite]) == 0
        and np.ptp(vb[finite]) == 0
        and va[finite][0] == vb[finite][0]
    )
    return Comparison(label, diff, sign_flip_test(units, seed), constant, margin)


@dataclass
class Claims:
    """Claims in the order they are added (the rows of ``claims.csv``)."""

    rows: list[dict] = field(default_factory=list)

    def add(
        self,
        claim_id: str,
        artifact: str,
        claim: str,
        paper_value: str,
        comparisons: Sequence[Comparison],
    ) -> None:
        """One claim made of ``comparisons``, each of which must hold."""
        reasons = [c.reason for c in comparisons if c.reason] or (
            [] if comparisons else ["too few units"]
        )
        testable = not reasons
        units = [c.diff for c in comparisons]
        self.rows.append(
            {
                "claim_id": claim_id,
                "artifact": artifact,
                "claim": claim,
                "paper_value": paper_value,
                "our_value": "; ".join(str(c) for c in comparisons),
                "units": (
                    f"{min(d.voices for d in units)} voices, "
                    f"{min(d.clusters for d in units)} utterances, {min(d.n for d in units)} items"
                    if units
                    else "none"
                ),
                "p_value": max(c.p_value for c in comparisons) if testable else float("nan"),
                # the claim's p is the largest of its comparisons': its floor is theirs
                "min_p": max(c.test.min_p for c in comparisons) if comparisons else 1.0,
                "p_opposite": (
                    min(1.0, len(comparisons) * min(c.p_opposite for c in comparisons))
                    if testable
                    else float("nan")
                ),
                "reason": reasons[0] if reasons else "",
            }
        )

    def frame(self) -> pd.DataFrame:
        """The claims with Holm-adjusted p-values (both directions) and verdicts
        (:data:`CLAIM_COLUMNS`)."""
        frame = pd.DataFrame(self.rows)
        if frame.empty:
            return pd.DataFrame(columns=CLAIM_COLUMNS)
        p = frame["p_value"].to_numpy(dtype=float)
        frame["p_holm"] = holm(p)
        frame["p_opposite_holm"] = holm(frame["p_opposite"].to_numpy(dtype=float))
        multiplier = holm_multipliers(p)
        verdicts, reasons = [], []
        for row, m in zip(frame.itertuples(), multiplier, strict=True):
            if row.reason:
                verdict, reason = "untestable", row.reason
            elif row.p_holm < ALPHA:
                verdict, reason = "holds", ""
            elif row.p_opposite_holm < ALPHA:
                verdict, reason = "contradicted", ""
            elif row.min_p * m >= ALPHA:
                verdict, reason = "untestable", "underpowered"
            else:
                verdict, reason = "not_shown", ""
            verdicts.append(verdict)
            reasons.append(reason)
        frame["verdict"], frame["reason"] = verdicts, reasons
        frame["holds"] = frame["verdict"] == "holds"
        return frame[CLAIM_COLUMNS]


def rules_caption() -> str:
    """The claims' rules as the report states them (workflow/report/claims.rst), from the
    constants the code applies."""
    return (
        "The paper's claims from Tables 1-4 and Fig. 3, with the paper's numbers and ours. "
        "Each comparison is a paired test on the same items; its unit is the voice: an "
        "exact sign-flip test of the voices' mean difference (Monte-Carlo with "
        f"{SIGN_FLIP_DRAWS:,} draws beyond {EXACT_MAX_VOICES} voices), WER differences "
        "weighted by reference words. Each difference is shown as +d [low, high] (items, "
        "utterances, voices), the interval a hierarchical bootstrap over voices, then "
        "utterances. A claim over several comparisons holds when every one does "
        "(its p is the largest of theirs). The family is every testable claim of the "
        f"file, Holm-adjusted in each direction at {ALPHA} one-sided. Verdicts: holds; "
        "contradicted (significant the other way); not_shown; untestable, with the "
        f"reason: constant arms, too few units (fewer than {MIN_VOICES} voices or "
        f"{MIN_UTTERANCES} utterances) or underpowered (min_p, the smallest p of its "
        f"design, times its Holm multiplier is not below {ALPHA}). A defence keeps "
        f"clean WER when its paired increase is significantly below {CLEAN_WER_MARGIN:g} "
        "points (non-inferiority)."
    )


def holm_multipliers(p_values: Sequence[float]) -> np.ndarray:
    """Each finite p-value's factor in Holm's step-down (m for the smallest of m, 1 for
    the largest; ties in input order); NaN for the others."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    out[order] = order.size - np.arange(order.size)
    return out

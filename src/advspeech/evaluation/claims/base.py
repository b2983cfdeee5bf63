"""The paired comparison every claim is made of, and the table claims are collected in.

A comparison is one of two tests on the paired differences a - b of the same items,
bootstrapped over voices, then utterances:

- *superiority* ("a > b"): p is the share of bootstrap replicates of the mean
  difference at or below 0;
- *non-inferiority* within a margin ("a - b < margin", the benign-cost claims): p is
  the share at or above the margin.

A claim over several comparisons holds only when every one does (an intersection-union
test: its p is the largest of theirs). A comparison that cannot decide anything makes
its claim ``untestable``: fewer than :data:`MIN_UTTERANCES` utterances or
:data:`MIN_VOICES` voices, or both arms
constant (0 % against 0 %, 100 % against 100 %). The family of testable claims is
Holm-adjusted; a claim holds when its adjusted p is below :data:`ALPHA`, one-sided
(the level at which a 95 % two-sided interval excludes the null alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advspeech.evaluation.statistics import Interval, holm, paired_difference_ci

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
    "p_holm",
    "verdict",
    "holds",
]
SCORE_KEYS = ["utt_id", "item_id"]  # a scored item: an utterance's mixture or example
TRIAL_KEYS = ["utt_id", "room_id"]  # an over-the-air trial: an utterance in a room
VERDICTS = ("holds", "fails", "untestable")


@dataclass(frozen=True)
class Comparison:
    """a - b over the shared items, by a bootstrap over voices, then utterances; a
    superiority test, or a non-inferiority test when ``margin`` is set."""

    label: str
    diff: Interval
    constant: bool = False  # both arms constant and equal: nothing to decide
    margin: float | None = None

    @property
    def untestable(self) -> bool:
        d = self.diff
        return self.constant or d.clusters < MIN_UTTERANCES or d.voices < MIN_VOICES

    @property
    def p_value(self) -> float:
        """One-sided bootstrap p of a > b (or of a - b < margin); NaN when untestable."""
        if self.untestable:
            return float("nan")
        if self.margin is None:
            return self.diff.p_at_most(0.0)
        return self.diff.p_at_least(self.margin)

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
) -> Comparison:
    """Paired comparison of column ``value`` of two per-item frames joined on ``keys``
    (``utt_id`` among them: the utterance, whose id names its voice); a non-inferiority
    comparison when ``margin`` is given."""
    joined = a[keys + [value]].merge(b[keys + [value]], on=keys, suffixes=("_a", "_b"))
    va = joined[f"{value}_a"].astype(float).to_numpy()
    vb = joined[f"{value}_b"].astype(float).to_numpy()
    diff = paired_difference_ci(va, vb, joined["utt_id"], seed=seed)
    finite = np.isfinite(va) & np.isfinite(vb)
    constant = bool(
        finite.any()
        and np.ptp(va[finite]) == 0
        and np.ptp(vb[finite]) == 0
        and va[finite][0] == vb[finite][0]
    )
    return Comparison(label, diff, constant, margin)


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
        testable = bool(comparisons) and not any(c.untestable for c in comparisons)
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
            }
        )

    def frame(self) -> pd.DataFrame:
        """The claims with Holm-adjusted p-values and verdicts (:data:`CLAIM_COLUMNS`)."""
        frame = pd.DataFrame(self.rows, columns=[c for c in CLAIM_COLUMNS if c not in
                                                 ("p_holm", "verdict", "holds")])  # fmt: skip
        frame["p_holm"] = holm(frame["p_value"].to_numpy(dtype=float))
        frame["verdict"] = [
            "untestable" if not np.isfinite(p) else ("holds" if p < ALPHA else "fails")
            for p in frame["p_holm"]
        ]
        frame["holds"] = frame["verdict"] == "holds"
        return frame[CLAIM_COLUMNS]

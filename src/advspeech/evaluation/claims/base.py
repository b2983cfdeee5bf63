"""The paired comparison every claim is made of, and the table claims are collected in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from advspeech.evaluation.statistics import Interval, paired_difference_ci

# fewer utterances than this cannot carry a paired claim about a whole test set
MIN_UTTERANCES = 8
# a defence "keeps clean WER" when its paired increase over no defence is below this,
# upper interval end included (a non-inferiority margin, in WER points)
CLEAN_WER_MARGIN = 2.0

CLAIM_COLUMNS = ["claim_id", "artifact", "claim", "paper_value", "our_value", "holds"]
SCORE_KEYS = ["utt_id", "item_id"]  # a scored item: an utterance's mixture or example
TRIAL_KEYS = ["utt_id", "room_id"]  # an over-the-air trial: an utterance in a room


@dataclass(frozen=True)
class Comparison:
    """a - b over the shared items, by utterance-level bootstrap."""

    label: str
    diff: Interval

    @property
    def greater(self) -> bool:
        """a > b: enough utterances and the interval of a - b above 0."""
        return bool(self.diff.clusters >= MIN_UTTERANCES and self.diff.low > 0)

    @property
    def within_margin(self) -> bool:
        """a - b < :data:`CLEAN_WER_MARGIN` at the upper interval end (non-inferiority)."""
        return bool(self.diff.clusters >= MIN_UTTERANCES and self.diff.high < CLEAN_WER_MARGIN)

    def __str__(self) -> str:
        d = self.diff
        return (
            f"{self.label}: {d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}] "
            f"({d.n} items, {d.clusters} utt)"
        )


def compare(
    a: pd.DataFrame, b: pd.DataFrame, value: str, keys: list[str], label: str, seed: int = 0
) -> Comparison:
    """Paired comparison of column ``value`` of two per-item frames joined on ``keys``
    (``utt_id`` among them: the cluster)."""
    joined = a[keys + [value]].merge(b[keys + [value]], on=keys, suffixes=("_a", "_b"))
    diff = paired_difference_ci(
        joined[f"{value}_a"].astype(float),
        joined[f"{value}_b"].astype(float),
        joined["utt_id"],
        seed=seed,
    )
    return Comparison(label, diff)


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
        holds: bool | None = None,
        our_value: str | None = None,
    ) -> None:
        """One claim; it holds when every comparison is ``greater`` unless ``holds``
        says otherwise; ``our_value`` defaults to the comparisons' intervals."""
        self.rows.append(
            {
                "claim_id": claim_id,
                "artifact": artifact,
                "claim": claim,
                "paper_value": paper_value,
                "our_value": "; ".join(str(c) for c in comparisons)
                if our_value is None
                else our_value,
                "holds": bool(all(c.greater for c in comparisons) if holds is None else holds),
            }
        )

    def frame(self) -> pd.DataFrame:
        """The claims as a frame with :data:`CLAIM_COLUMNS`."""
        return pd.DataFrame(self.rows, columns=CLAIM_COLUMNS)

"""The evaluation protocol's split discipline, shared by the tuning scripts.

Hyper-parameters and models are chosen on the train and dev splits (dev utterances, dev
mixtures, dev rooms); the test split is read only by the workflow rules that build the
final tables. A script that tunes calls :func:`require_tuning_split` on every split it
is pointed at, so pointing it at test data is an error, not a silent leak.
"""

from __future__ import annotations

TUNING_SPLITS = ("train", "dev")


class TestSplitRefused(ValueError):
    """A tuning script was pointed at the test split."""


def require_tuning_split(split: str, what: str = "this script") -> str:
    """Return ``split`` if tuning may read it; refuse the test split (and unknown ones)."""
    if split not in TUNING_SPLITS:
        raise TestSplitRefused(
            f"{what} tunes, so it reads only {list(TUNING_SPLITS)} data, not {split!r}: "
            "the test split is for the final tables only"
        )
    return split

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


TUNING_ROOM_SETS = ("train", "attack", "dev")
"""Room sets a tuning script may play in."""
HELD_OUT_ROOM_SETS = ("test", "shifted")
"""Room sets only the rules that build the final tables play in."""


def require_tuning_rooms(path: str, room_ids=(), what: str = "this script") -> str:
    """Return ``path`` (a room manifest, ``results/data/rirs/<set>.csv``) if tuning may
    use its rooms; refuse the held-out test and shifted rooms, by the file's name and by
    its rooms' ids (``<set><n>``), so a copied or renamed test manifest is refused too."""
    from pathlib import Path

    sets = {Path(path).stem} | {str(r).rstrip("0123456789") for r in room_ids}
    held_out = sorted(s for s in sets if s in HELD_OUT_ROOM_SETS)
    if held_out:
        raise TestSplitRefused(
            f"{what} tunes, so it plays only in {list(TUNING_ROOM_SETS)} rooms, not in "
            f"{held_out} ({path}): the test rooms are for the final tables only"
        )
    return path

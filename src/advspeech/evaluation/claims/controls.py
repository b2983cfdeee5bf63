"""Claims on the benign cost of each defence: clean speech through it keeps the
recogniser's WER (non-inferiority within :data:`~.base.CLEAN_WER_MARGIN`)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from advspeech.evaluation.claims.base import CLEAN_WER_MARGIN, SCORE_KEYS, Claims, compare


def control_claims(
    claims: Claims, controls: Mapping[tuple[str, str, str], pd.DataFrame], seed: int
) -> None:
    """C-<defence>-CLEAN-WER for every defence in front of ``ds`` on clean test speech:
    the paired WER increase over no defence is below the margin (upper interval end)."""
    for (asr, defence, testset), frame in sorted(controls.items()):
        if defence == "none" or asr != "ds" or testset != "clean":
            continue
        none = controls[(asr, "none", testset)]
        label = f"{defence} - none"
        diff = compare(
            frame, none, "wer", SCORE_KEYS, label, seed, margin=CLEAN_WER_MARGIN, weights="words"
        )
        claims.add(
            f"C-{defence}-CLEAN-WER",
            "controls",
            f"{defence} keeps the clean test WER of {asr} within {CLEAN_WER_MARGIN:g} points "
            "of no defence (non-inferiority: the paired increase is below the margin)",
            "not reported",
            [diff],
        )

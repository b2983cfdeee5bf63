"""The paper's claims, checked against our per-utterance results, one module per family:
:mod:`~.quality` (Tables 1-3), :mod:`~.robustness` (Table 4 and Fig. 3),
:mod:`~.controls` (the benign cost of each defence) and :mod:`~.defences` (the SE
models against the input transformations, beyond the paper). :mod:`~.base` holds the
paired test every claim is made of and the table the claims are collected in.

A claim compares systems on the *same* items (mixtures, adversarial examples, room
trials), so each comparison "a > b" is a paired test over voices; the rules (the test,
the family, the minimum units, the verdicts) are stated in :mod:`~.base`, and
:func:`~.base.rules_caption` states them from the same constants for the report.
Output columns: :data:`~.base.CLAIM_COLUMNS`; ``our_value`` gives each difference as
``+d [low, high]`` (three decimals: STOI effects are a few thousandths).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from advspeech.evaluation.claims.base import (
    CLAIM_COLUMNS,
    CLEAN_WER_MARGIN,
    MIN_UTTERANCES,
    SCORE_KEYS,
    TRIAL_KEYS,
    Claims,
    Comparison,
    compare,
)
from advspeech.evaluation.claims.controls import control_claims
from advspeech.evaluation.claims.quality import quality_claims
from advspeech.evaluation.claims.robustness import adaptive_claims, table4_claims

__all__ = [
    "CLAIM_COLUMNS",
    "CLEAN_WER_MARGIN",
    "MIN_UTTERANCES",
    "SCORE_KEYS",
    "TRIAL_KEYS",
    "Comparison",
    "check_claims",
    "compare",
]


def check_claims(
    quality: Mapping[str, Mapping[str, pd.DataFrame]],
    trials: Mapping[tuple[str, str, str], pd.DataFrame],
    adaptive: Mapping[tuple[str, str], pd.DataFrame],
    controls: Mapping[tuple[str, str, str], pd.DataFrame],
    seed: int = 0,
    adaptive_step_db: float | None = None,
) -> pd.DataFrame:
    """Every claim of ``claims.csv`` from per-item results, one row each:

    - ``quality[table][label]``: per-item scores of Tables 1-3 (``utt_id,item_id,pesq,...``);
    - ``trials[(attack, victim, defence)]``: Table 4's over-the-air trials
      (``utt_id,room_id,success,wer``), labels as in the paper;
    - ``adaptive[(attack, defence)]``: Fig. 3's sweeps (``snr_db_budget,utt_id,success,skipped``),
      defence ``none`` and the defended one;
    - ``controls[(asr, defence, testset)]``: benign per-item WER (``utt_id,item_id,wer``);
    - ``adaptive_step_db``: the budget search's resolution (where a never-successful
      utterance is counted, one step below the floor).
    """
    claims = Claims()
    quality_claims(claims, quality, seed)
    table4_claims(claims, trials, seed)
    adaptive_claims(claims, adaptive, seed, adaptive_step_db)
    control_claims(claims, controls, seed)
    return claims.frame()

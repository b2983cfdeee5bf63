"""Each utterance's quietest successful SNR budget, read off the attempts of a budget
search (:mod:`advspeech.attacks.budget_search`): the measure of the paper's Fig. 3.

:func:`quietest_success` gives it per utterance, censored at the ceiling of the search
(it succeeded there: at least that quiet) and below its floor (it never succeeded:
counted one bisection step below the floor); :func:`tasr_curve` the share of utterances
whose quietest success is at least each budget of a grid, TASR against budget, falling
from 100 % to 0 % within the range when the range brackets the attack.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advspeech.core.io import unskipped

ADAPTIVE_COLUMNS = ["snr_db_budget", "utt_id", "snr_db", "success", "queries", "skipped"]
"""One row per attempt of the search: the budget, the utterance, the measured SNR of
the example, whether the target was decoded exactly, the queries, a skip reason."""


def quietest_success(trials: pd.DataFrame, step_db: float | None = None) -> pd.DataFrame:
    """Per attacked utterance: ``quietest_db``, the highest budget at which the attack
    succeeded, and ``censored`` (``above``: it succeeded at the ceiling; ``below``: it
    never succeeded, counted one bisection step, ``step_db``, below the floor; ``""``
    otherwise). ``step_db`` is the search's resolution, (ceiling - floor) / 2^steps
    (:func:`search_step_db`); None reads the finest step off the attempts."""
    tried = unskipped(trials)
    if tried.empty:
        return pd.DataFrame(columns=["utt_id", "quietest_db", "censored"])
    ceiling, floor = tried["snr_db_budget"].max(), tried["snr_db_budget"].min()
    budgets = np.sort(tried["snr_db_budget"].unique())
    step = (
        step_db
        if step_db is not None
        else (float(np.min(np.diff(budgets))) if budgets.size > 1 else 0.0)
    )
    rows = []
    for utt, group in tried.groupby("utt_id", sort=True):
        wins = group.loc[group["success"].astype(bool), "snr_db_budget"]
        if wins.empty:
            rows.append({"utt_id": utt, "quietest_db": floor - step, "censored": "below"})
        else:
            best = float(wins.max())
            censored = "above" if best >= ceiling else ""
            rows.append({"utt_id": utt, "quietest_db": best, "censored": censored})
    return pd.DataFrame(rows)


def search_step_db(snr_range: tuple[float, float], steps: int) -> float:
    """The resolution of a bisection of ``steps`` halvings over ``snr_range`` (dB)."""
    return (float(snr_range[1]) - float(snr_range[0])) / 2**steps


def tasr_curve(trials: pd.DataFrame, points: int = 21) -> pd.DataFrame:
    """TASR (%) against budget: the share of utterances whose quietest success is at
    least each of ``points`` budgets from the floor to the ceiling of the attempts."""
    quietest = quietest_success(trials)
    if quietest.empty:
        return pd.DataFrame(columns=["snr_db_budget", "tasr", "n"])
    tried = unskipped(trials)["snr_db_budget"]
    grid = np.linspace(tried.min(), tried.max(), points)
    q = quietest["quietest_db"].to_numpy()
    return pd.DataFrame(
        {
            "snr_db_budget": grid,
            "tasr": [100.0 * float(np.mean(q >= b)) for b in grid],
            "n": len(q),
        }  # fmt: skip
    )


def quietest_full_success(trials: pd.DataFrame, step_db: float | None = None) -> float:
    """The quietest budget at which every attacked utterance succeeds (dB): the lowest
    per-utterance quietest success (NaN without attempts; below the floor when one
    never succeeds)."""
    quietest = quietest_success(trials, step_db)
    return float(quietest["quietest_db"].min()) if not quietest.empty else float("nan")

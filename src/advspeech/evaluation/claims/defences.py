"""Claims beyond the paper: each SE model against the input transformations, on
over-the-air success at a comparable benign cost, and under the adaptive attacker
(rows of ``results/defence_claims.csv``, the columns of ``claims.csv``)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from advspeech.core.io import unskipped
from advspeech.evaluation.claims.base import CLEAN_WER_MARGIN, TRIAL_KEYS, Claims, compare

ADAPTIVE_KEYS = ["utt_id", "snr_db_budget"]


def defence_claims(
    kinds: Mapping[str, str],
    trials: Mapping[tuple[str, str], pd.DataFrame],
    controls: Mapping[tuple[str, str], pd.DataFrame],
    sweeps: Mapping[str, pd.DataFrame],
    attack: str = "grad",
    seed: int = 0,
) -> pd.DataFrame:
    """Claims per SE model (``kinds``: defence -> none/se/transform):

    - ``D-<se>-BEATS-TRANSFORMS``: for every transformation t, RoSA(t) - RoSA(se) > 0
      (paired on utterance and room) and the clean-WER cost of se is at most t's plus
      ``CLEAN_WER_MARGIN`` (paired, upper interval end);
    - ``D-<se>-ADAPTIVE``: for every transformation under the adaptive attacker,
      TASR(t) - TASR(se) > 0 (paired on utterance and budget).
    """
    ses = [d for d, k in kinds.items() if k == "se"]
    transforms = [d for d, k in kinds.items() if k == "transform"]
    claims = Claims()
    for se in ses:
        _beats_transforms(claims, se, transforms, trials, controls, attack, seed)
        if se in sweeps:
            _adaptive(claims, se, [t for t in transforms if t in sweeps], sweeps, attack, seed)
    return claims.frame()


def _beats_transforms(claims, se, transforms, trials, controls, attack, seed) -> None:
    def rosa(defence: str) -> pd.DataFrame:
        return trials[(attack, defence)].assign(v=lambda d: 100.0 * d["success"].astype(float))

    parts, holds = [], True
    for t in transforms:
        lower = compare(rosa(t), rosa(se), "v", TRIAL_KEYS, f"RoSA {t} - {se}", seed)
        cost = compare(
            controls[(se, "clean")],
            controls[(t, "clean")],
            "wer",
            ["utt_id", "item_id"],
            f"clean WER {se} - {t}",
            seed,
        )
        holds &= lower.greater and cost.within_margin
        parts += [str(lower), str(cost)]
    claims.add(
        f"D-{se}-BEATS-TRANSFORMS",
        "defences",
        f"{se} lowers {attack} RoSA below every input transformation at a "
        f"clean WER no more than {CLEAN_WER_MARGIN:g} points above it",
        "not studied",
        [],
        holds=bool(holds and transforms),
        our_value="; ".join(parts),
    )


def _adaptive(claims, se, transforms, sweeps, attack, seed) -> None:
    comps = [
        compare(
            _successes(sweeps[t]),
            _successes(sweeps[se]),
            "v",
            ADAPTIVE_KEYS,
            f"TASR {t} - {se}",
            seed,
        )
        for t in transforms
    ]
    claims.add(
        f"D-{se}-ADAPTIVE",
        "adaptive_defences",
        f"against the adaptive {attack} attacker, {se} keeps TASR below every "
        "input transformation at the same budgets",
        "not studied",
        comps,
        holds=bool(comps and all(c.greater for c in comps)),
    )


def _successes(sweep: pd.DataFrame) -> pd.DataFrame:
    return unskipped(sweep).assign(v=lambda d: 100.0 * d["success"].astype(float))

"""Claims beyond the paper: each SE model against the input transformations, on
over-the-air success at a comparable benign cost, and under the adaptive attacker
(rows of ``results/defence_claims.csv``, the columns of ``claims.csv``)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from advspeech.evaluation.claims.base import CLEAN_WER_MARGIN, TRIAL_KEYS, Claims, compare
from advspeech.evaluation.quietest import quietest_success


def defence_claims(
    kinds: Mapping[str, str],
    trials: Mapping[tuple[str, str], pd.DataFrame],
    controls: Mapping[tuple[str, str], pd.DataFrame],
    sweeps: Mapping[str, pd.DataFrame],
    attack: str = "grad",
    seed: int = 0,
    step_db: float | None = None,
) -> pd.DataFrame:
    """Claims per SE model (``kinds``: defence -> none/se/transform):

    - ``D-<se>-BEATS-TRANSFORMS``: for every transformation t, RoSA(t) - RoSA(se) > 0
      (paired on utterance and room) and the clean-WER cost of se is at most t's plus
      ``CLEAN_WER_MARGIN`` (paired, upper interval end);
    - ``D-<se>-ADAPTIVE``: for every transformation under the adaptive attacker, the
      quietest successful budget through t minus through se > 0 dB (paired on
      utterances).
    """
    ses = [d for d, k in kinds.items() if k == "se"]
    transforms = [d for d, k in kinds.items() if k == "transform"]
    claims = Claims()
    for se in ses:
        _beats_transforms(claims, se, transforms, trials, controls, attack, seed)
        if se in sweeps:
            adaptive = [t for t in transforms if t in sweeps]
            _adaptive(claims, se, adaptive, sweeps, attack, seed, step_db)
    return claims.frame()


def _beats_transforms(claims, se, transforms, trials, controls, attack, seed) -> None:
    def rosa(defence: str) -> pd.DataFrame:
        return trials[(attack, defence)].assign(v=lambda d: 100.0 * d["success"].astype(float))

    comparisons = []
    for t in transforms:
        lower = compare(rosa(t), rosa(se), "v", TRIAL_KEYS, f"RoSA {t} - {se}", seed)
        cost = compare(
            controls[(se, "clean")],
            controls[(t, "clean")],
            "wer",
            ["utt_id", "item_id"],
            f"clean WER {se} - {t}",
            seed,
            margin=CLEAN_WER_MARGIN,
            weights="words",
        )
        comparisons += [lower, cost]
    claims.add(
        f"D-{se}-BEATS-TRANSFORMS",
        "defences",
        f"{se} lowers {attack} RoSA below every input transformation at a "
        f"clean WER no more than {CLEAN_WER_MARGIN:g} points above it",
        "not studied",
        comparisons,
    )


def _adaptive(claims, se, transforms, sweeps, attack, seed, step_db) -> None:
    through_se = quietest_success(sweeps[se], step_db)
    comps = [
        compare(
            quietest_success(sweeps[t], step_db),
            through_se,
            "quietest_db",
            ["utt_id"],
            f"quietest dB {t} - {se}",
            seed,
        )  # fmt: skip
        for t in transforms
    ]
    claims.add(
        f"D-{se}-ADAPTIVE",
        "adaptive_defences",
        f"the adaptive {attack} attacker needs a louder perturbation through {se} than "
        "through every input transformation (quietest successful SNR budget, paired)",
        "not studied",
        comps,
    )

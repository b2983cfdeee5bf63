"""How quiet an attack can be: per utterance, the quietest perturbation (highest SNR
budget) at which an attack still succeeds, found by bisection over the budget (the
measure the paper's Fig. 3 reads: "100 % TASR at 7.63 dB without, -2.23 dB with").

Every utterance is first attacked at the ceiling and at the floor of the search range
(``attacks.adaptive.snr_range``), digitally (no room: the adaptive attacker feeds the
defended recogniser directly). An utterance that succeeds at the floor but not at the
ceiling is bisected ``steps`` times between the loudest budget it succeeded at and the
quietest it failed at. Utterances of a round that share a budget are attacked as one
batch. Each attempt is one row of the result
(``snr_db_budget,utt_id,snr_db,success,queries,skipped``).

:mod:`advspeech.evaluation.quietest` reads each utterance's quietest success and the
TASR curve off the attempts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from advspeech.asr.recognizer import Recognizer
from advspeech.attacks import ATTACKS
from advspeech.attacks.base import AttackJob
from advspeech.core.dsp import snr_db
from advspeech.evaluation.quietest import ADAPTIVE_COLUMNS


def digital_settings(attack: str, settings: dict):
    """The attack's settings for a digital attack (no room, no recording noise): the
    room settings a settings dataclass has are switched off; an attack whose settings
    have none (a registered plugin) runs with its own."""
    base = ATTACKS[attack].config(settings)
    if hasattr(base, "ota"):
        # one identity room is all there is to check: decoding it 16 times adds nothing
        return dataclasses.replace(
            base,
            check_rooms=1,
            ota=dataclasses.replace(base.ota, rooms_per_step=1, noise_std=(0.0, 0.0)),
        )
    fields = {f.name for f in dataclasses.fields(base)} if dataclasses.is_dataclass(base) else ()
    rooms = {k: 0 for k in ("rooms_per_check", "rooms_per_query") if k in fields}
    return dataclasses.replace(base, **rooms) if rooms else base


def quietest_success_search(
    attack: str,
    recognizer: Recognizer,
    waves: Sequence[np.ndarray],
    utt_ids: Sequence[str],
    target: str,
    snr_range: tuple[float, float],
    steps: int,
    settings: dict,
    seeds: Sequence[int],
    device: torch.device,
) -> pd.DataFrame:
    """Attack every utterance at the ceiling and the floor of ``snr_range`` (dB), then
    bisect ``steps`` times where it succeeds at the floor only. Returns one row per
    attempt (:data:`ADAPTIVE_COLUMNS`)."""
    floor, ceiling = float(snr_range[0]), float(snr_range[1])
    base = digital_settings(attack, settings)
    run = ATTACKS[attack].run
    identity_room = [np.array([1.0], dtype=np.float32)]
    rows: list[dict] = []

    def attempt(indices: list[int], budget: float) -> dict[int, bool]:
        cfg = dataclasses.replace(base, snr_db=budget)
        job = AttackJob(recognizer, [waves[i] for i in indices], target, identity_room,
                        [seeds[i] for i in indices], device)  # fmt: skip
        outcome = {}
        for i, res in zip(indices, run(job, cfg), strict=True):
            rows.append(_row(budget, utt_ids[i], waves[i], res))
            outcome[i] = bool(res.success_digital) and not res.skipped
        return outcome

    everyone = list(range(len(waves)))
    at_ceiling = attempt(everyone, ceiling)
    at_floor = attempt(everyone, floor)
    # per utterance in the bisection: (loudest success, quietest failure)
    open_ = {i: (floor, ceiling) for i in everyone if at_floor[i] and not at_ceiling[i]}
    for _ in tqdm(range(steps), desc=f"{attack} bisection"):
        by_budget: dict[float, list[int]] = {}
        for i, (lo, hi) in open_.items():
            by_budget.setdefault(round((lo + hi) / 2, 6), []).append(i)
        for budget, indices in sorted(by_budget.items()):
            for i, ok in attempt(indices, budget).items():
                lo, hi = open_[i]
                open_[i] = (budget, hi) if ok else (lo, budget)
    return pd.DataFrame(rows, columns=ADAPTIVE_COLUMNS)


def _row(budget: float, utt: str, wave: np.ndarray, res) -> dict:
    return {
        "snr_db_budget": budget,
        "utt_id": utt,
        "snr_db": snr_db(wave, res.adversarial) if not res.skipped else float("nan"),
        "success": bool(res.success_digital),
        "queries": res.queries,
        "skipped": res.skipped,
    }

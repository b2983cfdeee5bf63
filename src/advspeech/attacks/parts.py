"""The parts every attack shares, defined once: the room success criterion and the
budget projection of a perturbation.

- **Room success** (Yakura & Sakuma): an adversarial example succeeds in a set of rooms
  when the target is decoded exactly in more than half of them (:func:`room_success`);
  every attack's ``success`` and the over-the-air RoSA of Table 4 count it the same way.
- **K-room playback** (:func:`decoded_share`): a file played in K rooms
  (:func:`advspeech.attacks.base.play_in_rooms`) is judged by the share of rooms that
  decode the target.
- **Budget** (paper Sec. 4.2): the perturbation as added to the speech has a peak of at
  most ``linf`` and an energy of at most the clean energy times 10^(-snr_db / 10)
  (:func:`budget_scale` gives the factor that scales a perturbation into both; the
  searches on the perturbation first clip its samples to ``linf``,
  :func:`project_to_budget`). Scaling, not clipping, keeps a band-limited perturbation
  inside its band, which is why ``grad`` scales its band-passed perturbation.
- **The black-box searches' loop** (:func:`run_generations`, :func:`search_results`):
  both ``evo`` searches run generations of all their utterances' searches together
  until each is done or out of queries, and report their results the same way; only
  their search spaces and gradient estimators differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from advspeech.attacks.base import AttackResult
from advspeech.core.dsp import snr_budget_scale

ROOM_SUCCESS_SHARE = 0.5
"""Share of rooms that must decode the target, exceeded, for an example to succeed."""


def room_success(share):
    """Yakura & Sakuma's criterion on the share of rooms decoding the target (a float,
    an array or a tensor of shares)."""
    return share > ROOM_SUCCESS_SHARE


def decoded_share(
    recognizer, heard: Sequence[np.ndarray], per_file: int, target: str
) -> np.ndarray:
    """K-room playback's verdict: ``heard`` holds each file's ``per_file`` recordings in
    its rooms (file-major: the first file's K rooms, then the next file's), played by
    :func:`advspeech.attacks.base.play_in_rooms`; returns each file's share of rooms in
    which the recogniser decodes ``target`` exactly (one query per recording). Every
    attack's room check goes through it; each draws its rooms from its own stream."""
    texts = recognizer.transcribe(list(heard))
    hits = np.array([t == target for t in texts], dtype=np.float64).reshape(-1, per_file)
    return hits.sum(axis=1) / per_file


def budget_scale(
    played: torch.Tensor, x_energy: torch.Tensor, snr_db: float | None, linf: float | None = None
) -> torch.Tensor:
    """The factor, per row of ``played`` (..., N), that brings it within the SNR budget
    against ``x_energy`` (the clean rows' sums of squares) and, given ``linf``, within the
    peak bound: the smaller of the two (1 where a bound already holds)."""
    energy = played.pow(2).sum(dim=-1)
    if snr_db is None:
        scale = torch.ones_like(energy)
    else:
        scale = snr_budget_scale(x_energy, energy, snr_db)
    if linf is not None:
        peak = played.abs().amax(dim=-1).clamp(min=1e-12)
        scale = torch.minimum((linf / peak).clamp(max=1.0), scale)
    return scale


def project_to_budget(
    v: torch.Tensor, x_energy: torch.Tensor, linf: float, snr_db: float | None
) -> torch.Tensor:
    """``v`` (..., N) with its samples clipped to ``linf``, then scaled into the SNR budget
    (the searches that move the perturbation's samples themselves)."""
    v = v.clamp(-linf, linf)
    if snr_db is None:
        return v
    return v * budget_scale(v, x_energy, snr_db)[..., None]


# --- the black-box searches' shared loop ----------------------------------------------------


def run_generations(
    searches: Sequence,
    fits: Callable[[object], bool],
    generation: Callable[[list], None],
    before_each: Callable[[], None] | None = None,
) -> None:
    """The budget loop of the black-box searches: while any search is not done and its
    next generation fits its query budget (``fits``), run one generation of all such
    searches together (``generation(active)``: one batched victim query for all of
    them). ``before_each`` runs before every round (e.g. keeping snapshots at smaller
    budgets). The gradient estimators (the envelope NES, the waveform NES with an
    optional surrogate prior) live in ``generation``."""
    while True:
        if before_each is not None:
            before_each()
        active = [s for s in searches if fits(s)]
        if not active:
            return
        generation(active)


def search_results(
    searches: Sequence,
    files: Sequence[np.ndarray],
    digital: Sequence[str],
    target: str,
    successes: Sequence[bool],
    seconds: float,
    extra_queries: int = 0,
) -> list[AttackResult]:
    """One :class:`AttackResult` per search: its written file, its generations as steps,
    its queries plus the final transcription (and ``extra_queries``, e.g. the final
    room check), Yakura's success in rooms and the digital decode."""
    return [
        AttackResult(
            adversarial=f,
            steps=s.generations,
            queries=s.queries + 1 + extra_queries,
            seconds=seconds,
            success=bool(ok),
            success_digital=d == target,
        )
        for f, s, d, ok in zip(files, searches, digital, successes, strict=True)
    ]

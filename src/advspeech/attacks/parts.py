"""The parts every attack shares, defined once: the room success criterion and the
budget projection of a perturbation.

- **Room success** (Yakura & Sakuma): an adversarial example succeeds in a set of rooms
  when the target is decoded exactly in more than half of them (:func:`room_success`);
  every attack's ``success`` and the over-the-air RoSA of Table 4 count it the same way.
- **Budget** (paper Sec. 4.2): the perturbation as added to the speech has a peak of at
  most ``linf`` and an energy of at most the clean energy times 10^(-snr_db / 10)
  (:func:`budget_scale` gives the factor that scales a perturbation into both; the
  searches on the perturbation first clip its samples to ``linf``,
  :func:`project_to_budget`). Scaling, not clipping, keeps a band-limited perturbation
  inside its band, which is why ``grad`` scales its band-passed perturbation.
"""

from __future__ import annotations

import torch

from advspeech.core.dsp import snr_budget_scale

ROOM_SUCCESS_SHARE = 0.5
"""Share of rooms that must decode the target, exceeded, for an example to succeed."""


def room_success(share):
    """Yakura & Sakuma's criterion on the share of rooms decoding the target (a float,
    an array or a tensor of shares)."""
    return share > ROOM_SUCCESS_SHARE


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

"""Targeted audio attacks made robust to playback in a room (paper Sec. 2, Eq. 1-3).

``grad`` (:func:`robust_ota_attack`) follows Yakura & Sakuma (2019): the perturbation v
is band-passed to ``band_hz`` (Yakura's 1-4 kHz for real loudspeakers; by default the
whole spectrum, docs/decisions.md), added to the utterance, the sum is convolved
with an impulse response drawn from the *attack* rooms, rescaled to the clean peak, and
recording noise is added; the loss is the CTC loss of the target phrase averaged over
several rooms a step (expectation over transformations, Eq. 3) plus ``l2_weight`` times
the mean square of the played perturbation BPF(v) (Eq. 3's ||v|| term; 0 by default,
where the bound alone limits the perturbation). Adam updates v, and v is then scaled
so that the perturbation *as played*, BPF(v), stays within the l_inf bound: the bound
holds for what is added to the speech, not for v before its band-pass (scaling keeps
the perturbation inside the band, where clipping would not). Every ``check_every`` steps the
current example is played in ``check_rooms`` attack rooms drawn afresh (uniformly, not
the hard rooms the step optimises) and decoded: it counts as a success when the target
is decoded exactly in more than half of them (Yakura's criterion), but it keeps being
optimised until the target is decoded in ``stop_fraction`` of them at ``stop_checks``
checks in a row (one lucky check of an example that fails in a quarter of the rooms
passes now and then). Stopping at the first bare majority leaves examples that just
pass in the rooms they were tuned on and fail in held-out rooms; the margin is what
carries them over the air.

Batched: utterances of different lengths are attacked together (zero padding, masks);
every example has its own random stream (rooms, noise) and Adam is element-wise, so a
batch gives the same result as attacking each utterance alone, only faster. An example
that has stopped leaves the batch: later steps compute only the examples still being
attacked, padded to the longest of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from advspeech.asr.recognizer import Recognizer
from advspeech.attacks.base import (
    Attack,
    AttackJob,
    AttackResult,
    attack_unskipped,
    bandpass_rows,
    play_in_rooms,
    room_bank,
    room_noise,
)
from advspeech.attacks.parts import budget_scale, decoded_share, room_success
from advspeech.core.text import check_in_alphabet


@dataclass(frozen=True)
class OverTheAirConfig:
    """The playback-and-recording transform of Eq. 3."""

    band_hz: tuple[float, float] = (50.0, 7950.0)
    rooms_per_step: int = 4
    noise_std: tuple[float, float] = (0.001, 0.005)  # recording noise, ramped over the attack


@dataclass(frozen=True)
class RobustAttackConfig:
    """Settings of ``grad`` (config ``attacks.grad`` with the shared ``snr_db``)."""

    steps: int = 400
    lr: float = 0.005
    linf: float = 0.3
    # the paper's budget: every example's perturbation as played, BPF(v), is projected
    # so that SNR(x, x + BPF(v)) >= snr_db (None: the l_inf bound alone)
    snr_db: float | None = 10.0
    l2_weight: float = 0.0  # eps of Eq. 3 on the mean square of the played BPF(v)
    check_every: int = 10
    check_rooms: int = 16  # fresh attack rooms decoded at each check (distinct rooms)
    stop_fraction: float = 1.0  # of the check rooms that must decode the target to stop
    stop_checks: int = 2  # consecutive checks that must meet stop_fraction to stop
    ota: OverTheAirConfig = OverTheAirConfig()


def robust_ota_attack(
    job: AttackJob,
    cfg: RobustAttackConfig,
    on_check: Callable[[int, np.ndarray], None] | None = None,
) -> list[AttackResult]:
    """Attack a batch of utterances at once (see module docstring). ``on_check(step,
    adversarial)``, if given, sees the (batch, samples) adversarial signals, padded, at
    every check: a budget curve from one run (bench/attack_budget_curve.py)."""
    check_in_alphabet(job.target, "target phrase")
    if not job.recognizer.differentiable:
        raise TypeError("the grad attack needs a differentiable recogniser")
    if not job.rirs:
        raise ValueError("the grad attack needs at least one attack room impulse response")
    return attack_unskipped(partial(_attack_batch, on_check=on_check), job, cfg)


@dataclass
class _GradBatch:
    """A batch of utterances under attack: rows zero-padded to the longest, each with
    its own random stream, its perturbation v and its progress."""

    x: torch.Tensor  # (B, N) clean rows
    lengths: torch.Tensor  # (B,) on the device
    lengths_cpu: torch.Tensor  # (B,) on the host: sizes read without a device sync
    mask: torch.Tensor  # (B, N) 1 inside each row's length
    x_energy: torch.Tensor  # (B,) sum of squares of each clean row (the SNR budget)
    room_bank: torch.Tensor  # (R, L) the attack rooms' impulse responses, zero-padded
    gens: list[torch.Generator]
    v: torch.Tensor  # (B, N) the perturbation before its band-pass
    opt: torch.optim.Optimizer
    room_loss: torch.Tensor  # (B, R) each example's last loss in each room
    active: torch.Tensor  # (B,) still being attacked
    steps_used: torch.Tensor
    checks_used: torch.Tensor
    success: torch.Tensor  # Yakura's criterion at the last check
    passed_in_a_row: torch.Tensor  # consecutive checks meeting stop_fraction

    @classmethod
    def start(
        cls,
        waves: Sequence[np.ndarray],
        rirs: Sequence[np.ndarray],
        seeds: Sequence[int],
        cfg: RobustAttackConfig,
        device: torch.device,
    ) -> _GradBatch:
        b = len(waves)
        lengths_cpu = torch.tensor([len(w) for w in waves])
        lengths = lengths_cpu.to(device)
        n = int(lengths_cpu.max())
        x = torch.zeros(b, n, device=device)
        for i, w in enumerate(waves):
            x[i, : len(w)] = torch.as_tensor(w, device=device)
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        v = torch.zeros(b, n, device=device)
        for i, g in enumerate(gens):  # Yakura: start from small Gaussian noise
            v[i, : len(waves[i])] = 1e-3 * torch.randn(len(waves[i]), generator=g).to(device)
        v.requires_grad_(True)
        return cls(
            x=x,
            lengths=lengths,
            lengths_cpu=lengths_cpu,
            mask=(torch.arange(n, device=device)[None, :] < lengths[:, None]).to(x.dtype),
            x_energy=x.pow(2).sum(dim=-1),
            room_bank=room_bank(rirs, device),
            gens=gens,
            v=v,
            opt=torch.optim.Adam([v], lr=cfg.lr),
            # hard-room sampling: each example draws rooms in proportion to its last
            # loss there
            room_loss=torch.ones(b, len(rirs)),
            active=torch.ones(b, dtype=torch.bool),
            steps_used=torch.zeros(b, dtype=torch.long),
            checks_used=torch.zeros(b, dtype=torch.long),
            success=torch.zeros(b, dtype=torch.bool),
            passed_in_a_row=torch.zeros(b, dtype=torch.long),
        )


def _attack_batch(
    job: AttackJob,
    cfg: RobustAttackConfig,
    on_check: Callable[[int, np.ndarray], None] | None = None,
) -> list[AttackResult]:
    """Optimise every example of the batch until it stops (see the module docstring)
    or the step budget is spent: a descent step on the active rows, and every
    ``check_every`` steps a check in fresh attack rooms."""
    recognizer, target = job.recognizer, job.target
    state = _GradBatch.start(job.waves, job.rirs, job.seeds, cfg, job.device)
    t0 = time.time()
    for step in range(1, cfg.steps + 1):
        if not state.active.any():
            break
        frac = (step - 1) / max(1, cfg.steps - 1)
        sigma = cfg.ota.noise_std[0] + frac * (cfg.ota.noise_std[1] - cfg.ota.noise_std[0])
        # only the examples still being attacked are computed, trimmed to the longest of
        # them: a stopped example costs nothing and the rest do not depend on it
        rows = state.active.nonzero().squeeze(1)
        _descend(state, rows, sigma, recognizer, target, cfg)
        state.steps_used[state.active] = step
        if step % cfg.check_every == 0 or step == cfg.steps:
            _check(state, rows, step, sigma, recognizer, target, cfg, on_check)
    return _results(state, job.waves, recognizer, target, len(job.rirs), cfg, time.time() - t0)


def _descend(
    state: _GradBatch,
    rows: torch.Tensor,
    sigma: float,
    recognizer: Recognizer,
    target: str,
    cfg: RobustAttackConfig,
) -> None:
    """One Adam step on the rows being attacked: EOT over ``rooms_per_step`` attack
    rooms drawn by each example's hard-room weights, then the projection onto the
    bounds."""
    k, band = cfg.ota.rooms_per_step, cfg.ota.band_hz
    device = state.x.device
    rows_d = rows.to(device)
    lens, lens_cpu = state.lengths[rows_d], state.lengths_cpu[rows]
    width = int(lens_cpu.max())
    row_gens = [state.gens[i] for i in rows.tolist()]
    rooms = torch.stack(
        [
            torch.multinomial(state.room_loss[i], k, replacement=True, generator=state.gens[i])
            for i in rows.tolist()
        ]
    )
    noise = room_noise(row_gens, lens_cpu, k, width, sigma).to(device)
    played = bandpass_rows(state.v[rows_d, :width], lens_cpu, band)
    perturbed = (state.x[rows_d, :width] + played).clamp(-1, 1)
    rep_len = lens.repeat_interleave(k)
    heard = play_in_rooms(
        perturbed.repeat_interleave(k, dim=0),
        rep_len,
        state.room_bank[rooms.reshape(-1).to(device)],
        noise,
    )
    per_trial = recognizer.loss(heard, rep_len, [target] * (len(rows) * k)).reshape(-1, k)
    trial_loss = per_trial.detach().cpu().clamp(min=1e-3)  # one device sync a step
    for j, i in enumerate(rows.tolist()):
        state.room_loss[i, rooms[j]] = 0.5 * state.room_loss[i, rooms[j]] + 0.5 * trial_loss[j]
    l2 = played.pow(2).sum(dim=-1) / lens
    loss = (per_trial.mean(dim=1) + cfg.l2_weight * l2).sum()
    state.opt.zero_grad()
    loss.backward()
    # Adam moves a row with zero gradient through its momentum: hold stopped rows
    stopped = (~state.active).to(device)
    frozen = state.v.detach()[stopped].clone()
    state.opt.step()
    with torch.no_grad():
        state.v.mul_(state.mask)
        state.v[stopped] = frozen
        _bound_played(
            state.v, rows_d, lens_cpu, width, band, cfg.linf, state.x_energy[rows_d], cfg.snr_db
        )


def _check(
    state: _GradBatch,
    rows: torch.Tensor,
    step: int,
    sigma: float,
    recognizer: Recognizer,
    target: str,
    cfg: RobustAttackConfig,
    on_check: Callable[[int, np.ndarray], None] | None,
) -> None:
    """Decode the rows' current examples in fresh attack rooms; record success and
    stop the rows that met ``stop_fraction`` at ``stop_checks`` checks in a row."""
    band = cfg.ota.band_hz
    rows_d = rows.to(state.x.device)
    lens, lens_cpu = state.lengths[rows_d], state.lengths_cpu[rows]
    width = int(lens_cpu.max())
    with torch.no_grad():
        current = _adversarial(state.x[rows_d, :width], state.v[rows_d, :width], lens_cpu, band)
        if on_check is not None:
            whole = _adversarial(state.x, state.v, state.lengths_cpu, band)
            on_check(step, whole.cpu().numpy())
    row_gens = [state.gens[i] for i in rows.tolist()]
    hits = _check_in_rooms(recognizer, current, lens, state.room_bank, sigma, row_gens, target, cfg)
    state.checks_used[rows] += 1
    state.success[rows] = room_success(hits)
    passed = hits >= cfg.stop_fraction
    state.passed_in_a_row[rows] = torch.where(passed, state.passed_in_a_row[rows] + 1, 0)
    state.active[rows] = state.passed_in_a_row[rows] < cfg.stop_checks


def _results(
    state: _GradBatch,
    waves: Sequence[np.ndarray],
    recognizer: Recognizer,
    target: str,
    n_rooms: int,
    cfg: RobustAttackConfig,
    seconds: float,
) -> list[AttackResult]:
    """The written files (x + BPF(v), each over its own length), their digital
    transcription and the query count of each example."""
    b, k = len(waves), cfg.ota.rooms_per_step
    check_rooms = min(cfg.check_rooms, n_rooms)  # distinct rooms per check
    with torch.no_grad():
        adversarial = _adversarial(state.x, state.v, state.lengths_cpu, cfg.ota.band_hz)
    adversarial = adversarial.cpu().numpy()
    files = [adversarial[i, : len(waves[i])] for i in range(b)]
    digital = recognizer.transcribe(files)
    return [
        AttackResult(
            adversarial=files[i],
            steps=int(state.steps_used[i]),
            # gradient queries, check decodes and the final digital transcription
            queries=int(state.steps_used[i]) * k + int(state.checks_used[i]) * check_rooms + 1,
            seconds=seconds / b,
            success=bool(state.success[i]),
            success_digital=digital[i] == target,
        )
        for i in range(b)
    ]


def _bound_played(
    v: torch.Tensor,
    rows: torch.Tensor,
    lengths: torch.Tensor,
    width: int,
    band: tuple[float, float],
    linf: float,
    x_energy: torch.Tensor,
    snr_db: float | None,
) -> None:
    """Scale each row of ``v`` (in place) so that its band-passed version, the
    perturbation as played, has peak at most ``linf`` and, with ``snr_db``, energy at
    most ``x_energy`` (the clean rows' sum of squares) times 10^(-snr_db / 10).

    Both are bounds on a norm of the linear BPF(v), so scaling v by the smaller factor
    projects onto both and keeps the perturbation inside the band."""
    played = bandpass_rows(v[rows, :width], lengths, band)
    v[rows] *= budget_scale(played, x_energy, snr_db, linf)[:, None]


def _adversarial(x, v, lengths, band) -> torch.Tensor:
    """x + BPF(v), clipped: the signals the attacker plays, (B, N) padded rows."""
    return (x + bandpass_rows(v, lengths, band)).clamp(-1, 1)


def _check_in_rooms(recognizer, perturbed, lengths, room_bank, sigma, gens, target, cfg):
    """Fraction of ``cfg.check_rooms`` freshly drawn, distinct attack rooms (+ noise) in
    which each example's current ``perturbed`` signal (x + BPF(v)) decodes exactly as
    ``target``."""
    b, n = perturbed.shape[0], perturbed.shape[-1]
    c = min(cfg.check_rooms, len(room_bank))
    rooms = torch.stack(
        [torch.randperm(len(room_bank), generator=gens[i])[:c] for i in range(b)]
    ).reshape(-1)
    noise = room_noise(gens, lengths, c, n, sigma)
    rep_len = lengths.repeat_interleave(c)
    with torch.no_grad():
        heard = (
            play_in_rooms(
                perturbed.repeat_interleave(c, dim=0),
                rep_len,
                room_bank[rooms.to(perturbed.device)],
                noise.to(perturbed.device),
            )
            .cpu()
            .numpy()
        )
    share = decoded_share(
        recognizer, [heard[j, : int(rep_len[j])] for j in range(b * c)], c, target
    )
    return torch.from_numpy(share)


def robust_config(cfg: dict) -> RobustAttackConfig:
    """``attacks.grad`` of the config -> :class:`RobustAttackConfig`."""
    return RobustAttackConfig(
        steps=cfg["steps"],
        lr=cfg["lr"],
        linf=cfg["linf"],
        snr_db=cfg.get("snr_db"),
        l2_weight=cfg["l2_weight"],
        check_every=cfg["check_every"],
        check_rooms=cfg["check_rooms"],
        stop_fraction=cfg["stop_fraction"],
        stop_checks=cfg["stop_checks"],
        ota=OverTheAirConfig(
            band_hz=tuple(cfg["band_hz"]),
            rooms_per_step=cfg["rooms_per_step"],
            noise_std=tuple(cfg["noise_std"]),
        ),
    )


GRAD = Attack(robust_ota_attack, robust_config)

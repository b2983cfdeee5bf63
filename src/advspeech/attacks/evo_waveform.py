"""``evo`` with ``search: waveform``: an evolution strategy on the over-the-air loss, in
the space of the perturbation itself, optionally guided by an attacker's own surrogate.

The victim is a score-based black box (Alzantot, Taori and Khare's threat model): every
signal it hears is a query, counted by :class:`~advspeech.attacks.queries.CountingRecognizer`
wrapped around it, and the attacker reads the CTC score of the target phrase and the
transcript. What makes such a search survive rooms is what made the published
over-the-air black-box attacks work (Taori et al. 2019; Khare et al. 2019; Cheng et al.
2019; Yakura & Sakuma 2019):

1. **Fitness over rooms.** A candidate's fitness is the victim's target CTC loss
   averaged over ``rooms`` attack rooms with recording noise, plus ``mfcc_weight`` times
   Khare et al.'s MFCC distance to the original. Every candidate of a generation is
   played in the same rooms with the same noise (common random numbers, so rooms do not
   rank candidates); the rooms are redrawn each generation, in proportion to the
   victim's last loss there, as ``grad`` draws hard rooms.
2. **A margin before stopping.** The elite (the best mean so far: digital decode of the
   target first, then its share of rooms decoding it, then fitness) is played every
   ``check_every`` generations in ``check_rooms`` fresh attack rooms; the search stops
   when it decodes the target digitally and in ``stop_fraction`` of them at
   ``stop_checks`` checks in a row, or when the query budget is spent. The written file
   is the elite.
3. **A search space that can express a robust perturbation.** The mean is a waveform
   perturbation inside ``band_hz`` (what ``grad`` optimises), explored along
   ``pairs`` antithetic directions a generation and moved by Adam on the finite-
   difference estimate (NES; Taori et al.'s second phase).
4. **An optional prior that is not the victim's gradient** (prior-guided random
   gradient-free search, Cheng et al. 2019). With a surrogate recogniser the attacker
   trained itself, each direction is ``sqrt(prior_weight)`` times the surrogate's
   gradient of the same room-averaged loss plus ``sqrt(1 - prior_weight)`` times
   band-limited noise orthogonal to it; and the search may start from the surrogate's
   own white-box over-the-air example (``AttackJob.priors``), which costs no query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio

from advspeech import SAMPLE_RATE
from advspeech.asr.recognizer import Recognizer
from advspeech.attacks.base import (
    AttackJob,
    AttackResult,
    bandpass,
    play_in_rooms,
    query,
    room_bank,
)
from advspeech.attacks.parts import (
    decoded_share,
    project_to_budget,
    room_success,
    run_generations,
    search_results,
)
from advspeech.attacks.queries import CountingRecognizer


@dataclass(frozen=True)
class WaveformSearchConfig:
    """Settings of ``evo`` with ``search: waveform`` (config ``attacks.evo``)."""

    queries: int = 4500  # per example: every signal the victim hears
    pairs: int = 4  # antithetic direction pairs a generation
    rooms: int = 4  # common attack rooms a generation
    prior_weight: float = 0.5  # share of the surrogate's gradient in each direction
    sigma: float = 0.02  # finite-difference step, relative to the perturbation's norm
    lr: float = 0.001  # Adam on the perturbation ([-1, 1] sample scale)
    init_std: float = 0.001  # start without a prior: band-limited noise of this RMS
    band_hz: tuple[float, float] = (50.0, 7950.0)
    mfcc_weight: float = 0.0
    check_every: int = 10
    check_rooms: int = 16
    stop_fraction: float = 1.0
    stop_checks: int = 2
    noise_std: float = 0.002
    linf: float = 0.1
    snr_db: float | None = 10.0
    # "surrogate": the attack needs the attacker's own recogniser (AttackJob.surrogate)
    # and starts from its white-box examples (AttackJob.priors); "none": queries only
    prior: str = "none"

    def queries_per_generation(self) -> int:
        """The population in every room, and the mean's own digital decode."""
        return (2 * self.pairs + 1) * self.rooms + 1


class _WaveSearch:
    """One utterance's search state."""

    def __init__(self, wave, prior, seed: int, n_rooms: int, cfg: WaveformSearchConfig):
        self.gen = torch.Generator().manual_seed(int(seed))
        self.x = torch.as_tensor(np.asarray(wave, dtype=np.float32))
        self.energy = self.x.pow(2).sum()
        if prior is not None:
            start = torch.as_tensor(np.asarray(prior, dtype=np.float32)) - self.x
        else:
            noise = bandpass(torch.randn(len(self.x), generator=self.gen), *cfg.band_hz)
            start = noise * cfg.init_std / noise.pow(2).mean().sqrt().clamp(min=1e-12)
        self.delta = self.project(start, cfg).requires_grad_(True)
        # Adam on the NES estimate, written into .grad (no autograd through the victim)
        self.opt = torch.optim.Adam([self.delta], lr=cfg.lr)
        self.room_loss = torch.ones(n_rooms)
        self.elite = self.delta.detach().clone()
        self.elite_key: tuple = (False, -1.0, -np.inf)
        self.check_share = 0.0
        self.passed_in_a_row = 0
        self.generations = 0
        self.queries = 0
        self.done = False

    def project(self, delta: torch.Tensor, cfg: WaveformSearchConfig) -> torch.Tensor:
        """Within l_inf and the SNR budget (the file itself is clipped to [-1, 1])."""
        return project_to_budget(delta, self.energy, cfg.linf, cfg.snr_db)

    def file(self, delta: torch.Tensor) -> torch.Tensor:
        return (self.x + delta).clamp(-1, 1)


def waveform_search(
    job: AttackJob,
    cfg: WaveformSearchConfig,
    on_budget: Callable[[int, list[np.ndarray]], None] | None = None,
    budgets: Sequence[int] = (),
) -> list[AttackResult]:
    """Search every utterance of the batch (see the module docstring); one batched victim
    query a generation for all searches still running. ``on_budget(b, files)``, if
    given, sees for each budget ``b`` of ``budgets`` the files a search with
    ``queries=b`` would have written (each search's elite when its next generation
    would no longer fit in ``b``; equal up to the rounding of batched forward passes):
    a query curve from one run."""
    if cfg.prior == "surrogate" and (job.surrogate is None or job.priors is None):
        raise ValueError(
            "attacks.evo.prior is surrogate, but the attack got no surrogate recogniser or "
            "no starting examples (the attack rule passes both)"
        )
    victim = CountingRecognizer(job.recognizer)
    bank = room_bank(job.rirs)
    priors = job.priors if job.priors is not None else [None] * len(job.waves)
    searches = [
        _WaveSearch(w, p, s, len(bank), cfg)
        for w, p, s in zip(job.waves, priors, job.seeds, strict=True)
    ]
    surrogate = job.surrogate if cfg.prior_weight > 0 else None
    per_generation = cfg.queries_per_generation()
    check_cost = min(cfg.check_rooms, len(bank))
    mfcc = MFCCDistance() if cfg.mfcc_weight else None
    t0 = time.time()
    snapshots = {b: [None] * len(searches) for b in sorted(budgets) if b < cfg.queries}

    def fits(s: _WaveSearch, budget: int) -> bool:
        return not s.done and s.queries + per_generation + check_cost + 1 <= budget

    def generation(active: list[_WaveSearch]) -> None:
        _generation(victim, surrogate, active, job.target, bank, cfg, mfcc)
        due = [s for s in active if s.generations % cfg.check_every == 0]
        if due:
            _check(victim, due, job.target, bank, cfg)

    run_generations(
        searches,
        lambda s: fits(s, cfg.queries),
        generation,
        before_each=lambda: _snapshot(searches, snapshots, fits, on_budget),
    )
    files = [s.file(s.elite).numpy() for s in searches]
    digital = victim.transcribe(files)
    seconds = (time.time() - t0) / len(searches)
    successes = [room_success(s.check_share) for s in searches]
    return search_results(searches, files, digital, job.target, successes, seconds)


def _snapshot(searches, snapshots: dict, fits, on_budget) -> None:
    """Keep each search's elite the moment its next generation no longer fits a budget
    of ``snapshots``; hand a budget's files to ``on_budget`` once every search has one."""
    for b, files in list(snapshots.items()):
        for i, s in enumerate(searches):
            if files[i] is None and not fits(s, b):
                files[i] = s.file(s.elite).numpy()
        if on_budget is not None and all(f is not None for f in files):
            on_budget(b, files)
            del snapshots[b]


def played(files: torch.Tensor, rooms: torch.Tensor, noise: torch.Tensor, bank) -> torch.Tensor:
    """(K * C, N): each of the C files in each of the K rooms with that room's recording
    noise (K, N); room-major, so every file meets the same rooms and the same noise."""
    c, n = files.shape
    k = len(rooms)
    return play_in_rooms(
        files.repeat(k, 1),
        torch.full((k * c,), n),
        bank[rooms].repeat_interleave(c, dim=0),
        noise.repeat_interleave(c, dim=0),
    )


def draw_rooms(s: _WaveSearch, cfg: WaveformSearchConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """This generation's rooms (hard rooms more often) and recording noise."""
    k = min(cfg.rooms, len(s.room_loss))
    rooms = torch.multinomial(s.room_loss, k, replacement=False, generator=s.gen)
    noise = torch.randn(k, len(s.x), generator=s.gen) * cfg.noise_std
    return rooms, noise


def fitness(
    victim: Recognizer,
    files: torch.Tensor,
    rooms: torch.Tensor,
    noise: torch.Tensor,
    bank: torch.Tensor,
    target: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each file's target CTC loss over the rooms (C,), and the (K, C) exact decodes:
    the over-the-air objective of one generation, ``K * C`` queries."""
    ctc, texts = query(victim, list(played(files, rooms, noise, bank)), target)
    return room_fitness(ctc, texts, len(rooms), target)


def room_fitness(
    ctc: torch.Tensor, texts: list[str], k: int, target: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """From the scores of C files played in K rooms (room-major, as :func:`played`
    orders them): each file's target CTC loss averaged over the rooms (C,), and the
    (K, C) exact decodes. The search scores every generation with it."""
    hits = torch.tensor([t == target for t in texts], dtype=torch.float32).reshape(k, -1)
    return ctc.reshape(k, -1).mean(dim=0), hits


def _directions(
    s: _WaveSearch,
    surrogate: Recognizer | None,
    rooms: torch.Tensor,
    noise: torch.Tensor,
    bank: torch.Tensor,
    target: str,
    cfg: WaveformSearchConfig,
) -> torch.Tensor:
    """(pairs, N) unit directions: band-limited noise, blended with the surrogate's
    gradient of the room-averaged loss when there is one (no victim query)."""
    xi = bandpass(torch.randn(cfg.pairs, len(s.x), generator=s.gen), *cfg.band_hz)
    prior = None
    if surrogate is not None:
        delta = s.delta.detach().clone().requires_grad_(True)
        heard = played(s.file(delta)[None], rooms, noise, bank)
        k = len(rooms)
        surrogate.loss(heard, torch.full((k,), len(s.x)), [target] * k).mean().backward()
        grad = delta.grad
        if float(grad.norm()) > 0:
            prior = grad / grad.norm()
    if prior is not None:
        xi = xi - (xi @ prior)[:, None] * prior[None]
    xi = xi / xi.norm(dim=1, keepdim=True).clamp(min=1e-12)
    if prior is None:
        return xi
    return cfg.prior_weight**0.5 * prior[None] + (1 - cfg.prior_weight) ** 0.5 * xi


def _generation(victim, surrogate, active, target, bank, cfg: WaveformSearchConfig, mfcc) -> None:
    """Sample, query and score one generation of every active search; update elites,
    hard-room weights and means."""
    plans, signals = [], []
    for s in active:
        rooms, noise = draw_rooms(s, cfg)
        us = _directions(s, surrogate, rooms, noise, bank, target, cfg)
        mean = s.delta.detach()
        step = cfg.sigma * mean.norm().clamp(min=1e-3)
        candidates = torch.cat([mean[None], mean[None] + step * us, mean[None] - step * us])
        files = s.file(candidates)
        plans.append((rooms, us, step, files))
        signals += list(played(files, rooms, noise, bank)) + [files[0]]
    ctc, texts = query(victim, signals, target)  # one forward pass for every search
    offset = 0
    for s, (rooms, us, step, files) in zip(active, plans, strict=True):
        k, c = len(rooms), len(files)
        rows = slice(offset, offset + k * c)
        digital = texts[offset + k * c] == target
        offset += k * c + 1
        s.queries += k * c + 1
        s.generations += 1
        loss = ctc[rows].reshape(k, c)
        score, hits = room_fitness(ctc[rows], texts[rows], k, target)
        if mfcc is not None:
            score = score + cfg.mfcc_weight * mfcc(files, s.x)
        s.room_loss[rooms] = 0.5 * s.room_loss[rooms] + 0.5 * loss[:, 0].clamp(min=1e-3)
        key = (digital, float(hits[:, 0].mean()), -float(score[0]))
        if key > s.elite_key:
            s.elite_key, s.elite = key, s.delta.detach().clone()
        _adam_step(s, score, us, step, cfg)


def _adam_step(s: _WaveSearch, score, us, step, cfg: WaveformSearchConfig) -> None:
    """NES estimate from the antithetic pairs, one Adam step, projection."""
    p = cfg.pairs
    grad = ((score[1 : p + 1] - score[p + 1 :]) / (2 * step))[:, None] * us
    s.delta.grad = grad.mean(dim=0)
    s.opt.step()
    with torch.no_grad():
        s.delta.copy_(s.project(s.delta, cfg))


def _check(victim, due, target, bank, cfg: WaveformSearchConfig) -> None:
    """The elites in fresh attack rooms: Yakura's criterion and the margin stop."""
    k = min(cfg.check_rooms, len(bank))
    trials = []  # file-major: each elite's rooms in turn
    for s in due:
        rooms = torch.randperm(len(bank), generator=s.gen)[:k]
        noise = torch.randn(k, len(s.x), generator=s.gen) * cfg.noise_std
        trials += list(played(s.file(s.elite)[None], rooms, noise, bank))
        s.queries += k
    for s, share in zip(due, decoded_share(victim, trials, k, target), strict=True):
        s.check_share = float(share)
        passed = s.elite_key[0] and s.check_share >= cfg.stop_fraction
        s.passed_in_a_row = s.passed_in_a_row + 1 if passed else 0
        s.done = s.passed_in_a_row >= cfg.stop_checks


class MFCCDistance:
    """Euclidean MFCC distance to the original (the attacker's own feature, not the
    victim's, so no query; Khare et al.'s acoustic-similarity objective)."""

    def __init__(self) -> None:
        self.mfcc = torchaudio.transforms.MFCC(
            SAMPLE_RATE,
            n_mfcc=13,
            melkwargs={"n_fft": 512, "hop_length": 160, "n_mels": 40, "center": False},
        )

    def __call__(self, candidates: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        a = self.mfcc(candidates)
        b = self.mfcc(original[None])
        return (a - b).pow(2).mean(dim=(1, 2)).sqrt()


def waveform_config(cfg: dict, prior: str) -> WaveformSearchConfig:
    """``attacks.evo`` with ``search: waveform`` -> its settings: the block ``waveform``
    with the shared ``queries``, ``linf`` and ``snr_db``, and the ``prior``."""
    if prior not in ("none", "surrogate"):
        raise ValueError(f"attacks.evo.prior: {prior!r} is not none or surrogate")
    block = {
        **cfg.get("waveform", {}),
        **{k: cfg[k] for k in ("queries", "linf", "snr_db") if k in cfg},
    }
    if "band_hz" in block:
        block["band_hz"] = tuple(block["band_hz"])
    return WaveformSearchConfig(**block, prior=prior)

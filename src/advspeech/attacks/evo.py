"""``evo``: a gradient-free (black-box) targeted attack (Khare et al. 2019; Taori et al. 2019).

The attacker only *queries* the recogniser: for a batch of candidate signals it gets the
transcripts and the CTC score of the target phrase (a score-based black box, as in
Taori et al.), never a gradient. Plain genetic search over raw samples is hopeless at
this dimension (tens of thousands of samples), so three choices make it work:

1. **A low-dimensional, band-limited search space.** A candidate is a non-negative
   envelope ``theta`` (bands x frames): ``bands`` mel-spaced triangular bands inside
   ``band_hz`` (by default the whole spectrum, like ``grad``) at ``hop`` samples a frame. The perturbation is
   a noise vocoder: the envelope times a fixed random-phase carrier, inverted by
   ``torch.istft``. The recogniser sees MFCCs, which discard phase, so band energies
   at its frame rate are close to everything it can react to inside the band; a
   2-second utterance is ~1,400 numbers instead of 32,000.
2. **A population that is also an evolution-strategy gradient estimate.** Each
   generation samples ``population`` candidates around the current mean by antithetic
   mutation (``mean +- sigma * noise``), evaluates all of them (and all utterances of
   the batch) as one forward batch, and turns the rank-normalised CTC scores into a
   search direction for Adam on the mean (NES, Taori et al.'s second phase). Ranks
   make the update invariant to the score's scale.
3. **Multi-objective elitism with crossover and adaptive mutation.** Candidates are
   ranked by (exact target, edit similarity of the transcript to the target, -CTC,
   MFCC similarity to the original) (Khare et al.'s objectives, CTC as tie-breaker).
   The best candidate ever seen is kept (elitism); when the mean stops improving on
   it for ``patience`` generations, the mean is replaced by a uniform crossover of
   mean and elite (per frame) and the mutation scale grows; every improvement shrinks
   it (a 1/5th-success-style rule).

The search stops per example as soon as the elite is decoded exactly as the target (the
``success_digital`` criterion); ``success`` additionally plays the final file in
``rooms_per_check`` distinct attack rooms (Yakura's criterion, like ``grad``). Queries
count every signal the victim processes: the candidates, the final file's transcription
and its room checks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as AF

from advspeech import SAMPLE_RATE
from advspeech.asr.recognizer import Recognizer
from advspeech.attacks.base import (
    Attack,
    AttackJob,
    AttackResult,
    attack_unskipped,
    play_in_rooms,
    query,
)
from advspeech.attacks.evo_waveform import (
    MFCCDistance,
    WaveformSearchConfig,
    waveform_config,
    waveform_search,
)
from advspeech.attacks.parts import (
    decoded_share,
    project_to_budget,
    room_success,
    run_generations,
    search_results,
)
from advspeech.core.text import check_in_alphabet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvolutionaryAttackConfig:
    """Settings of ``evo`` (config ``attacks.evo`` with the shared ``snr_db``)."""

    queries: int = 4500  # per example: every signal the victim processes
    population: int = 24  # candidates a generation (even: antithetic pairs)
    sigma: float = 0.3  # mutation scale, relative to the mean envelope level
    lr: float = 0.3  # Adam on the log-envelope
    init_level: float = 0.01  # initial envelope amplitude (RMS-like, [-1, 1] scale)
    linf: float = 0.1
    # every candidate's perturbation is scaled so that SNR(x, x + v) >= snr_db (None: off)
    snr_db: float | None = 10.0
    bands: int = 24
    hop: int = 160  # the recogniser's frame rate
    band_hz: tuple[float, float] = (100.0, 7900.0)
    mfcc_weight: float = 0.01  # weight of MFCC distance in the elite ranking
    energy_weight: float = 0.0  # penalty on perturbation/speech energy in the NES score
    patience: int = 8  # generations without elite improvement before crossover
    rooms_per_check: int = 4  # attack rooms for the final robustness check
    # expectation over transformations: each generation plays every candidate (and the
    # elite) in this many distinct attack rooms with recording noise, and the fitness is
    # the mean over them; 0 scores the digital signal only
    rooms_per_query: int = 0
    noise_std: float = 0.002


class NoiseVocoder:
    """Envelope (B, bands, frames) -> band-limited signal (B, N), fixed random phases."""

    def __init__(self, n: int, cfg: EvolutionaryAttackConfig, generator: torch.Generator):
        self.n, self.hop = n, cfg.hop
        self.n_fft = 4 * cfg.hop
        self.window = torch.hann_window(self.n_fft)
        frames = n // cfg.hop + 1
        fb = AF.melscale_fbanks(
            self.n_fft // 2 + 1,
            f_min=cfg.band_hz[0],
            f_max=cfg.band_hz[1],
            n_mels=cfg.bands,
            sample_rate=SAMPLE_RATE,
        )  # (freqs, bands)
        self.filters = fb.T.contiguous()  # (bands, freqs)
        phase = 2 * torch.pi * torch.rand(self.n_fft // 2 + 1, frames, generator=generator)
        self.carrier = torch.polar(torch.ones_like(phase), phase)
        self.frames = frames
        # scale so that a unit envelope gives a unit-RMS signal
        unit = self._synth(torch.ones(1, cfg.bands, frames))
        self.scale = 1.0 / float(unit.pow(2).mean().sqrt().clamp(min=1e-8))

    def _synth(self, theta: torch.Tensor) -> torch.Tensor:
        mag = torch.einsum("bkt,kf->bft", theta, self.filters)
        return torch.istft(
            mag * self.carrier,
            self.n_fft,
            self.hop,
            window=self.window,
            length=self.n,
        )

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        return self._synth(theta) * self.scale


def _edit_similarity(hyp: str, ref: str) -> float:
    import jiwer

    if not ref:
        return 0.0
    return max(0.0, 1.0 - jiwer.cer(ref, hyp)) if hyp else 0.0


def evolutionary_attack(
    job: AttackJob, cfg: EvolutionaryAttackConfig | WaveformSearchConfig
) -> list[AttackResult]:
    """Attack a batch of utterances with forward queries only: the envelope search of
    the module docstring, or with a :class:`WaveformSearchConfig` the waveform search
    on the over-the-air loss (:mod:`advspeech.attacks.evo_waveform`)."""
    check_in_alphabet(job.target, "target phrase")
    if not hasattr(job.recognizer, "log_probs"):
        raise TypeError(
            f"{type(job.recognizer).__name__} exposes no output scores (log_probs); "
            "the evo attack queries transcripts and CTC scores"
        )
    if isinstance(cfg, WaveformSearchConfig):
        if cfg.pairs < 1 or not job.rirs:
            raise ValueError("evo waveform search: needs pairs >= 1 and attack rooms")
        return attack_unskipped(waveform_search, job, cfg)
    if cfg.population < 2 or cfg.population % 2:
        raise ValueError(f"evo attack: population must be even and >= 2, got {cfg.population}")
    return attack_unskipped(_evolve_batch, job, cfg)


class _Search:
    """The evolutionary state of one utterance."""

    def __init__(self, wave: np.ndarray, cfg: EvolutionaryAttackConfig, seed: int):
        self.gen = torch.Generator().manual_seed(int(seed))
        self.x = torch.from_numpy(wave)
        self.vocoder = NoiseVocoder(len(wave), cfg, self.gen)
        shape = (cfg.bands, self.vocoder.frames)
        # the mean lives in log-envelope space: the envelope stays positive and mutations
        # are relative, so quiet and loud frames are explored alike
        self.log_mean = torch.full(shape, float(np.log(cfg.init_level)))
        self.log_mean.requires_grad_(True)
        self.opt = torch.optim.Adam([self.log_mean], lr=cfg.lr)
        self.sigma = cfg.sigma
        self.elite = self.log_mean.detach().clone()
        # (share of rooms decoding the target, edit similarity, -loss, -MFCC distance)
        self.elite_key: tuple = (0.0, -1.0, -np.inf, -np.inf)
        self.stale = 0
        self.queries = 0
        self.generations = 0
        self.done = False

    def signal(self, log_env: torch.Tensor, cfg: EvolutionaryAttackConfig) -> torch.Tensor:
        """The candidate files x + v (B, N): v within l_inf and the SNR budget."""
        v = project_to_budget(
            self.vocoder(log_env.exp()), self.x.pow(2).sum(), cfg.linf, cfg.snr_db
        )
        return (self.x[None] + v).clamp(-1, 1)


def _evolve_batch(job: AttackJob, cfg: EvolutionaryAttackConfig) -> list[AttackResult]:
    """Evolve every utterance of the batch until its elite decodes as ``target`` (in
    every room of a generation, with ``rooms_per_query``) or its query budget is spent;
    each generation of all active searches is one batched victim query."""
    recognizer, target, rirs = job.recognizer, job.target, job.rirs
    t0 = time.time()
    searches = [_Search(w, cfg, s) for w, s in zip(job.waves, job.seeds, strict=True)]
    mfcc_distance = MFCCDistance()
    rooms = [torch.as_tensor(np.asarray(r, dtype=np.float32)) for r in rirs]
    per_generation = _queries_per_generation(cfg, len(rooms))
    # the budget covers the final file's transcription and room checks too
    reserve = 1 + min(cfg.rooms_per_check, len(rirs))
    run_generations(
        searches,
        lambda s: not s.done and s.queries + per_generation + reserve <= cfg.queries,
        lambda active: _generation(recognizer, active, target, rooms, cfg, mfcc_distance),
    )
    seconds = (time.time() - t0) / len(searches)
    files = [s.signal(s.elite[None], cfg)[0].numpy() for s in searches]
    digital = recognizer.transcribe(files)
    robust, checks = _room_check(recognizer, files, target, rirs, cfg, job.seeds)
    return search_results(searches, files, digital, target, robust, seconds, checks)


def _queries_per_generation(cfg: EvolutionaryAttackConfig, n_rooms: int) -> int:
    """Signals the victim processes for one search in one generation: the population,
    and with rooms the elite too, each in every room."""
    k = min(cfg.rooms_per_query, n_rooms)
    return cfg.population if k == 0 else (cfg.population + 1) * k


def _generation(
    recognizer: Recognizer,
    active: list[_Search],
    target: str,
    rooms: list[torch.Tensor],
    cfg: EvolutionaryAttackConfig,
    mfcc_distance: MFCCDistance,
) -> None:
    """Sample, query and score one generation of every active search, then update each
    search's elite, mutation scale and mean."""
    k = min(cfg.rooms_per_query, len(rooms))
    half = cfg.population // 2
    candidates, noises, heard = [], [], []
    for s in active:
        eps = torch.randn(half, *s.log_mean.shape, generator=s.gen)
        eps = torch.cat([eps, -eps])  # antithetic pairs halve the estimate's variance
        noises.append(eps)
        log_envs = s.log_mean.detach()[None] + s.sigma * eps
        if k:  # the elite is re-scored in this generation's rooms, like its rivals
            log_envs = torch.cat([log_envs, s.elite[None]])
        files = s.signal(log_envs, cfg)
        candidates.append(files)
        heard.append(_play(files, s, rooms, k, cfg.noise_std) if k else files)
    flat = [h for batch in heard for h in batch]
    ctc, texts = query(recognizer, flat, target)  # one forward pass for everything
    offset = 0
    for s, files, eps, played in zip(active, candidates, noises, heard, strict=True):
        rows = slice(offset, offset + len(played))
        offset += len(played)
        s.queries += len(played)
        s.generations += 1
        keys, loss = _score(s, files, ctc[rows], texts[rows], max(k, 1), target, cfg, mfcc_distance)
        if k:
            s.elite_key = keys.pop()
            loss = loss[:-1]
        _update(s, keys, loss, eps, cfg)


def _play(
    files: torch.Tensor, s: _Search, rooms: list[torch.Tensor], k: int, noise_std: float
) -> torch.Tensor:
    """(k * C, N): every candidate file played in each of k distinct rooms drawn from
    the search's own stream, plus recording noise; room-major."""
    chosen = torch.randperm(len(rooms), generator=s.gen)[:k].tolist()
    c, n = files.shape
    length = max(len(rooms[r]) for r in chosen)
    bank = torch.zeros(k, length)
    for j, r in enumerate(chosen):
        bank[j, : len(rooms[r])] = rooms[r]
    noise = torch.randn(k * c, n, generator=s.gen) * noise_std
    return play_in_rooms(
        files.repeat(k, 1), torch.full((k * c,), n), bank.repeat_interleave(c, dim=0), noise
    )


def _score(
    s: _Search,
    files: torch.Tensor,
    ctc: torch.Tensor,
    texts: list[str],
    k: int,
    target: str,
    cfg: EvolutionaryAttackConfig,
    mfcc_distance: MFCCDistance,
) -> tuple[list[tuple], torch.Tensor]:
    """Each candidate's ranking key (share of rooms decoding the target, mean edit
    similarity, -loss, -MFCC distance) and loss (mean CTC over rooms + energy penalty)."""
    c = files.shape[0]
    energy = (files - s.x[None]).pow(2).sum(dim=1) / s.x.pow(2).sum()
    loss = ctc.reshape(k, c).mean(dim=0) + cfg.energy_weight * energy
    exact = torch.tensor([t == target for t in texts], dtype=torch.float32).reshape(k, c)
    similarity = torch.tensor([_edit_similarity(t, target) for t in texts]).reshape(k, c)
    dist = mfcc_distance(files, s.x)
    keys = [
        (float(e), float(sim), -float(lo), -cfg.mfcc_weight * float(d))
        for e, sim, lo, d in zip(exact.mean(0), similarity.mean(0), loss, dist, strict=True)
    ]
    return keys, loss


def _update(
    s: _Search,
    keys: list[tuple],
    loss: torch.Tensor,
    eps: torch.Tensor,
    cfg: EvolutionaryAttackConfig,
) -> None:
    """Elitism with the 1/5th-style mutation scale, stop on an exact elite, else one
    NES step on the mean and, when stale, crossover with the elite."""
    best = max(range(len(keys)), key=lambda i: keys[i])
    if keys[best] > s.elite_key:
        s.elite_key = keys[best]
        s.elite = (s.log_mean.detach() + s.sigma * eps[best]).clone()
        s.stale = 0
        s.sigma = max(0.05, s.sigma * 0.9)
    else:
        s.stale += 1
    if s.generations % 10 == 0:
        log.debug(
            "generation %d: elite %s, sigma %.2f, mean loss %.1f",
            s.generations,
            s.elite_key[:3],
            s.sigma,
            float(loss.mean()),
        )
    if s.elite_key[0] >= 1.0:
        s.done = True
        return
    # NES direction from rank-normalised scores (lower loss = better)
    population = len(loss)
    ranks = torch.empty(population)
    ranks[loss.argsort()] = torch.arange(population, dtype=torch.float32)
    utility = -(ranks / (population - 1) - 0.5)
    grad = -(utility[:, None, None] * eps).mean(dim=0) / s.sigma
    s.opt.zero_grad()
    s.log_mean.grad = grad
    s.opt.step()
    if s.stale >= cfg.patience:  # crossover with the elite, widen the search
        take = torch.rand(s.log_mean.shape[1], generator=s.gen) < 0.5
        with torch.no_grad():
            s.log_mean[:, take] = s.elite[:, take]
        s.sigma = min(1.0, s.sigma * 1.5)
        s.stale = 0


def _room_check(recognizer, files, target, rirs, cfg, seeds) -> tuple[list[bool], int]:
    """Yakura's criterion in ``rooms_per_check`` distinct attack rooms (False without
    rooms), and the rooms each file was played in (its queries)."""
    count = min(cfg.rooms_per_check, len(rirs))
    if count < 1:
        return [False] * len(files), 0
    trials = []  # file-major: each file's rooms in turn
    for f, seed in zip(files, seeds, strict=True):
        rng = np.random.default_rng(int(seed))
        for r in rng.choice(len(rirs), size=count, replace=False):
            x = torch.from_numpy(f)[None]
            noise = torch.from_numpy(
                rng.standard_normal(len(f)).astype(np.float32) * cfg.noise_std
            )[None]
            room = torch.from_numpy(np.asarray(rirs[r], dtype=np.float32))[None]
            trials.append(play_in_rooms(x, torch.tensor([len(f)]), room, noise)[0].numpy())
    share = decoded_share(recognizer, trials, count, target)
    return [bool(room_success(s)) for s in share], count


def evolutionary_config(cfg: dict) -> EvolutionaryAttackConfig | WaveformSearchConfig:
    """``attacks.evo`` -> the settings of its ``search``: ``envelope`` (the default) or
    ``waveform`` (:func:`waveform_config`, the only one a surrogate prior guides)."""
    cfg = dict(cfg)
    search, prior = cfg.pop("search", "envelope"), cfg.pop("prior", "none")
    if search == "waveform":
        return waveform_config(cfg, prior)
    if search != "envelope" or prior != "none":
        raise ValueError(
            f"attacks.evo: search {search!r}, prior {prior!r}: the search is envelope or "
            "waveform; prior: surrogate guides only the waveform search")  # fmt: skip
    envelope = {k: v for k, v in cfg.items() if k != "waveform"}
    return EvolutionaryAttackConfig(**{**envelope, "band_hz": tuple(cfg["band_hz"])})


EVO = Attack(evolutionary_attack, evolutionary_config)

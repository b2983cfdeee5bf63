"""A toy attack, enhancement model and defence, registered from config alone
(``registry`` section) by tests/test_extending.py: the worked example of
docs/extending.md, small enough to read in a minute."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from advspeech.attacks.base import Attack, AttackJob, AttackResult, attack_unskipped
from advspeech.core.dsp import snr_budget_scale
from advspeech.defences.transforms import Transform

# --- an attack: white noise at the SNR budget (a floor any real attack must beat) -------


@dataclass(frozen=True)
class NoiseAttackConfig:
    snr_db: float = 10.0  # the shared budget, attacks.snr_db
    seed_offset: int = 0


def _noise_batch(job: AttackJob, cfg: NoiseAttackConfig) -> list[AttackResult]:
    results = []
    for wave, seed in zip(job.waves, job.seeds, strict=True):
        t0 = time.time()
        v = np.random.default_rng(seed + cfg.seed_offset).standard_normal(len(wave))
        scale = snr_budget_scale(
            torch.tensor(float(np.sum(wave**2))), torch.tensor(float(np.sum(v**2))), cfg.snr_db
        )
        v = v.astype(np.float32) * float(scale)
        adversarial = np.clip(wave + v, -1, 1).astype(np.float32)
        decoded = job.recognizer.transcribe([adversarial])[0]
        results.append(
            AttackResult(adversarial, 0, 1, time.time() - t0, False, decoded == job.target)
        )
    return results


NOISE_ATTACK = Attack(
    run=lambda job, cfg: attack_unskipped(_noise_batch, job, cfg),
    config=lambda cfg: NoiseAttackConfig(**cfg),
)

# --- an enhancement model: one learnt gain ------------------------------------------------


@dataclass(frozen=True)
class GainConfig:
    initial_gain: float = 1.0


class Gain(nn.Module):
    def __init__(self, cfg: GainConfig):
        super().__init__()
        self.cfg = cfg
        self.gain = nn.Parameter(torch.tensor(float(cfg.initial_gain)))

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return noisy * self.gain

    def loss(self, noisy: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        return torch.mean((self(noisy) - clean) ** 2)


def build_gain(cfg: dict) -> Gain:
    return Gain(GainConfig(**cfg))


# --- a defence: hard clipping ---------------------------------------------------------------


class Clip(Transform):
    exact_gradient = True

    def __init__(self, level: float = 0.05):
        self.level = level

    def apply(self, wave: torch.Tensor, seed: int) -> torch.Tensor:
        return wave.clamp(-self.level, self.level)


# --- an attack whose success is known: for the budget search's tests ------------------------


@dataclass(frozen=True)
class ThresholdConfig:
    snr_db: float = 10.0
    rooms_per_check: int = 0
    rooms_per_query: int = 0


def _threshold_batch(job: AttackJob, cfg: ThresholdConfig) -> list[AttackResult]:
    """Succeeds digitally exactly when the budget is at most the utterance's threshold,
    its seed modulo 50 (dB): a ground truth for the bisection."""
    return [
        AttackResult(np.asarray(w, np.float32), 1, 1, 0.0, False, cfg.snr_db <= seed % 50)
        for w, seed in zip(job.waves, job.seeds, strict=True)
    ]


THRESHOLD_ATTACK = Attack(run=_threshold_batch, config=lambda cfg: ThresholdConfig(**cfg))

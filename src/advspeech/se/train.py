"""Training the enhancement models, plain (``noisy``) and adversarially (``advt``, Eq. 6)
(applying them to test sets: :mod:`advspeech.se.enhance`).

``noisy`` training: random ``segment``-sample crops of (noisy mixture, clean) pairs.
``advt`` training: the same pairs plus adversarial examples of training utterances paired
with their clean originals (when the attack stage provides them), and the paper's Eq. 6,
``J~ = alpha J(x, y) + (1 - alpha) J(x + eps sign(grad_x J(x, y)), y)``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from advspeech.core.io import DataError, read_audio
from advspeech.se import build_se
from advspeech.se.augment import remix_noise
from advspeech.training.checkpoint import ResumableState, start_model
from advspeech.training.trainer import ResumableTrainer, fit_and_save

log = logging.getLogger(__name__)


# training arithmetic name -> autocast dtype (None: plain float32)
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class SETrainConfig:
    """Settings of one enhancement training (``se.train`` or ``se.advt`` with
    ``per_model``)."""

    steps: int = 800
    batch_size: int = 8
    segment: int = 16384
    lr: float = 1e-3
    eval_every: int = 50
    patience: int = 4
    alpha: float = 1.0  # Eq. 6; 1 = plain training
    eps: float = 0.0
    # share of each batch drawn from the adversarial pairs (advt): a few dozen adversarial
    # examples among thousands of noisy pairs would otherwise almost never be seen
    adversarial_fraction: float = 0.0
    # share of each batch whose input is the clean utterance itself (target: the same
    # utterance): trained on 15-0 dB mixtures only, a model removes "noise" from clean
    # speech too, and a defence that damages clean speech is not a defence
    clean_fraction: float = 0.125
    # learning-rate schedule over ``steps``: "constant", or "cosine" (linear warm-up
    # over the first 5 % of steps, then cosine decay to 0)
    schedule: str = "constant"
    # steps the schedule spans (None: ``steps``); the learning-curve bench continues one
    # run through several budgets under the schedule of the largest
    schedule_steps: int | None = None
    # Eq. 6's FGSM step on the clean-to-clean pairs too (the paper's equation as written);
    # False leaves their input clean, so they keep teaching the model to pass speech through
    perturb_clean_pairs: bool = True
    # dynamic remixing of the noisy pairs (:func:`advspeech.se.augment.remix_noise`): the
    # share of noisy rows whose noise is replaced, how many donor noises are summed, and the
    # largest spectral tilt given to a donor (power slope in dB per decade of frequency)
    remix_fraction: float = 0.0
    remix_noises: int = 1
    remix_tilt_db: float = 0.0
    # arithmetic of the training steps' forward and backward passes: "bf16" runs them
    # under autocast (weights, optimiser and the dev loss stay float32); on a CPU with
    # AMX or AVX512-BF16, and on recent GPUs, a step takes about half the time
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"SE training precision {self.precision!r} is not one of {sorted(PRECISIONS)}"
            )


WARMUP_FRACTION = 0.05


def lr_factor(schedule: str, step: int, steps: int) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``steps``."""
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        warmup = max(1, round(WARMUP_FRACTION * steps))
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"se.train.schedule {schedule!r}: choose constant or cosine")


@dataclass
class Pairs:
    """(degraded, clean) waveform pairs held in memory as float32."""

    degraded: list[np.ndarray]
    clean: list[np.ndarray]

    @classmethod
    def from_manifest(
        cls, manifest: str, degraded_column: str, clean_column: str = "clean_path"
    ) -> Pairs:
        """Pairs of a manifest: degraded audio in ``degraded_column``, clean in
        ``clean_column`` (equal lengths, else a DataError naming the files)."""
        frame = pd.read_csv(manifest, keep_default_na=False)
        for col in (degraded_column, clean_column):
            if col not in frame.columns:
                raise DataError(f"manifest {manifest} lacks column {col!r}")
        deg, cln = [], []
        for d, c in zip(frame[degraded_column], frame[clean_column], strict=True):
            x, y = read_audio(d)[0][0], read_audio(c)[0][0]
            if len(x) != len(y):
                raise DataError(f"{d} and {c} differ in length ({len(x)} vs {len(y)})")
            deg.append(x)
            cln.append(y)
        return cls(deg, cln)

    def __add__(self, other: Pairs) -> Pairs:
        return Pairs(self.degraded + other.degraded, self.clean + other.clean)

    @staticmethod
    def concat(parts: Sequence[Pairs]) -> Pairs | None:
        """All ``parts`` in order, or None when there are none."""
        out = None
        for part in parts:
            out = part if out is None else out + part
        return out

    def __len__(self) -> int:
        return len(self.clean)

    def sample(
        self, batch: int, segment: int, gen: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Random crops (zero-padded when an utterance is shorter than ``segment``)."""
        xs, ys = [], []
        for _ in range(batch):
            i = int(torch.randint(len(self), (1,), generator=gen))
            x, y = self.degraded[i], self.clean[i]
            if len(x) < segment:
                x = np.pad(x, (0, segment - len(x)))
                y = np.pad(y, (0, segment - len(y)))
            start = int(torch.randint(len(x) - segment + 1, (1,), generator=gen))
            xs.append(x[start : start + segment])
            ys.append(y[start : start + segment])
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))

    def fixed_batches(
        self, segment: int, batch: int, seed: int
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Up to 64 pairs cut into fixed batches of crops from ``seed``: the same dev
        batches at every evaluation."""
        gen = torch.Generator().manual_seed(seed)
        n = max(1, min(len(self), 64) // batch)
        return [self.sample(batch, segment, gen) for _ in range(n)]


def adversarial_enhancement_loss(
    model: torch.nn.Module,
    noisy: torch.Tensor,
    clean: torch.Tensor,
    alpha: float,
    eps: float,
    perturb_clean_pairs: bool = True,
) -> torch.Tensor:
    """The paper's Eq. 6 for an enhancement model:
    alpha J(x, y) + (1 - alpha) J(x + eps sign(grad_x J(x, y)), y); without
    ``perturb_clean_pairs`` the rows whose input is their target stay unperturbed."""
    if alpha >= 1.0:
        return model.loss(noisy, clean)
    x = noisy.detach().clone().requires_grad_(True)
    loss_clean = model.loss(x, clean)
    (grad,) = torch.autograd.grad(loss_clean, x, retain_graph=True)
    step = eps * grad.sign()
    if not perturb_clean_pairs:
        step = step * (noisy != clean).any(dim=-1, keepdim=True)
    x_adv = (noisy + step).detach()
    return alpha * loss_clean + (1.0 - alpha) * model.loss(x_adv, clean)


def draw_batch(
    train: Pairs, adversarial: Pairs | None, cfg: SETrainConfig, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """One training batch: ``adversarial_fraction`` of it from the adversarial pairs (when
    there are any), ``clean_fraction`` clean-to-clean pairs, the rest from ``train``
    (remixed, :func:`advspeech.se.augment.remix_noise`, when ``remix_fraction`` > 0)."""
    n_adv = round(cfg.adversarial_fraction * cfg.batch_size) if adversarial else 0
    n_clean = min(round(cfg.clean_fraction * cfg.batch_size), cfg.batch_size - n_adv)
    parts = []
    if cfg.batch_size - n_adv - n_clean > 0:
        noisy, clean = train.sample(cfg.batch_size - n_adv - n_clean, cfg.segment, gen)
        if cfg.remix_fraction > 0:
            noisy = remix_noise(
                noisy, clean, cfg.remix_fraction, cfg.remix_noises, cfg.remix_tilt_db, gen
            )
        parts.append((noisy, clean))
    if n_clean > 0:
        _, clean = train.sample(n_clean, cfg.segment, gen)
        parts.append((clean, clean))
    if n_adv > 0:
        parts.append(adversarial.sample(n_adv, cfg.segment, gen))
    return torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts])


def train_enhancer(
    model: torch.nn.Module,
    train: Pairs,
    dev: Pairs,
    cfg: SETrainConfig,
    device: torch.device,
    gen: torch.Generator,
    state: ResumableState,
    adversarial: Pairs | None = None,
) -> tuple[dict, list[dict]]:
    """Adam on random segments (see :func:`draw_batch`); the dev loss every
    ``eval_every`` steps selects the best weights and stops after ``patience``
    evaluations without improvement. Resumable (:class:`ResumableTrainer`). Returns the
    best record (``score``: dev loss, ``at``: steps done, ``state_dict``) and the history.
    """
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    dev_batches = dev.fixed_batches(cfg.segment, cfg.batch_size, seed=1)
    trainer = ResumableTrainer(
        model, opt, state, gen, cfg.patience, resume_message="resuming at step %d"
    )
    step = trainer.resume()
    losses: list[float] = []
    t0 = time.time()
    with tqdm(total=cfg.steps, initial=step, desc="train se", mininterval=10) as bar:
        while step < cfg.steps:
            losses.append(training_step(model, opt, train, adversarial, cfg, step, device, gen))
            step += 1
            bar.update()
            if step % cfg.eval_every == 0 or step == cfg.steps:
                dev_loss = dev_loss_of(model, dev_batches, device)
                record = {
                    "step": step,
                    "train_loss": float(np.mean(losses)),
                    "dev_loss": dev_loss,
                    "seconds": time.time() - t0,
                }
                log.info("step %d: train %.5f dev %.5f", step, record["train_loss"], dev_loss)
                losses = []
                trainer.evaluated(step, record, dev_loss)
                if trainer.should_stop:
                    log.info("early stop at step %d (best %d)", step, trainer.best["at"])
                    break
    return trainer.finish()


def training_step(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    train: Pairs,
    adversarial: Pairs | None,
    cfg: SETrainConfig,
    step: int,
    device: torch.device,
    gen: torch.Generator,
) -> float:
    """One optimiser step at ``step`` (0-based) of the schedule on a fresh batch
    (:func:`draw_batch`) with Eq. 6's loss; returns the batch loss."""
    model.train()
    for group in opt.param_groups:
        group["lr"] = cfg.lr * lr_factor(cfg.schedule, step, cfg.schedule_steps or cfg.steps)
    noisy, clean = draw_batch(train, adversarial, cfg, gen)
    dtype = PRECISIONS[cfg.precision]
    with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        loss = adversarial_enhancement_loss(
            model,
            noisy.to(device),
            clean.to(device),
            cfg.alpha,
            cfg.eps,
            cfg.perturb_clean_pairs,
        )
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    return float(loss.detach())


def dev_loss_of(
    model: torch.nn.Module, batches: Sequence[tuple[torch.Tensor, torch.Tensor]], device
) -> float:
    """The model's mean training loss over fixed dev batches (in eval mode, float32)."""
    model.eval()
    with torch.no_grad():
        return float(np.mean([float(model.loss(x.to(device), y.to(device))) for x, y in batches]))


def fit_enhancer(
    *,
    name: str,
    model_cfg: dict,
    train_cfg: dict,
    train_manifest: str,
    dev_manifest: str,
    adversarial_manifests: Sequence[str],
    init_model: str | None,
    out_model: str,
    out_history: str,
    state_path: str,
    device: str,
    seed: int,
) -> dict:
    """Everything the ``train_se`` rule does: build enhancement model ``name``
    (:data:`advspeech.se.SE_MODELS`) from ``model_cfg`` (or load ``init_model`` to
    fine-tune), train it with :func:`train_enhancer` on the noisy pairs of
    ``train_manifest`` (and the adversarial pairs of ``adversarial_manifests``), and
    write the state dict and the history; returns the metadata."""
    model, torch_device, gen = start_model(
        lambda: build_se(name, model_cfg), init_model, device, seed
    )
    train, dev = (Pairs.from_manifest(m, "noisy_path") for m in (train_manifest, dev_manifest))
    adversarial = Pairs.concat([Pairs.from_manifest(m, "adv_path") for m in adversarial_manifests])
    cfg = SETrainConfig(**train_cfg)
    if hasattr(model, "fit_normalisation") and not init_model:
        sample_x, sample_y = train.sample(64, cfg.segment, torch.Generator().manual_seed(seed))
        model.fit_normalisation(sample_x, sample_y)
    params = sum(p.numel() for p in model.parameters())
    log.info("%s: %s parameters, %d noisy and %d adversarial training pairs, device %s",
             name, f"{params:,}", len(train), len(adversarial or []), torch_device)  # fmt: skip
    return fit_and_save(
        lambda state: train_enhancer(model, train, dev, cfg, torch_device, gen, state, adversarial),
        model=model,
        params={"name": name, "model": model_cfg, "train": train_cfg, "seed": seed},
        data=(
            train.degraded,
            train.clean,
            dev.degraded,
            dev.clean,
            [] if adversarial is None else [adversarial.degraded, adversarial.clean],
        ),
        state_path=state_path,
        out_model=out_model,
        out_history=out_history,
        meta=lambda best: {
            "name": name,
            "model": model_cfg,
            "train": train_cfg,
            "best_step": best["at"],
            "dev_loss": best["score"],
            "parameters": params,
        },
        history_key="evaluations",
    )

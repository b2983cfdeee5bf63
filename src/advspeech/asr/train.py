"""Training and evaluating the CTC recogniser, plain and adversarially (paper Eq. 6).

Training data: the clean training utterances and their noisy mixtures, with on-the-fly
augmentation (optional speed perturbation, random gain, reverberation by a *train* room,
SpecAugment masks). The dev split (clean + noisy) selects the epoch with the lowest WER;
training stops after ``patience`` epochs without improvement.

Adversarial training fine-tunes a trained model with the paper's Eq. 6 on the CTC loss,
``J~ = alpha J(x, y) + (1 - alpha) J(x + eps sign(grad_x J(x, y)), y)``, on the same data
plus adversarial examples of training utterances labelled with their true transcripts.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from advspeech.asr.augment import AugmentConfig, augment_waves, spec_augment
from advspeech.asr.evaluate import word_error_rates
from advspeech.asr.model import ctc_loss, pad_batch
from advspeech.asr.recognizer import CTCRecognizer, differentiable_rnns
from advspeech.core.io import DataError, read_audio
from advspeech.data.rooms import load_rirs
from advspeech.training.checkpoint import ResumableState, start_model
from advspeech.training.trainer import ResumableTrainer, fit_and_save

log = logging.getLogger(__name__)


@dataclass
class Utterances:
    """Audio kept in memory as int16 (half the size of float32) with transcripts."""

    audio: list[np.ndarray]
    texts: list[str]
    ids: list[str]

    @classmethod
    def from_manifests(
        cls, manifests: Sequence[str], path_column: str, limit: int | None = None
    ) -> Utterances:
        """The utterances of ``manifests`` (paths in ``path_column``, transcripts in
        ``text``), at most ``limit``; a manifest without those columns is a DataError
        naming it."""
        audio, texts, ids = [], [], []
        for manifest in manifests:
            frame = pd.read_csv(manifest, keep_default_na=False)
            if path_column not in frame.columns or "text" not in frame.columns:
                raise DataError(f"manifest {manifest} lacks columns {path_column!r}/'text'")
            for row in frame.itertuples(index=False):
                x = read_audio(getattr(row, path_column))[0][0]
                audio.append(np.round(np.clip(x, -1, 1) * 32767).astype(np.int16))
                texts.append(row.text)
                ids.append(getattr(row, "mix_id", None) or row.utt_id)
                if limit and len(audio) >= limit:
                    break
        if not audio:
            raise DataError(f"no utterances in {list(manifests)}")
        return cls(audio, texts, ids)

    def __len__(self) -> int:
        return len(self.audio)

    def __add__(self, other: Utterances) -> Utterances:
        return Utterances(self.audio + other.audio, self.texts + other.texts, self.ids + other.ids)

    def waveform(self, i: int) -> np.ndarray:
        """Utterance ``i`` as float32 in [-1, 1]."""
        return self.audio[i].astype(np.float32) / 32767.0


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (config ``asr.train``; ``asr.advt`` for the AdvT twin)."""

    epochs: int = 20
    patience: int = 3
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-5
    grad_clip: float = 5.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    # adversarial training (Eq. 6); alpha = 1 disables it
    alpha: float = 1.0
    eps: float = 0.0


def make_batches(lengths: Sequence[int], batch_size: int, gen: torch.Generator) -> list[np.ndarray]:
    """Shuffle, then sort within pools of 50 batches by length, so batches pad little."""
    order = torch.randperm(len(lengths), generator=gen).numpy()
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
        batches += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    perm = torch.randperm(len(batches), generator=gen).numpy()
    return [batches[i] for i in perm]


def fgsm_perturb(
    model, batch: torch.Tensor, lengths: torch.Tensor, texts, eps: float
) -> torch.Tensor:
    """x + eps * sign(grad_x J(x, y)) with J the CTC loss (Goodfellow et al.; paper Eq. 6)."""
    x = batch.detach().clone().requires_grad_(True)
    with differentiable_rnns(model):  # also when called on a model in eval mode
        log_probs, out_len = model(x, lengths)
    loss = ctc_loss(log_probs, out_len, texts)
    (grad,) = torch.autograd.grad(loss, x)
    mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]).to(x.dtype)
    return (batch + eps * grad.sign() * mask).clamp(-1, 1).detach()


def adversarial_ctc_loss(
    model: CTCRecognizer,
    batch: torch.Tensor,
    lengths: torch.Tensor,
    texts: Sequence[str],
    feats_aug: bool,
    alpha: float,
    eps: float,
    gen: torch.Generator,
    augment: AugmentConfig,
) -> torch.Tensor:
    """The paper's Eq. 6 for the recogniser: alpha CTC(x) + (1 - alpha) CTC(FGSM(x));
    plain CTC when alpha == 1 (the enhancement counterpart is
    :func:`advspeech.se.train.adversarial_enhancement_loss`)."""

    def objective(wave):
        feats, frames = model.front_end(wave, lengths)
        if feats_aug:
            feats = spec_augment(feats, frames, augment, gen)
        log_probs, out_len = model.encode(feats, frames)
        return ctc_loss(log_probs, out_len, texts)

    clean_loss = objective(batch)
    if alpha >= 1.0:
        return clean_loss
    adversarial = fgsm_perturb(model, batch, lengths, texts, eps)
    return alpha * clean_loss + (1.0 - alpha) * objective(adversarial)


def evaluate(
    model, data: Utterances, device: torch.device, batch_size: int = 32
) -> tuple[float, float, list[str]]:
    """Greedy-decoding WER and CER (percent) of ``model`` on ``data`` and the transcripts;
    the model keeps its mode."""
    was_training = model.training
    recognizer = CTCRecognizer(model, device, batch_size=batch_size)
    hyps = recognizer.transcribe([data.waveform(i) for i in range(len(data))])
    for p in model.parameters():
        p.requires_grad_(True)
    model.train(was_training)
    wer, cer = word_error_rates(data.texts, hyps)
    return wer, cer, hyps


def train_ctc(
    model: torch.nn.Module,
    train: Utterances,
    dev: Utterances,
    cfg: TrainConfig,
    device: torch.device,
    gen: torch.Generator,
    state: ResumableState,
    rirs: Sequence[np.ndarray] = (),
) -> tuple[dict, list[dict]]:
    """Train ``model`` in place, one epoch of :func:`train_epoch` at a time, each
    followed by the dev WER; returns the best record (``score``: dev WER in percent,
    ``at``: epochs done, ``state_dict``) and the per-epoch history.

    AdamW with a one-cycle schedule (warm-up, then cosine decay to lr/1e3): converges in
    few epochs. The state is saved after every epoch (:class:`ResumableTrainer`); a
    killed job that is re-run resumes from the last finished epoch.
    """
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch + 1, pct_start=0.15
    )
    trainer = ResumableTrainer(
        model, opt, state, gen, cfg.patience, sched, resume_message="resuming from epoch %d"
    )
    for epoch in range(trainer.resume(), cfg.epochs):
        if trainer.should_stop:
            log.info("early stop: no dev improvement for %d epochs", cfg.patience)
            break
        t0 = time.time()
        train_loss = train_epoch(model, train, cfg, opt, sched, device, gen, rirs, epoch)
        model.eval()
        dev_wer, dev_cer, _ = evaluate(model, dev, device)
        record = {
            "epoch": epoch,
            "train_loss": train_loss,
            "dev_wer": dev_wer,
            "dev_cer": dev_cer,
            "seconds": time.time() - t0,
        }
        log.info(
            "epoch %d: loss %.3f dev WER %.2f%% CER %.2f%% (%.0f s)",
            epoch,
            train_loss,
            dev_wer,
            dev_cer,
            record["seconds"],
        )
        trainer.evaluated(epoch + 1, record, dev_wer)
    return trainer.finish()


def train_epoch(
    model: torch.nn.Module,
    train: Utterances,
    cfg: TrainConfig,
    opt: torch.optim.Optimizer,
    sched,
    device: torch.device,
    gen: torch.Generator,
    rirs: Sequence[np.ndarray],
    epoch: int,
) -> float:
    """One pass over ``train`` in length-sorted batches (:func:`make_batches`), each
    augmented (:func:`augment_waves`) and trained on Eq. 6's loss; returns the mean
    training loss."""
    model.train()
    losses = []
    batches = make_batches([len(a) for a in train.audio], cfg.batch_size, gen)
    for idx in tqdm(batches, desc=f"epoch {epoch}", mininterval=10):
        waves = augment_waves([train.waveform(i) for i in idx], rirs, cfg.augment, gen)
        batch, lens = pad_batch(waves)
        batch, lens = batch.to(device), lens.to(device)
        texts = [train.texts[i] for i in idx]
        loss = adversarial_ctc_loss(
            model, batch, lens, texts, True, cfg.alpha, cfg.eps, gen, cfg.augment
        )
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


def fit_recognizer(
    *,
    model_cfg: dict,
    train_cfg: dict,
    train_manifests: dict[str, Sequence[str]],
    dev_manifests: dict[str, Sequence[str]],
    rir_manifest: str,
    out_model: str,
    out_history: str,
    state_path: str,
    device: str,
    seed: int,
    init_model: str | None = None,
    arch: str = "ds",
) -> dict:
    """Everything the ``train_asr`` rule does: build recogniser ``arch``
    (:data:`advspeech.asr.RECOGNISERS`) from ``model_cfg``, train it with
    :func:`train_ctc` and write the state dict and the history; returns the metadata.

    ``*_manifests`` map a path column (``clean_path``/``noisy_path``/``adv_path``) to
    manifests; ``init_model`` is the checkpoint to fine-tune (the AdvT twin).
    """
    from advspeech.asr import build_asr
    from advspeech.asr.model import count_parameters

    model, torch_device, gen = start_model(
        lambda: build_asr(arch, model_cfg), init_model, device, seed
    )
    train = _load_sets(train_manifests, int(train_cfg.get("adversarial_repeat", 1)))
    dev = _load_sets(dev_manifests)
    rirs = load_rirs(rir_manifest) if train_cfg.get("reverb_prob", 0) > 0 else []
    cfg = train_config(train_cfg)
    log.info(
        "training %s parameters on %d utterances (%.2f h) on %s",
        f"{count_parameters(model):,}",
        len(train),
        sum(len(a) for a in train.audio) / 16000 / 3600,
        torch_device,
    )
    return fit_and_save(
        lambda state: train_ctc(model, train, dev, cfg, torch_device, gen, state, rirs),
        model=model,
        params={"model": model_cfg, "train": train_cfg, "seed": seed},
        data=(train.audio, train.texts, dev.audio, dev.texts, list(rirs)),
        state_path=state_path,
        out_model=out_model,
        out_history=out_history,
        meta=lambda best: {
            "arch": arch,
            "model": model_cfg,
            "train": train_cfg,
            "best_epoch": best["at"] - 1 if best["at"] > 0 else -1,
            "dev_wer": best["score"],
            "parameters": count_parameters(model),
        },
        history_key="epochs",
    )


def train_config(train_cfg: dict) -> TrainConfig:
    """:class:`TrainConfig` from the rule's settings (``asr.train``, or ``asr.advt``
    over it: :func:`advspeech.pipeline.config.asr_train_settings`)."""
    spec_augment = train_cfg.get("spec_augment", True)
    return TrainConfig(
        epochs=train_cfg["epochs"],
        patience=train_cfg["patience"],
        batch_size=train_cfg["batch_size"],
        lr=train_cfg["lr"],
        weight_decay=train_cfg["weight_decay"],
        augment=AugmentConfig(
            reverb_prob=train_cfg.get("reverb_prob", 0.0),
            freq_masks=2 if spec_augment else 0,
            time_masks=2 if spec_augment else 0,
            speed_factors=tuple(float(f) for f in train_cfg.get("speed_perturb", ())),
        ),
        alpha=train_cfg.get("alpha", 1.0),
        eps=train_cfg.get("eps", 0.0),
    )


def _load_sets(manifests: dict[str, Sequence[str]], adversarial_repeat: int = 1) -> Utterances:
    """The utterances of every manifest (path column -> manifests), the adversarial
    examples (``adv_path``) ``adversarial_repeat`` times: a few dozen among thousands of
    utterances would barely move the model, repeating them gives them weight in each
    epoch (ds_advt only)."""
    sets = [
        Utterances.from_manifests(
            list(paths) * (adversarial_repeat if col == "adv_path" else 1), col
        )
        for col, paths in manifests.items()
    ]
    out = sets[0]
    for s in sets[1:]:
        out = out + s
    return out

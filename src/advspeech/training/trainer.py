"""The resumable training skeleton every trainable model shares (the recognisers'
epochs and the enhancement models' steps alike).

A training loop owns what differs (its batches, loss and dev score); the
:class:`ResumableTrainer` owns what does not: resuming from the saved state, keeping the
weights with the best (lowest) dev score, early stopping after ``patience`` evaluations
without improvement, and saving the state after every evaluation. :func:`fit_and_save`
wraps one training run as a rule needs it: the fingerprinted state, the final state
dict with its metadata, the history file, and the state removed once done.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from advspeech.core.io import write_json
from advspeech.core.torchutil import save_state_dict
from advspeech.training.checkpoint import (
    ResumableState,
    content_digest,
    fingerprint,
    restore_rng_state,
    rng_state,
)

log = logging.getLogger(__name__)


class ResumableTrainer:
    """Best weights, early stopping and the saved state of one training run.

    Progress is counted in the loop's own units (epochs or optimiser steps):
    :meth:`resume` returns how many are done, :meth:`evaluated` records the dev score
    after ``done`` of them. The best weights are those of the lowest score.

    Args:
        model: the module being trained (in place).
        optimizer: its optimiser; ``scheduler`` an optional learning-rate scheduler.
        state: where the state is saved after each evaluation.
        generator: the loop's data-order generator (saved with torch's global RNG).
        patience: evaluations without improvement before :attr:`should_stop`.
        resume_message: the log line on resuming (``%d``: units done).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        state: ResumableState,
        generator: torch.Generator,
        patience: int,
        scheduler: Any | None = None,
        resume_message: str = "resuming after %d",
    ):
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.state = state
        self.generator = generator
        self.patience = patience
        self.resume_message = resume_message
        self.history: list[dict] = []
        # best: score, where (units done when it was measured) and a CPU copy of weights
        self.best: dict = {"score": float("inf"), "at": -1, "state_dict": None}
        self._best_index = -1  # index in history of the best evaluation

    def resume(self) -> int:
        """Load the saved state when it matches; returns the units already done (0)."""
        saved = self.state.load()
        if saved is None:
            return 0
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(saved["scheduler"])
        self.history, self.best = saved["history"], saved["best"]
        self._best_index = saved["best_index"]
        restore_rng_state(saved["rng"], self.generator)
        log.info(self.resume_message + " (state %s)", saved["done"], self.state.path)
        return saved["done"]

    def evaluated(self, done: int, record: dict, score: float) -> bool:
        """Record one evaluation after ``done`` units: keep the weights when ``score`` is
        the lowest so far, save the state; returns whether it improved."""
        self.history.append(record)
        improved = score < self.best["score"]
        if improved:
            self.best = {
                "score": score,
                "at": done,
                "state_dict": {
                    k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()
                },
            }
            self._best_index = len(self.history) - 1
        payload = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "history": self.history,
            "best": self.best,
            "best_index": self._best_index,
            "done": done,
            "rng": rng_state(self.generator),
        }
        if self.scheduler is not None:
            payload["scheduler"] = self.scheduler.state_dict()
        self.state.save(payload)
        return improved

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` evaluations have passed since the best one."""
        if self._best_index < 0:
            return False
        return len(self.history) - 1 - self._best_index >= self.patience

    def finish(self) -> tuple[dict, list[dict]]:
        """The best record (a run that never evaluated keeps its final weights) and the
        history; the model keeps its last weights."""
        if self.best["state_dict"] is None:
            self.best["state_dict"] = self.model.state_dict()
        return self.best, self.history


def fit_and_save(
    train: Callable[[ResumableState], tuple[dict, list[dict]]],
    *,
    model: torch.nn.Module,
    params: dict,
    data: Sequence[Any],
    state_path: str | os.PathLike,
    out_model: str | os.PathLike,
    out_history: str | os.PathLike,
    meta: Callable[[dict], dict],
    history_key: str,
) -> dict:
    """Run ``train`` (given the run's :class:`ResumableState`, it returns the best
    record and the history) and write what a training rule outputs: the best weights as
    a state dict with ``meta(best)``, and ``{"meta", history_key: history, "seconds"}``
    as JSON. The state is fingerprinted by ``params`` and by the content of what the model
    trains on (``data``: arrays, texts) and starts from (its weights now): paths stay the
    same when upstream data or the initial model change, so a changed parameter, dataset
    or initial model starts afresh. The state is removed once both files are written.
    Returns the metadata."""
    key = {**params, "data": content_digest(*data), "init": content_digest(model.state_dict())}
    state = ResumableState(state_path, fingerprint(key))
    t0 = time.time()
    best, history = train(state)
    model.load_state_dict(best["state_dict"])
    info = meta(best)
    save_state_dict(model, out_model, info)
    write_json(out_history, {"meta": info, history_key: history, "seconds": time.time() - t0})
    state.clear()
    return info

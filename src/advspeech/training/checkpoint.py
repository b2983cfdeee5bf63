"""Resumable training state: what a killed training job needs to continue where it
stopped, and what tells it that the state is stale.

The state (model, optimiser, progress, history, RNG states) lives outside the rule's
declared outputs (Snakemake deletes those before a job starts), tagged with a
fingerprint of the training parameters *and of the data and initial weights it trains
on* (their content, not their paths), so neither a changed config nor changed upstream
data ever resumes a stale run; it is removed once training finishes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from advspeech.core.io import atomic_path
from advspeech.core.torchutil import load_checkpoint, resolve_device, seed_everything

log = logging.getLogger(__name__)


def start_model(
    build: Callable[[], torch.nn.Module], init_model: str | None, device: str, seed: int
) -> tuple[torch.nn.Module, torch.device, torch.Generator]:
    """Seed every generator, build the model (its initial weights drawn after seeding)
    and, when fine-tuning, load ``init_model``'s weights; returns the model, the device
    and the training generator."""
    dev = resolve_device(device)
    gen = seed_everything(seed)
    model = build()
    if init_model:
        model.load_state_dict(load_checkpoint(init_model)["state_dict"])
    return model, dev, gen


def fingerprint(params: dict[str, Any]) -> str:
    """Stable hash of training parameters (JSON, sorted keys)."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def content_digest(*parts: Any) -> str:
    """SHA-256 of the content of arrays, tensors, strings and (nested) lists of them, in
    order: what a model trains on, whatever files it came from."""
    digest = hashlib.sha256()

    def feed(part: Any) -> None:
        if isinstance(part, torch.Tensor):
            part = part.detach().cpu().contiguous().numpy()
        if isinstance(part, np.ndarray):
            digest.update(f"{part.dtype}{part.shape}".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, str | bytes | int | float | bool) or part is None:
            digest.update(repr(part).encode())
        elif isinstance(part, dict):
            for key in sorted(part):
                feed(key)
                feed(part[key])
        elif isinstance(part, list | tuple):
            digest.update(f"[{len(part)}".encode())
            for item in part:
                feed(item)
        else:
            raise TypeError(f"cannot digest {type(part).__name__}")

    for part in parts:
        feed(part)
    return digest.hexdigest()[:16]


class ResumableState:
    """Training state saved after each epoch to a path outside the rule's outputs."""

    def __init__(self, path: str | os.PathLike, params_fingerprint: str):
        self.path = Path(path)
        self.fingerprint = params_fingerprint

    def save(self, state: dict) -> None:
        """Save ``state`` with the fingerprint, atomically."""
        state = {**state, "fingerprint": self.fingerprint}
        with atomic_path(self.path) as tmp:
            torch.save(state, tmp)

    def load(self) -> dict | None:
        """The saved state, or None (no state, stale parameters, or unreadable file)."""
        if not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as err:  # a state file is a cache: never fatal
            log.warning("ignoring unreadable training state %s: %s", self.path, err)
            return None
        if state.get("fingerprint") != self.fingerprint:
            log.info("training parameters changed since %s was saved: starting afresh", self.path)
            return None
        return state

    def clear(self) -> None:
        """Remove the state (training finished)."""
        self.path.unlink(missing_ok=True)


def rng_state(generator: torch.Generator) -> dict:
    """Torch RNG states (training draws all randomness from torch, so this suffices)."""
    return {"torch": torch.get_rng_state(), "data": generator.get_state()}


def restore_rng_state(state: dict, generator: torch.Generator) -> None:
    """Restore torch's global RNG and ``generator`` from :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    generator.set_state(state["data"])

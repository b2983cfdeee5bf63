"""Torch plumbing shared by every model: device choice, threads, seeding, and final
checkpoints (state dicts saved atomically and loaded with ``weights_only=True``; the
resumable training state is :mod:`advspeech.training.checkpoint`)."""

from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path

import numpy as np
import torch

from advspeech.core.io import DataError, atomic_path

log = logging.getLogger(__name__)


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available (honouring CUDA_VISIBLE_DEVICES), else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DataError(f"config key device: {name!r} requested but CUDA is not available")
    return device


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; return a torch Generator for data order."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def set_threads(threads: int) -> None:
    """Use the cores Snakemake granted the job, not every core of the machine."""
    torch.set_num_threads(max(1, int(threads)))


def save_state_dict(module: torch.nn.Module, path: str | os.PathLike, meta: dict) -> None:
    """Save ``{"state_dict": ..., "meta": ...}`` atomically (plain tensors and JSON types)."""
    payload = {"state_dict": module.state_dict(), "meta": json.loads(json.dumps(meta))}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint with ``weights_only=True``; a missing or corrupt file is a
    :class:`DataError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"model checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise DataError(
            f"cannot load model checkpoint {path} (corrupt or not a state dict): {err}"
        ) from err
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise DataError(f"model checkpoint {path} has no state_dict entry")
    return payload

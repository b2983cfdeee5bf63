"""An enhancement model applied to whole utterances: segment-wise overlap-add, as the
``enhance`` rule and the adaptive attacker use it; and any defence applied to every
file of a test set (:func:`process_manifest`, for ``enhance`` and ``transform``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.core.io import DataError, read_audio, write_audio


def overlap_add_enhance(model: nn.Module, wave: torch.Tensor, segment: int) -> torch.Tensor:
    """Enhance a 1-D signal of any length by 50 %-overlap-add of ``segment``-sample windows,
    on the signal's device and differentiable in the signal (the adaptive attacker
    attacks exactly this function).

    A signal no longer than ``segment`` is enhanced in one piece. Longer ones are cut into
    windows at half-segment hops (the last one ending at the signal's end), each weighted
    by a Hann window and normalised by the summed window, so the weights add to one
    everywhere; the output has exactly the input's length.
    """
    if wave.ndim != 1:
        raise ValueError(f"overlap_add_enhance expects a 1-D signal, got {tuple(wave.shape)}")
    n = wave.shape[0]
    if n <= segment:
        return model(wave[None])[0]
    hop = segment // 2
    starts = list(range(0, n - segment + 1, hop))
    if starts[-1] + segment < n:
        starts.append(n - segment)
    window = torch.hann_window(segment, periodic=False, dtype=wave.dtype, device=wave.device)
    window = window.clamp(min=1e-3)
    batch = torch.stack([wave[s : s + segment] for s in starts])
    enhanced = torch.cat([model(chunk) for chunk in batch.split(16)])
    out = wave.new_zeros(n)
    norm = wave.new_zeros(n)
    for s, seg in zip(starts, enhanced, strict=True):
        out[s : s + segment] += seg * window
        norm[s : s + segment] += window
    return out / norm


@torch.no_grad()
def enhance_signal(
    model: nn.Module, wave: torch.Tensor, segment: int, device: torch.device
) -> torch.Tensor:
    """:func:`overlap_add_enhance` of a CPU signal on ``device``, without gradients;
    returns a CPU tensor."""
    if wave.ndim != 1:
        raise ValueError(f"enhance_signal expects a 1-D signal, got shape {tuple(wave.shape)}")
    if not torch.isfinite(wave).all():
        raise ValueError("input contains NaN or Inf samples")
    return overlap_add_enhance(model, wave.to(device), segment).cpu()


Defend = Callable[[torch.Tensor, int], torch.Tensor]
"""``defend(wave, seed)``: a 1-D 16 kHz signal through a defence, same length; the seed
drives a randomised defence (the others ignore it)."""


def process_manifest(
    defend: Defend,
    manifest: str,
    audio_column: str,
    out_dir: str | Path,
    seed_of: Callable[[str], int],
    desc: str,
) -> pd.DataFrame:
    """Write ``defend`` of every file of a test-set manifest to ``out_dir``; returns
    the manifest with ``enhanced_path`` and ``peak_gain`` (below 1 where the output
    was scaled to avoid clipping)."""
    out_dir = Path(out_dir)
    frame = pd.read_csv(manifest, keep_default_na=False)
    if audio_column not in frame.columns:
        raise DataError(f"manifest {manifest} lacks column {audio_column!r}")
    paths, gains = [], []
    id_column = "mix_id" if "mix_id" in frame.columns else "utt_id"
    for key, path in tqdm(
        zip(frame[id_column], frame[audio_column], strict=True),
        total=len(frame),
        desc=desc,
        mininterval=10,
    ):
        audio, rate = read_audio(path)
        if rate != SAMPLE_RATE or audio.shape[0] != 1:
            raise DataError(
                f"{path}: a defence needs 16 kHz mono input, got {rate} Hz x {audio.shape[0]} channels"
            )
        with torch.no_grad():
            out = defend(torch.from_numpy(audio[0]), seed_of(str(key))).numpy()
        peak = float(np.max(np.abs(out))) if out.size else 0.0
        gain = 1.0 if peak < 0.999 else 0.999 / peak
        dest = out_dir / f"{key}.wav"
        write_audio(dest, out * gain, SAMPLE_RATE)
        paths.append(str(dest))
        gains.append(gain)
    return frame.assign(enhanced_path=paths, peak_gain=gains)


def load_enhancer(path: str, device: torch.device) -> nn.Module:
    """The trained enhancement model saved at ``path`` (its name and config are in the
    checkpoint's metadata), on ``device`` in eval mode."""
    from advspeech.core.torchutil import load_checkpoint
    from advspeech.se import build_se

    payload = load_checkpoint(path)
    meta = payload["meta"]
    model = build_se(meta["name"], meta["model"])
    model.load_state_dict(payload["state_dict"])
    return model.to(device).eval()


def enhance_manifest(
    model: nn.Module,
    manifest: str,
    audio_column: str,
    out_dir: str | Path,
    segment: int,
    device: torch.device,
) -> pd.DataFrame:
    """Enhance every file of a test-set manifest (``audio_column`` holds the paths) into
    ``out_dir``; returns the manifest with ``enhanced_path`` and ``peak_gain`` (below 1
    where the output was scaled to avoid clipping)."""
    return process_manifest(
        lambda wave, seed: enhance_signal(model, wave, segment, device),
        manifest,
        audio_column,
        out_dir,
        seed_of=lambda key: 0,
        desc="enhance",
    )

"""Reading and writing files safely.

Every writer here is atomic (write to a temporary file in the same folder, then
``os.replace``), so a killed job never leaves a half file that looks complete. Every
reader turns a failure into :class:`DataError` naming the file, instead of a crash deep
inside libsndfile.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf


class DataError(ValueError):
    """Bad input data: the message names the offending file or config key."""


def raise_all(problems: Sequence[str], what: str) -> None:
    """One :class:`DataError` listing every problem found in ``what`` (none: return), so
    a corpus with six broken files takes one run to find them, not six."""
    if problems:
        listed = "\n  ".join(problems)
        raise DataError(f"{len(problems)} problem(s) in {what}:\n  {listed}")


@dataclass(frozen=True)
class AudioInfo:
    """What a file held before any conversion (recorded in manifests)."""

    sample_rate: int
    channels: int
    frames: int


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary name keeps the final suffix (or ``suffix``) so libraries that pick a
    format from the extension (soundfile, matplotlib) still do the right thing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=suffix or "".join(path.suffixes)
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Header of an audio file, or :class:`DataError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"audio file not found: {path}")
    try:
        info = sf.info(str(path))
    except Exception as err:  # libsndfile raises several types
        raise DataError(f"cannot read audio file {path}: {err}") from err
    if info.frames == 0:
        raise DataError(f"audio file {path} is empty (0 samples)")
    return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames))


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 (channels, samples) and its sample rate.

    Raises :class:`DataError` naming the file when it is missing, unreadable, empty, or
    holds non-finite samples.
    """
    path = Path(path)
    audio_info(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:
        raise DataError(f"cannot decode audio file {path}: {err}") from err
    if not np.isfinite(data).all():
        raise DataError(f"audio file {path} contains NaN or Inf samples")
    return np.ascontiguousarray(data.T), int(rate)


def write_audio(
    path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str = "PCM_16"
) -> None:
    """Write mono float audio atomically (format from the suffix, 16-bit by default).

    Values are clipped to [-1, 1] first: integer formats would otherwise wrap around.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"write_audio expects mono audio, got shape {audio.shape} for {path}")
    if not np.isfinite(audio).all():
        raise DataError(f"refusing to write non-finite samples to {path}")
    audio = np.clip(audio, -1.0, 1.0)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), audio, sample_rate, subtype=subtype)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` atomically (a reader never sees half a file)."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def unskipped(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of an attack's manifest or sweep that were attacked: ``skipped`` empty
    (an empty CSV cell reads as NaN, and counts as empty)."""
    return frame[frame["skipped"].fillna("").astype(str) == ""]


def write_csv(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    """Write a DataFrame as CSV atomically, without the index."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def read_csv(path: str | os.PathLike, required: list[str] | None = None) -> pd.DataFrame:
    """Read a manifest CSV and check that it has the ``required`` columns."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"manifest not found: {path}")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = sorted(set(required or []) - set(frame.columns))
    if missing:
        raise DataError(f"manifest {path} lacks columns {missing}")
    return frame


def write_json(path: str | os.PathLike, obj: object) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")

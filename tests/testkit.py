"""Helpers for the tests: running the workflow, and small audio trees made on the fly.

Imported as ``testkit`` (pytest puts tests/ on sys.path); not named ``tests.*`` because
pyfar/pyrato install a top-level ``tests`` package of their own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from advspeech import SAMPLE_RATE
from advspeech.core.io import write_audio

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
SMOKE = REPO / "tests" / "smoke.yaml"


def snakemake(
    workdir: Path,
    *args: str,
    configfiles: Sequence[Path] = (SMOKE,),
    check: bool = True,
    timeout: int = 900,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run the workflow's Snakemake CLI in ``workdir`` with the smoke config (plus extras)."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        # smoke jobs are tiny and their start-up (imports) dominates: one thread each
        # lets two run side by side
        "--max-threads",
        "1",
        *args,
        # last: --configfile takes every following word as a file
        "--configfile",
        *[str(c) for c in configfiles],
    ]
    env = {**(env or os.environ), "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
        )
    return proc


def merge_config(base: dict, extra: dict) -> dict:
    """``extra`` merged into ``base`` in place, nested dicts key by key, as Snakemake merges
    config files; returns ``base``."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = value
    return base


def smoke_config() -> dict:
    """config.yaml with tests/smoke.yaml merged over it (no schema defaults)."""
    import yaml

    return merge_config(
        yaml.safe_load((REPO / "config.yaml").read_text()), yaml.safe_load(SMOKE.read_text())
    )


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Parse the 'Job stats' table of a dry run into {rule: count} (empty if nothing to do)."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    match = re.search(r"Job stats:\n(.*?)\n\s*total\s+\d+", text, re.S)
    assert match, f"no job stats in dry-run output:\n{text[-3000:]}"
    jobs = {}
    for line in match.group(1).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            jobs[parts[0]] = int(parts[1])
    return jobs


def tone(seconds: float, rate: int, freq: float = 220.0, channels: int = 1) -> np.ndarray:
    """A speech-like test signal: a harmonic tone with a syllable-rate envelope."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, 8))
    x = 0.3 * x * (0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t)) / np.max(np.abs(x))
    if channels > 1:
        return np.stack([x * (0.8 + 0.2 * c) for c in range(channels)]).astype(np.float32)
    return x.astype(np.float32)


def write_multichannel(path: Path, audio: np.ndarray, rate: int) -> None:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio.T, rate, subtype="PCM_16")


_NUMBER_WORDS = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")


def make_librispeech_tree(root: Path, layout: dict[str, dict[str, int]], rate: int = SAMPLE_RATE):
    """A LibriSpeech-layout tree: ``layout`` maps subset -> {speaker: n utterances}."""
    rng = np.random.default_rng(0)
    for subset, speakers in layout.items():
        for spk, n in speakers.items():
            chapter = "10"
            folder = root / subset / spk / chapter
            lines = []
            for k in range(n):
                utt = f"{spk}-{chapter}-{k:04d}"
                x = tone(1.0 + 0.5 * k, rate, freq=150 + 20 * k) + 0.01 * rng.standard_normal(
                    int((1.0 + 0.5 * k) * rate)
                ).astype(np.float32)
                folder.mkdir(parents=True, exist_ok=True)
                import soundfile as sf

                sf.write(str(folder / f"{utt}.flac"), x, rate, subtype="PCM_16")
                lines.append(f"{utt} OPEN THE WINDOW NUMBER {_NUMBER_WORDS[k]}")
            (folder / f"{spk}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    return root


def make_demand_tree(root: Path, envs: Sequence[str], rate: int = 48_000, channels=("ch01",)):
    """A DEMAND-layout tree of 48 kHz noise files (one of them stereo, as a bad copy might be)."""
    rng = np.random.default_rng(1)
    for i, env in enumerate(envs):
        for ch in channels:
            x = (0.05 * rng.standard_normal(int(3 * rate))).astype(np.float32)
            path = root / env / f"{ch}.wav"
            if i == 0:
                write_multichannel(path, np.stack([x, 0.5 * x]), rate)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_audio(path, x, rate)
    return root


TINY_ASR = {"conv_channels": 8, "rnn_hidden": 8, "rnn_layers": 1, "dropout": 0.0}
"""A recogniser small enough for attack tests (``build_asr("ds", TINY_ASR)``)."""


def forward_only_recognizer():
    """The class of a victim that answers queries and refuses gradients: a black-box
    attack that asks it for a loss fails the test."""
    from advspeech.asr.recognizer import CTCRecognizer

    class ForwardOnly(CTCRecognizer):
        differentiable = False

        def loss(self, *args, **kwargs):
            raise AssertionError("the black-box attack asked the victim for a gradient")

    return ForwardOnly

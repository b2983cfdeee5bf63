"""Attack a manifest of utterances and write the adversarial files (rule ``attack``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.asr.recognizer import Recognizer
from advspeech.attacks import ATTACKS
from advspeech.attacks.base import AttackJob, peak_ratio_db
from advspeech.core.dsp import snr_db
from advspeech.core.io import read_audio, write_audio
from advspeech.core.seeding import stable_seed

MANIFEST_COLUMNS = [
    "utt_id",
    "text",
    "target",
    "steps",
    "queries",
    "seconds",
    "success",  # Yakura's criterion in the attack's check rooms: the target in more than half
    "success_digital",  # the written file decodes as the target without a room
    "snr_db",
    "linf_db",
    "clean_path",
    "adv_path",
    "skipped",
]


def select_utterances(clean: pd.DataFrame, count: int | None) -> pd.DataFrame:
    """The ``count`` shortest utterances (ties by id): sources not much longer than the
    target are the ones a targeted attack can turn into the target."""
    ordered = clean.sort_values(["n_samples", "utt_id"], kind="stable")
    return ordered if count is None else ordered.head(count)


def run_attack(
    attack: str,
    recognizer: Recognizer,
    clean: pd.DataFrame,
    target: str,
    rirs: Sequence[np.ndarray],
    cfg: dict,
    out_dir: str | Path,
    seed: int,
    batch_size: int,
    device: torch.device,
    surrogate: Recognizer | None = None,
    priors: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Attack every utterance of ``clean`` in batches with ``ATTACKS[attack]`` (its config
    dict ``cfg``); write the adversarial files and return the manifest (columns
    :data:`MANIFEST_COLUMNS`). A black-box attack may get the attacker's own ``surrogate``
    and ``priors``, utterance id -> a starting file (e.g. the surrogate's example)."""
    entry = ATTACKS[attack]
    settings = entry.config(cfg)
    out_dir = Path(out_dir)
    missing = sorted(set(clean["utt_id"]) - set(priors or {})) if priors is not None else []
    if missing:
        raise ValueError(f"no starting example for {len(missing)} utterances, e.g. {missing[0]}")
    rows = []
    for start in tqdm(range(0, len(clean), batch_size), desc=f"{attack} attack batches"):
        part = clean.iloc[start : start + batch_size]
        waves = [read_audio(p)[0][0] for p in part["clean_path"]]
        seeds = [stable_seed(seed, "attack", u) for u in part["utt_id"]]
        starts = None
        if priors is not None:
            starts = [read_audio(priors[u])[0][0] for u in part["utt_id"]]
        job = AttackJob(recognizer, waves, target, rirs, seeds, device, surrogate, starts)
        results = entry.run(job, settings)
        for row, wave, res in zip(part.itertuples(index=False), waves, results, strict=True):
            dest = out_dir / f"{row.utt_id}.wav"
            write_audio(dest, res.adversarial, SAMPLE_RATE)
            written = read_audio(dest)[0][0]
            rows.append(
                {
                    "utt_id": row.utt_id,
                    "text": row.text,
                    "target": target,
                    "steps": res.steps,
                    "queries": res.queries,
                    "seconds": res.seconds,
                    "success": res.success,
                    "success_digital": res.success_digital,
                    "snr_db": snr_db(wave, written) if not res.skipped else float("nan"),
                    "linf_db": peak_ratio_db(written - wave, wave)
                    if not res.skipped
                    else float("nan"),
                    "clean_path": row.clean_path,
                    "adv_path": str(dest),
                    "skipped": res.skipped,
                }
            )
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS)

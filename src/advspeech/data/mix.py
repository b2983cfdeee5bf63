"""Noisy mixtures: every clean utterance mixed with noise segments at the configured
SNRs (rule ``mix``); train and dev draw from the train noises, test from the test
noises."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.core.dsp import scale_noise_to_snr, snr_db, take_segment
from advspeech.core.io import DataError, raise_all, read_audio, write_audio
from advspeech.core.seeding import rng_for
from advspeech.data import MIX_COLUMNS


def make_mixtures(
    clean: pd.DataFrame,
    noise: pd.DataFrame,
    split: str,
    snrs_db: Sequence[float],
    per_utterance: str,
    out_dir: str | Path,
    seed: int,
    noise_split: str | None = None,
    max_tries: int = 10,
) -> pd.DataFrame:
    """Mix each clean utterance with a random segment of a noise of ``noise_split``
    (default: ``split``; dev mixtures use the train noises).

    ``per_utterance`` is ``"all"`` (one mixture at every SNR, the test set) or ``"one"``
    (one random SNR and noise, training data). The noise is scaled so the mixture's SNR,
    10 log10(P_x / P_v), equals the target exactly; ``noisy = clean + noise`` holds
    sample by sample, so the paper's SNR of the written files is the target up to 16-bit
    quantisation. A segment that would clip is redrawn; if every draw clips, a
    :class:`DataError` names the utterance and noise.
    """
    out_dir = Path(out_dir)
    noise_split = noise_split or split
    noises, envs = _load_noises(noise, noise_split, split, clean)
    ids = sorted(noises)
    rows = []
    for utt in tqdm(clean.itertuples(index=False), total=len(clean), desc=f"mix {split}"):
        x = read_audio(utt.clean_path)[0][0]
        rng = rng_for(seed, "mix", split, utt.utt_id)
        one = [float(snrs_db[int(rng.integers(len(snrs_db)))])] if per_utterance == "one" else []
        targets = list(snrs_db) if per_utterance == "all" else one
        for target in targets:
            noise_id = ids[int(rng.integers(len(ids)))]
            noisy = _mix_without_clipping(x, noises[noise_id], target, rng, max_tries)
            if noisy is None:
                raise DataError(
                    f"mixing {utt.utt_id} with {noise_id} at {target} dB clips in every "
                    f"draw; lower data.max_peak or data.rms_dbfs"
                )
            mix_id = f"{utt.utt_id}_{_snr_tag(target)}"
            dest = out_dir / f"{mix_id}.wav"
            write_audio(dest, noisy, SAMPLE_RATE)
            written = read_audio(dest)[0][0]  # measure what downstream stages will read
            rows.append(
                {
                    "utt_id": utt.utt_id,
                    "speaker": utt.speaker,
                    "split": split,
                    "clean_path": utt.clean_path,
                    "noisy_path": str(dest),
                    "noise_env": envs[noise_id],
                    "snr_db": float(target),
                    "text": utt.text,
                    "n_samples": len(x),
                    "mix_id": mix_id,
                    "noise_id": noise_id,
                    "measured_snr_db": snr_db(x, written),
                }
            )
    return pd.DataFrame(rows, columns=MIX_COLUMNS)


def _load_noises(
    noise: pd.DataFrame, noise_split: str, split: str, clean: pd.DataFrame
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The noises of ``noise_split`` (id -> samples, id -> environment); each must be at
    least as long as the longest utterance it is mixed with (a named error otherwise)."""
    pool = noise[noise["split"] == noise_split]
    if pool.empty:
        raise DataError(
            f"no noise environments for split {noise_split!r} (config noise.environments)"
        )
    noises = {r.noise_id: read_audio(r.path)[0][0] for r in pool.itertuples(index=False)}
    envs = dict(zip(pool["noise_id"], pool["noise_env"], strict=True))
    longest = int(clean["n_samples"].max()) if len(clean) else 0
    raise_all(
        [
            f"noise {pool.loc[pool['noise_id'] == k, 'path'].iloc[0]} has {len(v)} samples, "
            f"shorter than the longest {split} utterance ({longest}); it would have to be "
            "tiled"
            for k, v in sorted(noises.items())
            if len(v) < longest
        ],
        f"the {noise_split} noises for the {split} mixtures",
    )
    return noises, envs


def _mix_without_clipping(
    x: np.ndarray, noise: np.ndarray, target: float, rng: np.random.Generator, max_tries: int
) -> np.ndarray | None:
    """``x`` plus a random segment of ``noise`` scaled to ``target`` dB SNR, redrawn
    while the mixture clips; None when all ``max_tries`` draws clip."""
    for _ in range(max_tries):
        seg = take_segment(noise, len(x), rng)
        noisy = x + scale_noise_to_snr(x, seg, target)
        if np.max(np.abs(noisy)) < 0.999:
            return noisy
    return None


def _snr_tag(snr: float) -> str:
    """File-name-safe SNR label: 15 -> 'snr15', -5 -> 'snrm5', 2.5 -> 'snr2p5'."""
    text = f"{snr:g}".replace("-", "m").replace(".", "p")
    return f"snr{text}"

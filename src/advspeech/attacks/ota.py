"""Over-the-air evaluation: adversarial files played in held-out *test* rooms, with
recording noise, optionally through an enhancement model (rule ``over_the_air``,
Table 4)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from advspeech.asr.recognizer import Recognizer
from advspeech.attacks.base import play_in_rooms
from advspeech.core.io import read_audio, unskipped
from advspeech.core.seeding import rng_for, stable_seed
from advspeech.evaluation.metrics import wer_percent
from advspeech.se.enhance import enhance_signal

OTA_COLUMNS = ["utt_id", "room_id", "transcript", "success", "wer", "words"]


def evaluate_over_the_air(
    recognizer: Recognizer,
    manifest: pd.DataFrame,
    rirs: pd.DataFrame,
    rooms_per_example: int,
    noise_std: float,
    seed: int,
    device: torch.device,
    enhancer: torch.nn.Module | None = None,
    segment: int = 16384,
    defend: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
) -> pd.DataFrame:
    """Play every adversarial example through ``rooms_per_example`` held-out *test*
    rooms (+ recording noise), optionally through a defence (an ``enhancer`` applied
    as the ``enhance`` rule does, or any ``defend(wave, seed)``; a randomised one
    draws per trial), transcribe. One row per trial:
    ``utt_id,room_id,transcript,success,wer,words`` (success = exactly the target; WER
    in percent against the original transcript of ``words`` reference words, the weight
    of the trial in a corpus WER)."""
    room_ids = list(rirs["room_id"])
    room_audio = {
        r: read_audio(p)[0][0] for r, p in zip(rirs["room_id"], rirs["path"], strict=True)
    }
    rows = []
    for row in unskipped(manifest).itertuples(index=False):
        adv = read_audio(row.adv_path)[0][0]
        rng = rng_for(seed, "ota", row.utt_id)
        chosen = rng.choice(room_ids, size=min(rooms_per_example, len(room_ids)), replace=False)
        heard = []
        for room in chosen:
            x = torch.from_numpy(adv)[None]
            noise = torch.from_numpy(rng.standard_normal(len(adv)).astype(np.float32) * noise_std)[
                None
            ]
            y = play_in_rooms(
                x, torch.tensor([len(adv)]), torch.from_numpy(room_audio[room])[None], noise
            )[0]
            if enhancer is not None:
                y = enhance_signal(enhancer, y, segment, device)
            elif defend is not None:
                with torch.no_grad():
                    y = defend(y, stable_seed(seed, "ota-defence", row.utt_id, str(room)))
            heard.append(y.numpy())
        texts = recognizer.transcribe(heard)
        for room, text in zip(chosen, texts, strict=True):
            rows.append(
                {
                    "utt_id": row.utt_id,
                    "room_id": room,
                    "transcript": text,
                    "success": text == row.target,
                    "wer": wer_percent(row.text, text),
                    "words": len(str(row.text).split()),
                }
            )
    return pd.DataFrame(rows, columns=OTA_COLUMNS)

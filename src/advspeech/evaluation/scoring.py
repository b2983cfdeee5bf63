"""Per-utterance speech-quality scores of a system on a test set (rule ``score``):
PESQ, STOI, STI, SNR and SI-SDR of each output against its clean reference."""

from __future__ import annotations

import pandas as pd
from tqdm import tqdm

from advspeech.core.io import DataError, read_audio, read_csv
from advspeech.evaluation.metrics import pesq_many, si_sdr, snr, sti, stoi

SCORE_COLUMNS = ["utt_id", "item_id", "pesq", "stoi", "sti", "snr", "si_sdr", "missing"]


def score_system(
    manifest: str, degraded_column: str, clean_column: str = "clean_path", processes: int = 1
) -> pd.DataFrame:
    """PESQ, STOI, STI, SNR and SI-SDR of every item of a system's output manifest.

    Unscorable items keep NaN in that metric and the reason in ``missing``.
    """
    frame = read_csv(manifest, required=["utt_id", degraded_column, clean_column])
    item = frame["mix_id"] if "mix_id" in frame.columns else frame["utt_id"]
    pairs = []
    for clean_path, deg_path in zip(frame[clean_column], frame[degraded_column], strict=True):
        clean = read_audio(clean_path)[0][0]
        degraded = read_audio(deg_path)[0][0]
        if len(clean) != len(degraded):
            raise DataError(
                f"{deg_path} has {len(degraded)} samples, its reference {clean_path} {len(clean)}"
            )
        pairs.append((clean, degraded))
    pesq_scores = pesq_many(pairs, processes=processes)
    rows = []
    for (clean, degraded), p, utt, key in tqdm(
        zip(pairs, pesq_scores, frame["utt_id"], item, strict=True),
        total=len(pairs),
        desc="score",
        mininterval=10,
    ):
        s_stoi, s_sti, s_snr = stoi(clean, degraded), sti(clean, degraded), snr(clean, degraded)
        s_sisdr = si_sdr(clean, degraded)
        named = (("PESQ", p), ("STOI", s_stoi), ("STI", s_sti), ("SNR", s_snr), ("SI-SDR", s_sisdr))
        reasons = [f"{name}: {s.reason}" for name, s in named if s.reason]
        rows.append(
            {
                "utt_id": utt,
                "item_id": key,
                "pesq": p.value,
                "stoi": s_stoi.value,
                "sti": s_sti.value,
                "snr": s_snr.value,
                "si_sdr": s_sisdr.value,
                "missing": "; ".join(reasons),
            }
        )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)

"""A trained recogniser applied to test sets: loading it from its checkpoint, WER/CER on
the clean and noisy test sets (rule ``evaluate_asr``) and per-item transcripts of any
manifest (rule ``benign_wer``)."""

from __future__ import annotations

from collections.abc import Sequence

import jiwer
import pandas as pd
import torch

from advspeech.asr import build_asr
from advspeech.asr.recognizer import CTCRecognizer
from advspeech.core.io import read_audio, read_csv
from advspeech.core.torchutil import load_checkpoint


def word_error_rates(refs: Sequence[str], hyps: Sequence[str]) -> tuple[float, float]:
    """Corpus WER and CER in percent (jiwer); empty hypotheses count as deletions."""
    return 100.0 * jiwer.wer(list(refs), list(hyps)), 100.0 * jiwer.cer(list(refs), list(hyps))


def load_recognizer(path: str, device: torch.device, batch_size: int = 32) -> CTCRecognizer:
    """A trained recogniser from its checkpoint (weights_only loading)."""
    payload = load_checkpoint(path)
    model = build_asr(payload["meta"].get("arch", "ds"), payload["meta"]["model"])
    model.load_state_dict(payload["state_dict"])
    return CTCRecognizer(model, device, batch_size=batch_size)


def evaluate_recognizer(
    recognizer: CTCRecognizer, clean_manifest: str, noisy_manifest: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """WER/CER on the clean test set and per SNR of the noisy test set.

    Returns (``testset,snr_db,wer,cer,n`` table, per-utterance transcripts).
    """
    rows, transcripts = [], []
    sets = [("clean", None, pd.read_csv(clean_manifest, keep_default_na=False), "clean_path")]
    noisy = pd.read_csv(noisy_manifest, keep_default_na=False)
    for snr, group in sorted(noisy.groupby("snr_db"), key=lambda kv: -kv[0]):
        sets.append(("noisy", float(snr), group, "noisy_path"))
    for testset, snr, frame, column in sets:
        waves = [read_audio(p)[0][0] for p in frame[column]]
        hyps = recognizer.transcribe(waves)
        wer, cer = word_error_rates(list(frame["text"]), hyps)
        rows.append({"testset": testset, "snr_db": snr, "wer": wer, "cer": cer, "n": len(frame)})
        for utt, ref, hyp in zip(frame["utt_id"], frame["text"], hyps, strict=True):
            transcripts.append(
                {
                    "testset": testset,
                    "snr_db": snr,
                    "utt_id": utt,
                    "reference": ref,
                    "hypothesis": hyp,
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(transcripts)


def transcribe_manifest(
    recognizer: CTCRecognizer, manifest: str, audio_column: str
) -> pd.DataFrame:
    """Transcribe every file of a manifest (with ``utt_id``, ``text`` and
    ``audio_column``); one row per item: ``utt_id,item_id,reference,hypothesis,words,wer``
    (WER in percent of the item's reference words, so the words-weighted mean is the
    corpus WER)."""
    frame = read_csv(manifest, required=["utt_id", "text", audio_column])
    items = frame["mix_id"] if "mix_id" in frame.columns else frame["utt_id"]
    waves = [read_audio(p)[0][0] for p in frame[audio_column]]
    hyps = recognizer.transcribe(waves)
    refs = [str(t) for t in frame["text"]]
    return pd.DataFrame(
        {
            "utt_id": frame["utt_id"],
            "item_id": items,
            "reference": refs,
            "hypothesis": hyps,
            "words": [len(r.split()) for r in refs],
            "wer": [
                100.0 * jiwer.wer(r, h) if r else float("nan")
                for r, h in zip(refs, hyps, strict=True)
            ],
        }
    )

"""Data stages: corpus, noise, mixtures, rooms and their summary, one module per rule
file (``workflow/rules/{corpus,noise,mix,rirs,summary}.smk``).

One loader per layout serves the real data and the embedded data alike:

- speech in the LibriSpeech layout, ``<root>/<subset>/<spk>/<chapter>/<spk>-<chapter>-<n>.flac``
  with one ``<spk>-<chapter>.trans.txt`` per chapter (:func:`index_librispeech`);
- noise in the DEMAND layout, ``<root>/<ENV>/ch01.wav`` (:func:`index_demand`).

The embedded corpus (:func:`synthesize_corpus`) and embedded noises
(:func:`synthesize_noise`) are written in those layouts, so everything downstream is
the same code path whether the user has LibriSpeech + DEMAND or nothing at all.

Seeds: see :mod:`advspeech.core.seeding`. This module holds the splits and the columns of
every manifest the stages write.
"""

from __future__ import annotations

SPLITS = ("train", "dev", "test", "babble")
MIX_SPLITS = ("train", "dev", "test")
AUDIO_SUFFIXES = (".flac", ".wav")

CORPUS_COLUMNS = ["utt_id", "speaker", "chapter", "split", "path", "text", "transliterated"]
CLEAN_COLUMNS = [
    "utt_id",
    "speaker",
    "split",
    "clean_path",
    "text",
    "n_samples",
    "orig_sample_rate",
    "orig_channels",
    "resampled",
    "mixed_down",
    "gain",
]
NOISE_COLUMNS = [
    "noise_id",
    "noise_env",
    "channel",
    "split",
    "path",
    "n_samples",
    "orig_sample_rate",
    "orig_channels",
    "resampled",
    "mixed_down",
]
MIX_COLUMNS = [
    "utt_id",
    "speaker",
    "split",
    "clean_path",
    "noisy_path",
    "noise_env",
    "snr_db",
    "text",
    "n_samples",
    "mix_id",
    "noise_id",
    "measured_snr_db",
]

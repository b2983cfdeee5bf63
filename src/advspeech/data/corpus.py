"""The speech corpus: the embedded multi-speaker corpus (espeak-ng voices, written in
the LibriSpeech layout), the index of a LibriSpeech-layout root, and the clean 16 kHz
utterances every later stage reads (rules ``synthesize_corpus``, ``index_corpus``,
``prepare_clean``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.core.dsp import normalize_level, to_mono_16k
from advspeech.core.io import DataError, raise_all, read_audio, write_audio
from advspeech.core.seeding import rng_for, stable_seed
from advspeech.core.text import TranscriptError, make_sentence, transliterate
from advspeech.data import AUDIO_SUFFIXES, CLEAN_COLUMNS, CORPUS_COLUMNS, SPLITS
from advspeech.data.tts import VoiceSpec, available_variants, synthesize_many

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedCorpusConfig:
    """Size and variety of the synthetic multi-speaker corpus (config ``corpus.embedded``
    and the top-level ``test_salt``)."""

    speakers: Mapping[str, int]  # split -> number of speakers
    utterances_per_speaker: Mapping[str, int]  # split -> utterances of each speaker
    languages: Sequence[str] = ("en-us", "en")
    exclude_variants: Sequence[str] = ()
    words_per_minute: tuple[int, int] = (140, 190)
    pitch: tuple[int, int] = (30, 70)
    pitch_range: tuple[int, int] = (30, 80)
    variant_share: Mapping[str, float] = field(
        default_factory=lambda: {"train": 0.7, "dev": 0.1, "test": 0.12, "babble": 0.08}
    )
    # the test split is a holdout drawn from this salt; "" draws the original test split.
    # With a salt, the original test speakers (their voices and sentences) join dev and
    # the test split gets voice variants no other split uses, new speakers and sentences
    test_salt: str = ""


def embedded_corpus_config(embedded: Mapping, test_salt: str = "") -> EmbeddedCorpusConfig:
    """Config ``corpus.embedded`` (and the top-level ``test_salt``) -> its settings."""
    return EmbeddedCorpusConfig(
        speakers=embedded["speakers"],
        utterances_per_speaker=embedded["utterances_per_speaker"],
        languages=tuple(embedded["languages"]),
        exclude_variants=tuple(embedded["exclude_variants"]),
        words_per_minute=tuple(embedded["words_per_minute"]),
        pitch=tuple(embedded["pitch"]),
        pitch_range=tuple(embedded["pitch_range"]),
        test_salt=test_salt,
    )


def assign_speakers(
    cfg: EmbeddedCorpusConfig, seed: int, variants: Sequence[str]
) -> dict[str, list[tuple[int, VoiceSpec]]]:
    """Give every split its own disjoint group of voice variants and draw its speakers.

    A speaker is (accent, variant, rate, pitch, pitch range). Splitting by *variant*
    (not only by speaker id) keeps test voices truly unseen in training. With a
    ``test_salt`` the original split is drawn first; its test speakers join dev
    unchanged, and the new test split takes the last variants of the train group (as
    many as the original test group had), speakers drawn from the salt, and the speaker
    ids after all others.
    """
    groups = _variant_groups(cfg, seed, variants)
    wanted = list(groups)
    speakers: dict[str, list[tuple[int, VoiceSpec]]] = {}
    next_id = 100
    if cfg.test_salt and "test" in groups:
        holdout = groups["train"][-len(groups["test"]) :]
        groups["train"] = groups["train"][: -len(groups["test"])]
    for split in wanted:
        count = cfg.speakers[split]
        if split == "test" and cfg.test_salt:  # the retired test split: now dev voices
            retired = _draw_speakers(cfg, groups["test"], count, rng_for(seed, "speakers", "test"))
            speakers["dev"] = speakers.get("dev", []) + _numbered(retired, next_id)
            next_id += count
            continue
        drawn = _draw_speakers(cfg, groups[split], count, rng_for(seed, "speakers", split))
        speakers[split] = _numbered(drawn, next_id)
        next_id += count
    if cfg.test_salt and "test" in groups:
        srng = rng_for(seed, "speakers", "test", cfg.test_salt)
        drawn = _draw_speakers(cfg, holdout, cfg.speakers["test"], srng)
        speakers["test"] = _numbered(drawn, next_id)
    return speakers


def _variant_groups(
    cfg: EmbeddedCorpusConfig, seed: int, variants: Sequence[str]
) -> dict[str, list[str]]:
    """Split -> its own voice variants: a seeded permutation cut by ``variant_share``."""
    usable = [v for v in variants if v not in set(cfg.exclude_variants)]
    rng = rng_for(seed, "variants")
    usable = [usable[i] for i in rng.permutation(len(usable))]
    groups: dict[str, list[str]] = {}
    start = 0
    wanted = [s for s in SPLITS if cfg.speakers.get(s, 0) > 0]
    total_share = sum(cfg.variant_share[s] for s in wanted)
    for i, split in enumerate(wanted):
        if i == len(wanted) - 1:
            count = len(usable) - start
        else:
            count = max(1, int(round(len(usable) * cfg.variant_share[split] / total_share)))
        groups[split] = usable[start : start + count]
        start += count
        if not groups[split]:
            raise DataError(
                f"corpus.embedded: not enough voice variants ({len(usable)}) to give split "
                f"{split!r} its own; lower corpus.embedded.exclude_variants"
            )
    return groups


def _draw_speakers(
    cfg: EmbeddedCorpusConfig, group: Sequence[str], count: int, srng: np.random.Generator
) -> list[VoiceSpec]:
    """``count`` voices cycling over the variants of ``group``, each with an accent, a
    rate and a pitch drawn from ``srng``."""
    voices = []
    for k in range(count):
        voices.append(
            VoiceSpec(
                language=cfg.languages[int(srng.integers(len(cfg.languages)))],
                variant=group[k % len(group)],
                words_per_minute=int(
                    srng.integers(cfg.words_per_minute[0], cfg.words_per_minute[1] + 1)
                ),
                pitch=int(srng.integers(cfg.pitch[0], cfg.pitch[1] + 1)),
                pitch_range=int(srng.integers(cfg.pitch_range[0], cfg.pitch_range[1] + 1)),
            )
        )
    return voices


def _numbered(voices: Sequence[VoiceSpec], first_id: int) -> list[tuple[int, VoiceSpec]]:
    return [(first_id + k, voice) for k, voice in enumerate(voices)]


def _utterances(cfg: EmbeddedCorpusConfig, split: str, spk: int, speakers: Mapping) -> int:
    """Utterances of speaker ``spk``: its split's count; a retired test speaker (now in
    dev) keeps the test split's count."""
    if split == "dev" and cfg.test_salt:
        n_dev = cfg.speakers.get("dev", 0)
        if spk not in {s for s, _ in speakers["dev"][:n_dev]}:
            return cfg.utterances_per_speaker["test"]
    return cfg.utterances_per_speaker[split]


def synthesize_corpus(
    out_root: str | Path,
    cfg: EmbeddedCorpusConfig,
    seed: int,
    forbidden_sentences: Sequence[str] = (),
    processes: int = 1,
) -> pd.DataFrame:
    """Synthesise the embedded corpus in the LibriSpeech layout under ``out_root``.

    Subsets are named after the splits (``train``, ``dev``, ``test``, ``babble``); each
    speaker has one chapter (id 1). Returns one row per speaker (its voice), which the
    rule writes next to the corpus as ``speakers.csv``. Byte-identical for equal
    ``cfg`` and ``seed`` (see :func:`advspeech.data.tts.synthesize_many`).
    """
    out_root = Path(out_root)
    speakers = assign_speakers(cfg, seed, available_variants())
    plan = []  # (folder, utt_id, text, voice, utterance seed)
    rows = []
    used: set[str] = set()  # sentences of the splits before the test split
    for split, members in sorted(speakers.items(), key=lambda item: item[0] == "test"):
        for spk, voice in members:
            chapter = 1
            folder = out_root / split / str(spk) / str(chapter)
            rng = rng_for(seed, "sentences", spk)
            # a holdout's test sentences are new; the others keep their streams
            holdout = split == "test" and cfg.test_salt
            forbidden = tuple(forbidden_sentences) + (tuple(used) if holdout else ())
            for n in range(_utterances(cfg, split, spk, speakers)):
                text = make_sentence(rng, forbidden=forbidden)
                used.add(text)
                utt_id = f"{spk}-{chapter}-{n:04d}"
                plan.append((folder, utt_id, text, voice, stable_seed(seed, "tts", utt_id)))
            rows.append(
                {
                    "speaker": spk,
                    "split": split,
                    "voice": voice.name,
                    "words_per_minute": voice.words_per_minute,
                    "pitch": voice.pitch,
                    "pitch_range": voice.pitch_range,
                }
            )
    jobs = [(text, voice, useed) for _, _, text, voice, useed in plan]
    transcripts: dict[Path, list[str]] = {}
    audio_iter = synthesize_many(jobs, processes=processes)
    for (folder, utt_id, text, _, _), audio in tqdm(
        zip(plan, audio_iter, strict=True), total=len(plan), desc="synthesise corpus", unit="utt"
    ):
        write_audio(folder / f"{utt_id}.flac", audio, SAMPLE_RATE)
        transcripts.setdefault(folder, []).append(f"{utt_id} {text.upper()}")
    for folder, lines in transcripts.items():
        spk, chapter = folder.parent.name, folder.name
        (folder / f"{spk}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    return pd.DataFrame(rows)


def index_librispeech(root: str | Path, subsets: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Index a LibriSpeech-layout tree: one row per utterance with its split and text.

    ``subsets`` maps a split to the subset folders that make it up, for example
    ``{"train": ["train-clean-100"], "test": ["test-clean"]}``. Transcripts are brought
    to the alphabet by :func:`advspeech.core.text.transliterate` (é -> e, recorded per
    utterance in ``transliterated``). Raises one :class:`DataError` that names *every*
    bad file of the tree: a missing root or subset, a transcript line whose audio is
    missing, an audio file that no transcript lists, an empty transcript, or one with
    characters that have no faithful spelling in the alphabet.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"LibriSpeech root {root} does not exist or is not a folder")
    rows, problems = [], []
    for split, names in subsets.items():
        for subset in names:
            base = root / subset
            if not base.is_dir():
                problems.append(
                    f"LibriSpeech subset folder {base} (split {split!r}) does not exist"
                )
                continue
            trans_files = sorted(base.glob("*/*/*.trans.txt"))
            if not trans_files:
                problems.append(f"no <spk>-<chapter>.trans.txt files under {base}")
            for trans in trans_files:
                chapter_rows, chapter_problems = _index_chapter(trans, split)
                rows.extend(chapter_rows)
                problems.extend(chapter_problems)
    raise_all(problems, f"the corpus under {root}")
    frame = pd.DataFrame(rows, columns=CORPUS_COLUMNS)
    dup = frame["utt_id"][frame["utt_id"].duplicated()]
    if len(dup):
        raise DataError(f"utterance ids listed twice under {root}: {sorted(set(dup))[:5]}")
    return frame.sort_values(["split", "utt_id"]).reset_index(drop=True)


def _index_chapter(trans: Path, split: str) -> tuple[list[dict], list[str]]:
    folder = trans.parent
    audio = {p.stem: p for p in folder.iterdir() if p.suffix in AUDIO_SUFFIXES}
    rows, listed, problems = [], set(), []
    for lineno, line in enumerate(trans.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        utt_id, _, text = line.strip().partition(" ")
        listed.add(utt_id)
        try:
            text, changes = transliterate(text)
        except TranscriptError as err:
            problems.append(f"{trans}:{lineno}: {utt_id}: {err}")
            continue
        if not text:
            problems.append(f"{trans}:{lineno}: empty transcript for {utt_id}")
            continue
        if utt_id not in audio:
            problems.append(
                f"{trans}:{lineno}: transcript for {utt_id} but no audio file "
                f"{folder / (utt_id + '.flac')}"
            )
            continue
        spk, chapter = folder.parent.name, folder.name
        rows.append(
            {
                "utt_id": utt_id,
                "speaker": spk,
                "chapter": chapter,
                "split": split,
                "path": str(audio[utt_id]),
                "text": text,
                "transliterated": "; ".join(changes),
            }
        )
    problems += [
        f"audio without transcript in {trans}: {audio[u]}" for u in sorted(set(audio) - listed)
    ]
    return rows, problems


@dataclass(frozen=True)
class CleanConfig:
    """How clean speech is brought to the common format (config ``data``)."""

    min_sample_rate: int = SAMPLE_RATE
    rms_dbfs: float = -25.0
    max_peak: float = 0.5
    min_seconds: float = 0.5
    max_seconds: float = 20.0
    max_utterances: int | None = None


def _subsample(rows: pd.DataFrame, limit: int | None, seed: int, split: str) -> pd.DataFrame:
    """At most ``limit`` rows, a seeded random subset kept in corpus order."""
    if limit is None or len(rows) <= limit:
        return rows
    pick = rng_for(seed, "subsample", split).choice(len(rows), limit, replace=False)
    return rows.iloc[np.sort(pick)]


def prepare_clean(
    index: pd.DataFrame, split: str, out_dir: str | Path, cfg: CleanConfig, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert one split's utterances to 16 kHz mono at a common level.

    Returns (manifest, skipped): utterances outside [min_seconds, max_seconds] are
    skipped with the reason recorded, not silently dropped; unreadable, silent or
    narrow-band files raise one :class:`DataError` naming every such file of the split.
    """
    out_dir = Path(out_dir)
    rows = index[index["split"] == split]
    if rows.empty:
        raise DataError(f"the corpus has no utterances for split {split!r}")
    rows = _subsample(rows, cfg.max_utterances, seed, split)
    kept, skipped, problems = [], [], []
    for row in tqdm(rows.itertuples(index=False), total=len(rows), desc=f"prepare {split}"):
        try:
            audio, rate = read_audio(row.path)
            channels = audio.shape[0]
            mono = to_mono_16k(audio, rate, source=row.path, min_rate=cfg.min_sample_rate)
        except DataError as err:  # unreadable, corrupt, narrow-band: report all at once
            problems.append(str(err))
            continue
        seconds = len(mono) / SAMPLE_RATE
        if not cfg.min_seconds <= seconds <= cfg.max_seconds:
            skipped.append(
                {"utt_id": row.utt_id, "path": row.path, "reason": f"duration {seconds:.2f} s"}
            )
            continue
        if float(np.max(np.abs(mono))) < 1e-4:
            problems.append(f"{row.path} is silent (peak below -80 dBFS)")
            continue
        level, gain = normalize_level(mono, cfg.rms_dbfs, cfg.max_peak)
        dest = out_dir / f"{row.utt_id}.wav"
        write_audio(dest, level, SAMPLE_RATE)
        kept.append(
            {
                "utt_id": row.utt_id,
                "speaker": row.speaker,
                "split": split,
                "clean_path": str(dest),
                "text": row.text,
                "n_samples": len(level),
                "orig_sample_rate": rate,
                "orig_channels": channels,
                "resampled": rate != SAMPLE_RATE,
                "mixed_down": channels > 1,
                "gain": gain,
            }
        )
    raise_all(problems, f"split {split!r} of the corpus")
    if not kept:
        raise DataError(
            f"every utterance of split {split!r} was skipped (durations outside "
            f"[{cfg.min_seconds}, {cfg.max_seconds}] s: config data.min_seconds/max_seconds)"
        )
    return (
        pd.DataFrame(kept, columns=CLEAN_COLUMNS),
        pd.DataFrame(skipped, columns=["utt_id", "path", "reason"]),
    )

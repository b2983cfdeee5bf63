"""Corpus, noise and mixture stages.

One loader per layout serves the real data and the embedded data alike:

- speech in the LibriSpeech layout, ``<root>/<subset>/<spk>/<chapter>/<spk>-<chapter>-<n>.flac``
  with one ``<spk>-<chapter>.trans.txt`` per chapter (:func:`index_librispeech`);
- noise in the DEMAND layout, ``<root>/<ENV>/ch01.wav`` (:func:`index_demand`).

The embedded corpus (:func:`synthesize_corpus`) and embedded noises
(:func:`synthesize_noise`) are written in those layouts, so everything downstream is
the same code path whether the user has LibriSpeech + DEMAND or nothing at all.

Seeds: see :mod:`advspeech.seeding`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.dsp import (
    normalize_level,
    scale_noise_to_snr,
    snr_db,
    take_segment,
    to_mono_16k,
)
from advspeech.io import DataError, read_audio, write_audio
from advspeech.noise import BABBLE, generate_environment
from advspeech.seeding import rng_for, stable_seed
from advspeech.text import TranscriptError, make_sentence, transliterate
from advspeech.tts import VoiceSpec, available_variants, synthesize_many

log = logging.getLogger(__name__)

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


# --- embedded corpus ---------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddedCorpusConfig:
    """Size and variety of the synthetic multi-speaker corpus (config ``corpus.embedded``)."""

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


def assign_speakers(
    cfg: EmbeddedCorpusConfig, seed: int, variants: Sequence[str]
) -> dict[str, list[tuple[int, VoiceSpec]]]:
    """Give every split its own disjoint group of voice variants and draw its speakers.

    A speaker is (accent, variant, rate, pitch, pitch range). Splitting by *variant*
    (not only by speaker id) keeps test voices truly unseen in training.
    """
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
    speakers: dict[str, list[tuple[int, VoiceSpec]]] = {}
    next_id = 100
    for split in wanted:
        srng = rng_for(seed, "speakers", split)
        chosen = []
        for k in range(cfg.speakers[split]):
            variant = groups[split][k % len(groups[split])]
            spec = VoiceSpec(
                language=cfg.languages[int(srng.integers(len(cfg.languages)))],
                variant=variant,
                words_per_minute=int(
                    srng.integers(cfg.words_per_minute[0], cfg.words_per_minute[1] + 1)
                ),
                pitch=int(srng.integers(cfg.pitch[0], cfg.pitch[1] + 1)),
                pitch_range=int(srng.integers(cfg.pitch_range[0], cfg.pitch_range[1] + 1)),
            )
            chosen.append((next_id, spec))
            next_id += 1
        speakers[split] = chosen
    return speakers


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
    ``cfg`` and ``seed`` (see :func:`advspeech.tts.synthesize_many`).
    """
    out_root = Path(out_root)
    speakers = assign_speakers(cfg, seed, available_variants())
    plan = []  # (folder, utt_id, text, voice, utterance seed)
    rows = []
    for split, members in speakers.items():
        for spk, voice in members:
            chapter = 1
            folder = out_root / split / str(spk) / str(chapter)
            rng = rng_for(seed, "sentences", spk)
            for n in range(cfg.utterances_per_speaker[split]):
                text = make_sentence(rng, forbidden=tuple(forbidden_sentences))
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


# --- LibriSpeech layout --------------------------------------------------------------------


def index_librispeech(root: str | Path, subsets: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Index a LibriSpeech-layout tree: one row per utterance with its split and text.

    ``subsets`` maps a split to the subset folders that make it up, for example
    ``{"train": ["train-clean-100"], "test": ["test-clean"]}``. Transcripts are brought
    to the alphabet by :func:`advspeech.text.transliterate` (é -> e, recorded per
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


def raise_all(problems: Sequence[str], what: str) -> None:
    """One :class:`DataError` listing every problem found in ``what`` (none: return), so
    a corpus with six broken files takes one run to find them, not six."""
    if problems:
        listed = "\n  ".join(problems)
        raise DataError(f"{len(problems)} problem(s) in {what}:\n  {listed}")


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
    if cfg.max_utterances is not None and len(rows) > cfg.max_utterances:
        pick = rng_for(seed, "subsample", split).choice(
            len(rows), cfg.max_utterances, replace=False
        )
        rows = rows.iloc[np.sort(pick)]
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


# --- noise ---------------------------------------------------------------------------------


def synthesize_noise(
    out_root: str | Path,
    environments: Iterable[str],
    seconds: float,
    seed: int,
    babble_paths: Sequence[str] = (),
    rms_dbfs: float = -30.0,
) -> None:
    """Write the embedded noises in the DEMAND layout: ``<out_root>/<ENV>/ch01.wav``."""
    out_root = Path(out_root)
    environments = list(environments)
    babble_utts = []
    if BABBLE in environments:
        if not babble_paths:
            raise DataError(
                "noise environment BABBLE needs babble speakers (corpus.embedded.speakers.babble > 0)"
            )
        babble_utts = [read_audio(p)[0][0] for p in babble_paths]
    for env in tqdm(environments, desc="synthesise noise"):
        audio = generate_environment(
            env, rng_for(seed, "noise", env), seconds, babble_utts, rms_dbfs=rms_dbfs
        )
        write_audio(out_root / env / "ch01.wav", audio, SAMPLE_RATE)


def index_demand(
    root: str | Path, environments: Mapping[str, Sequence[str]], channels: Sequence[str]
) -> pd.DataFrame:
    """Index a DEMAND-layout tree. ``environments`` maps a split to its environment folders.

    Raises :class:`DataError` for a missing root, environment folder or channel file, and
    for an environment listed in two splits (train and test noises must be disjoint).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"DEMAND root {root} does not exist or is not a folder")
    seen: dict[str, str] = {}
    rows = []
    for split, envs in environments.items():
        for env in envs:
            if env in seen and seen[env] != split:
                raise DataError(
                    f"noise environment {env!r} is listed for both {seen[env]!r} and {split!r}: "
                    "train and test noises must be disjoint"
                )
            seen[env] = split
            folder = root / env
            if not folder.is_dir():
                raise DataError(f"noise environment folder {folder} does not exist")
            for ch in channels:
                path = folder / f"{ch}.wav"
                if not path.is_file():
                    raise DataError(f"noise channel file {path} does not exist")
                rows.append({"noise_env": env, "channel": ch, "split": split, "path": str(path)})
    return pd.DataFrame(rows, columns=["noise_env", "channel", "split", "path"])


def prepare_noise(
    index: pd.DataFrame,
    out_dir: str | Path,
    min_sample_rate: int = SAMPLE_RATE,
    min_seconds: float = 3.0,
) -> pd.DataFrame:
    """Convert each indexed noise file to 16 kHz mono; record what conversion happened.

    One :class:`DataError` names every unreadable, silent or too short (below
    ``min_seconds``, e.g. a file that ends early) noise file: a short noise would be
    a different noise condition, never tiled into one.
    """
    out_dir = Path(out_dir)
    rows, problems = [], []
    for row in tqdm(index.itertuples(index=False), total=len(index), desc="prepare noise"):
        try:
            audio, rate = read_audio(row.path)
            mono = to_mono_16k(audio, rate, source=row.path, min_rate=min_sample_rate)
        except DataError as err:
            problems.append(str(err))
            continue
        if len(mono) < min_seconds * SAMPLE_RATE:
            problems.append(
                f"noise file {row.path} holds {len(mono) / SAMPLE_RATE:.3f} s of audio, "
                f"less than noise.min_seconds = {min_seconds:g} s"
            )
            continue
        if float(np.sqrt(np.mean(mono**2))) < 1e-6:
            problems.append(f"noise file {row.path} is silent")
            continue
        noise_id = f"{row.noise_env}_{row.channel}"
        dest = out_dir / f"{noise_id}.wav"
        write_audio(dest, mono, SAMPLE_RATE)
        rows.append(
            {
                "noise_id": noise_id,
                "noise_env": row.noise_env,
                "channel": row.channel,
                "split": row.split,
                "path": str(dest),
                "n_samples": len(mono),
                "orig_sample_rate": rate,
                "orig_channels": audio.shape[0],
                "resampled": rate != SAMPLE_RATE,
                "mixed_down": audio.shape[0] > 1,
            }
        )
    raise_all(problems, "the noise recordings")
    return pd.DataFrame(rows, columns=NOISE_COLUMNS)


# --- mixtures ------------------------------------------------------------------------------


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
    ids = sorted(noises)
    rows = []
    for utt in tqdm(clean.itertuples(index=False), total=len(clean), desc=f"mix {split}"):
        x = read_audio(utt.clean_path)[0][0]
        rng = rng_for(seed, "mix", split, utt.utt_id)
        if per_utterance == "all":
            targets = list(snrs_db)
        else:
            targets = [float(snrs_db[int(rng.integers(len(snrs_db)))])]
        for target in targets:
            noise_id = ids[int(rng.integers(len(ids)))]
            for _ in range(max_tries):
                seg = take_segment(noises[noise_id], len(x), rng)
                noisy = x + scale_noise_to_snr(x, seg, target)
                if np.max(np.abs(noisy)) < 0.999:
                    break
            else:
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


def _snr_tag(snr: float) -> str:
    """File-name-safe SNR label: 15 -> 'snr15', -5 -> 'snrm5', 2.5 -> 'snr2p5'."""
    text = f"{snr:g}".replace("-", "m").replace(".", "p")
    return f"snr{text}"


# --- summary -------------------------------------------------------------------------------


def summarize_data(
    clean_manifests: Sequence[str],
    mix_manifests: Sequence[str],
    noise_manifest: str,
    rir_manifests: Sequence[str],
) -> pd.DataFrame:
    """One row per (stage, split): items, hours, speakers, noise conditions, rooms."""
    rows = []
    for path in clean_manifests:
        m = pd.read_csv(path)
        rows.append(
            {
                "stage": "clean",
                "split": m["split"].iloc[0],
                "items": len(m),
                "hours": m["n_samples"].sum() / SAMPLE_RATE / 3600,
                "speakers": m["speaker"].nunique(),
                "detail": f"resampled {int(m['resampled'].sum())}, mixed down {int(m['mixed_down'].sum())}",
            }
        )
    for path in mix_manifests:
        m = pd.read_csv(path)
        rows.append(
            {
                "stage": "mix",
                "split": m["split"].iloc[0],
                "items": len(m),
                "hours": m["n_samples"].sum() / SAMPLE_RATE / 3600,
                "speakers": m["speaker"].nunique(),
                "detail": "noise "
                + " ".join(sorted(m["noise_env"].unique()))
                + "; SNR "
                + " ".join(f"{s:g}" for s in sorted(m["snr_db"].unique())),
            }
        )
    noise = pd.read_csv(noise_manifest)
    for split, m in noise.groupby("split"):
        rows.append(
            {
                "stage": "noise",
                "split": split,
                "items": len(m),
                "hours": m["n_samples"].sum() / SAMPLE_RATE / 3600,
                "speakers": 0,
                "detail": " ".join(sorted(m["noise_env"].unique())),
            }
        )
    for path in rir_manifests:
        m = pd.read_csv(path)
        rows.append(
            {
                "stage": "rirs",
                "split": Path(path).stem,
                "items": len(m),
                "hours": 0.0,
                "speakers": 0,
                "detail": f"RT60 median {m['rt60_s'].median():.3f} s, "
                f"range {m['rt60_s'].min():.3f}-{m['rt60_s'].max():.3f} s",
            }
        )
    return pd.DataFrame(rows, columns=["stage", "split", "items", "hours", "speakers", "detail"])

"""The attacker's own speech: a corpus the victim never saw, for the surrogate recogniser
a black-box attacker trains itself (rule ``synthesize_attacker_corpus``).

The threat model of the black-box attacks: the attacker queries the victim for scores
and may train a recogniser of the same family on data of its own. For the embedded
corpus that data is a second synthetic corpus drawn from the attacker's seed: new
speakers (voices of the same population as the victim's training voices, as
LibriSpeech's train-clean-360 is to train-clean-100, never a voice of the victim's
corpus) and new sentences (never a sentence of the victim's corpus, nor the target
phrase). It is written in the LibriSpeech layout with subsets ``attacker`` (training)
and ``attacker_dev`` (the surrogate's early stopping), so the index, preparation and
mixing stages read it like the victim's corpus. Nothing of the victim's corpus changes
when the attacker's is built or re-drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.core.io import DataError, write_audio
from advspeech.core.seeding import rng_for, stable_seed
from advspeech.core.text import make_sentence
from advspeech.data.corpus import EmbeddedCorpusConfig, _draw_speakers, assign_speakers
from advspeech.data.tts import VoiceSpec, available_variants, synthesize_many

ATTACKER_SPLITS = ("attacker", "attacker_dev")
FIRST_SPEAKER_ID = 9000  # far above the victim corpus' ids (100 + its speakers)


@dataclass(frozen=True)
class AttackerCorpusConfig:
    """Size of the attacker's corpus (config ``surrogate.corpus``) and its seed."""

    speakers: Mapping[str, int]  # attacker split -> speakers
    utterances_per_speaker: Mapping[str, int]
    seed: int


def victim_sentences(corpus_root: str | Path) -> set[str]:
    """Every sentence of a LibriSpeech-layout corpus (its ``*.trans.txt``), upper case as
    written there."""
    sentences = set()
    for trans in Path(corpus_root).rglob("*.trans.txt"):
        for line in trans.read_text().splitlines():
            if line.strip():
                sentences.add(line.split(" ", 1)[1].strip())
    return sentences


def assign_attacker_speakers(
    victim: EmbeddedCorpusConfig, victim_seed: int, cfg: AttackerCorpusConfig
) -> dict[str, list[tuple[int, VoiceSpec]]]:
    """The attacker's speakers: voices over the victim's *training* variants (the
    population the victim learnt from, not its dev or test voices), drawn from the
    attacker's seed; a draw equal to a voice of the victim's corpus is drawn again."""
    variants = available_variants()
    victim_speakers = assign_speakers(victim, victim_seed, variants)
    taken = {voice for members in victim_speakers.values() for _, voice in members}
    train_variants = sorted({voice.variant for _, voice in victim_speakers.get("train", [])})
    if not train_variants:
        raise DataError("surrogate.corpus: the victim corpus has no train speakers to draw from")
    out: dict[str, list[tuple[int, VoiceSpec]]] = {}
    next_id = FIRST_SPEAKER_ID
    for split in ATTACKER_SPLITS:
        rng = rng_for(cfg.seed, "attacker speakers", split)
        voices: list[VoiceSpec] = []
        for _ in range(1000 * cfg.speakers[split]):
            if len(voices) == cfg.speakers[split]:
                break
            group = train_variants[len(voices) % len(train_variants) :]
            (voice,) = _draw_speakers(victim, group, 1, rng)
            if voice not in taken:
                taken.add(voice)
                voices.append(voice)
        if len(voices) < cfg.speakers[split]:
            raise DataError(
                f"surrogate.corpus.speakers.{split}: only {len(voices)} voices of the victim's "
                "training population are not the victim's own; widen corpus.embedded's "
                "pitch, pitch_range or words_per_minute, or ask for fewer speakers"
            )
        out[split] = [(next_id + k, v) for k, v in enumerate(voices)]
        next_id += len(voices)
    return out


def synthesize_attacker_corpus(
    out_root: str | Path,
    victim: EmbeddedCorpusConfig,
    victim_seed: int,
    cfg: AttackerCorpusConfig,
    forbidden_sentences: Sequence[str],
    processes: int = 1,
) -> pd.DataFrame:
    """Write the attacker's corpus under ``out_root`` (subsets ``attacker`` and
    ``attacker_dev``); ``forbidden_sentences`` (the victim corpus' sentences and the
    target phrase, any case) never occur. Returns one row per speaker."""
    out_root = Path(out_root)
    forbidden = tuple(
        {s.lower() for s in forbidden_sentences} | {s.upper() for s in forbidden_sentences}
    )
    plan, rows = [], []
    for split, members in assign_attacker_speakers(victim, victim_seed, cfg).items():
        for spk, voice in members:
            folder = out_root / split / str(spk) / "1"
            rng = rng_for(cfg.seed, "attacker sentences", spk)
            for n in range(cfg.utterances_per_speaker[split]):
                text = make_sentence(rng, forbidden=forbidden)
                utt_id = f"{spk}-1-{n:04d}"
                plan.append((folder, utt_id, text, voice, stable_seed(cfg.seed, "tts", utt_id)))
            rows.append({"speaker": spk, "split": split, "voice": voice.name,
                         "words_per_minute": voice.words_per_minute, "pitch": voice.pitch,
                         "pitch_range": voice.pitch_range})  # fmt: skip
    transcripts: dict[Path, list[str]] = {}
    audio = synthesize_many([(t, v, s) for _, _, t, v, s in plan], processes=processes)
    for (folder, utt_id, text, _, _), wave in tqdm(
        zip(plan, audio, strict=True), total=len(plan), desc="synthesise attacker corpus"
    ):
        write_audio(folder / f"{utt_id}.flac", wave, SAMPLE_RATE)
        transcripts.setdefault(folder, []).append(f"{utt_id} {text.upper()}")
    for folder, lines in transcripts.items():
        (folder / f"{folder.parent.name}-1.trans.txt").write_text("\n".join(lines) + "\n")
    return pd.DataFrame(rows)

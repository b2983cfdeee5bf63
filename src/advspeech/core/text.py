"""Text: the recogniser's character alphabet, transcript normalisation, and the
sentence grammar of the embedded corpus.

The grammar is deliberately small but not trivial: about 250 words in subject / verb /
object / place templates, so a recogniser can learn it from a few thousand synthetic
utterances, while the attack target "open the door" is reachable (its three words occur
in the corpus, never as the whole sentence in the test split) without being a frequent
phrase the recogniser would output by default.
"""

from __future__ import annotations

import unicodedata

import numpy as np

BLANK = "_"
ALPHABET = (BLANK, "'", *"abcdefghijklmnopqrstuvwxyz", " ")
"""CTC labels as in DeepSpeech: blank, apostrophe, a-z, space (29 symbols)."""

_LETTERS = set("abcdefghijklmnopqrstuvwxyz'")
# typographic apostrophes are the alphabet's apostrophe
_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"}
# punctuation that stands for a word when read out: refused, not dropped
_SPOKEN_PUNCTUATION = set("&%#@*/\\")


class TranscriptError(ValueError):
    """A transcript with characters that have no faithful spelling in the alphabet."""


def transliterate(text: str) -> tuple[str, list[str]]:
    """A transcript in the recogniser's alphabet, and what was transliterated.

    Lower-cased; letters with diacritics become their base letter (é -> e, ï -> i, ç -> c:
    Unicode decomposition, the marks dropped), and each such change is returned as
    ``"é->e"``; punctuation and white space separate words. Anything else, a digit, a
    symbol or punctuation read out as a word (&, %, $, +), a letter with no a-z base (ß,
    æ, ø, non-Latin scripts), has no faithful spelling and raises
    :class:`TranscriptError` naming the characters: dropping them would silently change
    the words.
    """
    out, changes, refused = [], [], []
    for ch in text.lower():
        ch = _APOSTROPHES.get(ch, ch)
        if ch in _LETTERS:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        category = unicodedata.category(ch)
        if base and all(c in _LETTERS for c in base) and category.startswith("L"):
            out.append(base)
            changes.append(f"{ch}->{base}")
        elif (category[0] == "P" and ch not in _SPOKEN_PUNCTUATION) or category[0] in "ZC":
            out.append(" ")  # punctuation, separators, line breaks
        else:
            refused.append(ch)
    if refused:
        raise TranscriptError(
            f"transcript {text!r} has characters with no spelling in the alphabet "
            f"(a-z, apostrophe): {sorted(set(refused))}"
        )
    return " ".join("".join(out).split()), list(dict.fromkeys(changes))


def normalize_transcript(text: str) -> str:
    """:func:`transliterate` without the record of changes."""
    return transliterate(text)[0]


def check_in_alphabet(text: str, what: str = "text") -> str:
    """Return ``text`` if every character is in the alphabet, else raise ValueError."""
    bad = sorted({c for c in text if c not in ALPHABET[1:]})
    if bad:
        raise ValueError(
            f"{what} {text!r} has characters outside the recogniser alphabet: {bad} "
            "(allowed: apostrophe, a-z, space)"
        )
    return text


# --- the embedded corpus grammar -------------------------------------------------------

SUBJECTS = (
    "the man",
    "the woman",
    "the child",
    "the doctor",
    "my brother",
    "my sister",
    "our neighbour",
    "the teacher",
    "the driver",
    "the farmer",
    "a young girl",
    "an old man",
    "the captain",
    "the nurse",
    "his father",
    "her mother",
    "the baker",
    "the soldier",
    "the student",
    "the king",
    "the queen",
    "a tall boy",
    "the guard",
    "the painter",
    "you",
    "we",
    "they",
    "i",
    "she",
    "he",
)
VERBS = (
    "opened",
    "closed",
    "painted",
    "cleaned",
    "found",
    "moved",
    "carried",
    "watched",
    "fixed",
    "broke",
    "bought",
    "sold",
    "locked",
    "pushed",
    "pulled",
    "washed",
    "checked",
    "dropped",
    "lifted",
    "covered",
    "filled",
    "counted",
    "touched",
    "kept",
    "left",
    "needed",
    "wanted",
    "liked",
    "saw",
    "built",
    "made",
    "took",
    "brought",
    "held",
)
IMPERATIVES = (
    "open",
    "close",
    "paint",
    "clean",
    "find",
    "move",
    "carry",
    "watch",
    "fix",
    "lock",
    "push",
    "pull",
    "wash",
    "check",
    "lift",
    "cover",
    "fill",
    "bring",
    "hold",
    "take",
)
ADJECTIVES = (
    "red",
    "green",
    "blue",
    "small",
    "large",
    "heavy",
    "old",
    "new",
    "wooden",
    "broken",
    "bright",
    "dark",
    "clean",
    "dirty",
    "quiet",
    "warm",
    "cold",
    "little",
    "round",
    "white",
)
NOUNS = (
    "door",
    "window",
    "box",
    "book",
    "letter",
    "table",
    "chair",
    "basket",
    "bottle",
    "car",
    "gate",
    "drawer",
    "bag",
    "cup",
    "lamp",
    "coat",
    "key",
    "map",
    "boat",
    "bell",
    "bridge",
    "garden",
    "house",
    "wall",
    "floor",
    "road",
    "river",
    "horse",
    "dog",
    "cat",
    "bird",
    "clock",
    "radio",
    "phone",
    "picture",
    "shirt",
    "shoe",
    "plate",
    "glass",
    "knife",
    "bread",
    "apple",
    "paper",
    "stone",
    "ring",
    "rope",
    "tent",
    "train",
    "ticket",
    "cake",
)
PLACES = (
    "in the kitchen",
    "near the station",
    "at the market",
    "by the river",
    "on the hill",
    "in the morning",
    "after dinner",
    "before noon",
    "at night",
    "in the garden",
    "under the bridge",
    "behind the house",
    "on monday",
    "last week",
    "every day",
    "in the rain",
    "with great care",
    "very slowly",
    "once again",
    "for a while",
)
ADVERB_OPENERS = ("please", "now", "quickly", "then", "slowly", "today", "later")


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _object_phrase(rng: np.random.Generator) -> str:
    det = _pick(rng, ("the", "a", "my", "your", "that", "this", "our"))
    noun = _pick(rng, NOUNS)
    if rng.random() < 0.4:
        return f"{det} {_pick(rng, ADJECTIVES)} {noun}"
    if det == "a" and noun[0] in "aeiou":
        det = "an"
    return f"{det} {noun}"


def make_sentence(rng: np.random.Generator, forbidden: tuple[str, ...] = ()) -> str:
    """One sentence of 3-12 words from the grammar; never one of ``forbidden``."""
    while True:
        kind = rng.random()
        if kind < 0.55:
            parts = [_pick(rng, SUBJECTS), _pick(rng, VERBS), _object_phrase(rng)]
        elif kind < 0.85:
            parts = [_pick(rng, IMPERATIVES), _object_phrase(rng)]
            if rng.random() < 0.4:
                parts.insert(0, _pick(rng, ADVERB_OPENERS))
        else:
            parts = [
                _pick(rng, SUBJECTS),
                _pick(rng, VERBS),
                _object_phrase(rng),
                "and",
                _object_phrase(rng),
            ]
        if rng.random() < 0.5:
            parts.append(_pick(rng, PLACES))
        sentence = normalize_transcript(" ".join(parts))
        if sentence not in forbidden:
            return sentence


def vocabulary() -> set[str]:
    """Every word the grammar can produce."""
    words: set[str] = {"and", "the", "a", "an", "my", "your", "that", "this", "our"}
    for group in (SUBJECTS, VERBS, IMPERATIVES, ADJECTIVES, NOUNS, PLACES, ADVERB_OPENERS):
        for phrase in group:
            words.update(phrase.split())
    return words

"""Alphabet, grammar and espeak-ng synthesis."""

import numpy as np
import pytest

from advspeech import SAMPLE_RATE
from advspeech.core.text import (
    ALPHABET,
    check_in_alphabet,
    make_sentence,
    normalize_transcript,
    vocabulary,
)
from advspeech.data.tts import EspeakSynthesizer, VoiceSpec, available_variants, synthesize_many


def test_alphabet_is_deepspeech_like():
    assert len(ALPHABET) == 29 and ALPHABET[0] == "_" and ALPHABET[-1] == " "


def test_normalize_and_check():
    assert normalize_transcript("OPEN-the  Door!") == "open the door"
    with pytest.raises(ValueError, match="outside the recogniser alphabet"):
        check_in_alphabet("open 3 doors", "target phrase")


def test_grammar_covers_target_words_but_avoids_target_sentence():
    assert {"open", "the", "door"} <= vocabulary()
    rng = np.random.default_rng(0)
    sentences = {make_sentence(rng, forbidden=("open the door",)) for _ in range(3000)}
    assert "open the door" not in sentences
    assert len(sentences) > 2000  # varied, not a handful of templates
    words = [s.split() for s in sentences]
    for w in ("open", "the", "door"):
        assert sum(w in ws for ws in words) > 30, w  # each target word is well attested
    for s in sentences:
        check_in_alphabet(s)


def test_espeak_synthesises_16k_speech_for_many_voices():
    assert len(available_variants()) > 80
    jobs = [
        ("open the door", VoiceSpec("en-us", "m3", 160, 50, 50), 1),
        ("open the door", VoiceSpec("en", "f2", 180, 70, 50), 1),
        ("open the door", VoiceSpec("en-us", "klatt", 150, 40, 60), 1),
    ]
    a, b, c = synthesize_many(jobs, processes=2)
    for x in (a, b, c):
        assert x.dtype == np.float32 and 0.4 * SAMPLE_RATE < len(x) < 3 * SAMPLE_RATE
        assert np.max(np.abs(x)) > 0.05
    n = min(len(a), len(b))
    assert not np.array_equal(a[:n], b[:n])


def test_synthesis_is_reproducible_including_breathy_and_klatt_voices():
    # espeak-ng seeds its noise from the clock and carries state between utterances;
    # synthesize_many must still give identical samples in any order.
    jobs = [
        ("open the window", VoiceSpec("en", "f2", 170, 60, 50), 3),
        ("open the window", VoiceSpec("en-us", "klatt3", 150, 40, 50), 4),
    ]
    first = list(synthesize_many(jobs * 2, processes=2))
    again = list(synthesize_many(jobs[::-1], processes=1))
    assert np.array_equal(first[0], first[2]) and np.array_equal(first[1], first[3])
    assert np.array_equal(first[0], again[1]) and np.array_equal(first[1], again[0])


def test_unknown_voice_is_a_clear_error():
    with pytest.raises(ValueError, match="no voice"):
        EspeakSynthesizer().synthesize("hi", VoiceSpec("xx-nope", "m3", 160, 50, 50))

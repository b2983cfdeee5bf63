"""Preloaded by the fork server of :func:`advspeech.tts.synthesize_many`.

Initialises espeak-ng once in the (small, torch-free) server process, so every forked
child starts from the same freshly initialised state without paying for it again.
"""

from advspeech.tts import EspeakSynthesizer

EspeakSynthesizer()

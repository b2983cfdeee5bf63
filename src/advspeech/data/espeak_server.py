"""Preloaded by the fork server of :func:`advspeech.data.tts.synthesize_many`.

Initialises espeak-ng once in the (small, torch-free) server process, so every forked
child starts from the same freshly initialised state without paying for it again.
"""

from advspeech.data.tts import EspeakSynthesizer

EspeakSynthesizer()

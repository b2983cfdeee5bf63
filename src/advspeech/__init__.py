"""advspeech: adversarial attacks on speech recognition and enhancement-based defences.

One module per concern:

- :mod:`advspeech.io`     audio/CSV reading and atomic writing, input validation errors
- :mod:`advspeech.dsp`    resampling, channel mix-down, SNR (paper Sec. 3.3) and mixing
- :mod:`advspeech.tts`    espeak-ng speech synthesis through the ``espeakng-loader`` wheel
- :mod:`advspeech.data`   the embedded corpus, LibriSpeech/DEMAND layout loaders, manifests
- :mod:`advspeech.noise`  embedded noise generators written in the DEMAND layout
- :mod:`advspeech.rooms`  shoebox room impulse responses with pyroomacoustics
"""

__version__ = "0.1.0"

SAMPLE_RATE = 16_000
"""Every signal after the corpus/noise stages is 16 kHz mono float32 in [-1, 1]."""

"""advspeech: adversarial attacks on speech recognition and enhancement-based defences.

One module or package per concern, mirroring the workflow's stages (docs/architecture.md
has the table): :mod:`advspeech.data` (corpus, noise, mixtures, rooms),
:mod:`advspeech.asr.model` (the victim recogniser), :mod:`advspeech.se` (enhancement models),
:mod:`advspeech.attacks`, :mod:`advspeech.evaluation.metrics` and :mod:`advspeech.evaluation.scoring`,
:mod:`advspeech.reporting.tables` and :mod:`advspeech.reporting.figures`, :mod:`advspeech.evaluation.claims`;
:mod:`advspeech.reporting.paper` holds the paper's names and numbers, :mod:`advspeech.pipeline.config` the
config checks.
"""

__version__ = "0.1.0"

SAMPLE_RATE = 16_000
"""Every signal after the corpus/noise stages is 16 kHz mono float32 in [-1, 1]."""

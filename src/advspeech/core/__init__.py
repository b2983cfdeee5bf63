"""Infrastructure every stage shares and that knows nothing of speech models:
audio and manifest I/O (:mod:`~advspeech.core.io`), signal processing
(:mod:`~advspeech.core.dsp`, :mod:`~advspeech.core.fft`), transcripts and the embedded
corpus's sentences (:mod:`~advspeech.core.text`), seeds (:mod:`~advspeech.core.seeding`),
the lazy registries (:mod:`~advspeech.core.registry`) and torch plumbing
(:mod:`~advspeech.core.torchutil`: devices, threads, checkpoints)."""

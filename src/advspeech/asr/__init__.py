"""The victim recogniser: model (:mod:`~advspeech.asr.model`), training plain and
adversarial (:mod:`~advspeech.asr.train`, paper Eq. 6) and evaluation
(:mod:`~advspeech.asr.evaluate`).

:data:`RECOGNISERS` maps an architecture name (config ``asr.arch``) to the builder of
its ``nn.Module`` from the config dict ``asr.model``; a new recogniser is one module with
a builder and one entry (here, or ``registry.recognisers`` in config). The workflow's
recognisers ``ds`` and ``ds_advt`` are the victim and its adversarially trained twin,
both of architecture ``asr.arch``.
"""

from __future__ import annotations

from advspeech.core.registry import LazyRegistry

RECOGNISERS: LazyRegistry = LazyRegistry(
    "recogniser architecture",
    {"ds": "advspeech.asr.model:build_deepspeech"},
    config_key="recognisers",
)
"""Architecture name -> builder of the recogniser from its config dict."""


def build_asr(arch: str, cfg: dict):
    """The ``torch.nn.Module`` of recogniser architecture ``arch`` built from ``cfg``
    (a CTC model: waveform batch (B, N) and lengths (B,) in, log-probabilities
    (T, B, 29) and output lengths out)."""
    return RECOGNISERS[arch](cfg)

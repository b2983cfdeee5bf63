"""Input transformations as defences, beside the paper's enhancement models (beyond the
paper; the baselines Armory, ART and WaveGuard publish next to learned defences).

Each transformation maps one utterance (a 1-D 16 kHz float tensor) to a signal of the
same length. :data:`TRANSFORMS` maps the config name (``defences.transforms.<name>``,
whose keys are the constructor's arguments) to the class in
:mod:`~advspeech.defences.transforms`; a new transformation is one class and one entry.
:mod:`~advspeech.defences.apply` applies a transformation to a manifest (rule
``transform``).

For the adaptive attacker every transformation gives a gradient: the differentiable
ones exactly (resampling, low-pass filtering, additive noise), the others through BPDA
(Athalye et al. 2018): the forward pass is the real transformation, the backward pass
that of the identity, which these transformations approximate (MP3 compression,
amplitude quantisation). A randomised transformation (additive noise) draws from a
generator seeded per call, so the same seed gives the same output; the adaptive
attacker averages its loss over several draws (expectation over transformations).
"""

from __future__ import annotations

from advspeech.core.registry import LazyRegistry

TRANSFORMS: LazyRegistry = LazyRegistry(
    "input transformation",
    {
        "mp3": "advspeech.defences.transforms:Mp3Compression",
        "resample": "advspeech.defences.transforms:Resampling",
        "quantise": "advspeech.defences.transforms:Quantisation",
        "lowpass": "advspeech.defences.transforms:LowPass",
        "random_noise": "advspeech.defences.transforms:RandomNoise",
    },
    config_key="transforms",
)
"""Config name -> transformation class (its config dict holds the arguments)."""


def build_transform(name: str, cfg: dict):
    """The :class:`~advspeech.defences.transforms.Transform` ``name`` built from its
    config dict, or ValueError naming the config key."""
    try:
        return TRANSFORMS[name](**cfg)
    except TypeError as err:
        raise ValueError(f"defences.transforms.{name}: {err}") from err

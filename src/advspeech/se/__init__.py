"""Speech enhancement models (paper Sec. 3): DNN regression, Wave-U-Net, and U-Net_At.

Every model maps a noisy waveform batch (B, N) to an enhanced batch of the same shape
and defines its training loss ``loss(noisy, clean)``; :data:`SE_MODELS` maps the config
name to the model's builder, so a new model is one module and one registry entry.
Modules: :mod:`~advspeech.se.dnn`, :mod:`~advspeech.se.unet` (both U-Nets and their
waveform losses), :mod:`~advspeech.se.enhance` (a model applied to whole utterances).

- ``dnn``: Xu, Du, Dai & Lee (2015) regression from noisy log-power spectra with +-3
  context frames to the clean LPS; global mean/variance normalisation of inputs and
  targets (statistics fitted on training data before training); resynthesis with the
  noisy phase. Loss: MSE of normalised LPS. At synthesis, optional global variance
  equalisation (``variance_scale``, Xu et al.'s remedy for over-smoothing) and a gain
  cap (``gain_cap``: no bin louder than in the noisy input).
- ``waveunet``: Macartney & Weyde's Wave-U-Net for speech enhancement: down-sampling
  blocks (conv kernel 15, LeakyReLU, decimation by 2), up-sampling blocks (linear
  up-sampling, crop-and-concat skip, conv kernel 5), the input concatenated before a 1x1
  output conv with tanh; with ``difference_output`` the network predicts the noise and
  speech = mix - noise. Layer i has ``filters * (i + 1)`` channels. 'same' padding
  keeps every length (inputs are padded to a multiple of 2^layers and cropped back).
  Loss: waveform MSE.
- ``unet_at`` (the paper's U-Net_At, Sec. 3.1, Eq. 4): the same U-Net whose up-sampling
  blocks carry a self-attention gate. Queries come from the up-sampled decoder feature
  (``h_t^Q``), keys and values from the encoder skip at the same level (``H^K``); scaled
  dot-product softmax attention over time (Vaswani et al.) gives the context ``c_t``,
  which is projected and added to the skip through a residual scale that starts at 0
  (so training starts from the plain Wave-U-Net), before the usual concat and
  convolution: the block output thus depends on ``c_t``, the upcoming input ``x_t`` and
  the cropped skip ``x_c`` as Eq. 4 describes. Attention is quadratic in time, so it is
  placed only at the lowest-resolution levels (``attention_levels``, counted from the
  bottleneck) and keys/values may be average-pooled (``kv_pool``); at the default
  16384-sample segments, 10 layers and gates at levels 3-4 the largest attention map is
  128 x 128.
"""

from __future__ import annotations

from advspeech.core.registry import LazyRegistry

SE_MODELS: LazyRegistry = LazyRegistry(
    "enhancement model",
    {
        "dnn": "advspeech.se.dnn:build_dnn",
        "waveunet": "advspeech.se.unet:build_waveunet",
        "unet_at": "advspeech.se.unet:build_unet_at",
    },
    config_key="se_models",
)
"""Config name -> builder of the model from its config dict (``se.models.<name>``)."""


def build_se(name: str, cfg: dict):
    """The ``torch.nn.Module`` of enhancement model ``name`` built from ``cfg``."""
    return SE_MODELS[name](cfg)

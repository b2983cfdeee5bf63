"""Speech enhancement models (paper Sec. 3): DNN regression, Wave-U-Net, and U-Net_At.

Every model maps a noisy waveform batch (B, N) to an enhanced batch of the same shape
and defines its training loss ``loss(noisy, clean)``; :data:`SE_MODELS` maps the config
name to the class, so a new model is one class and one registry entry.

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
  16384-sample segments and 8 layers the largest attention map is 128 x 128.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

# --- DNN regression (Xu et al.) ------------------------------------------------------------


@dataclass(frozen=True)
class DNNConfig:
    n_fft: int = 512
    hop_length: int = 256
    context: int = 3
    hidden: int = 1024
    layers: int = 3
    dropout: float = 0.2
    # predict the clean LPS as the noisy LPS plus a learned correction, the last layer
    # zero-initialised: the untrained model passes its input through, and on the small
    # default budget it learns what to remove instead of re-synthesising every bin (the
    # direct regression of Xu et al. stayed below the unprocessed input on PESQ and STOI)
    residual: bool = True
    # global variance equalisation (Xu et al. 2015, Sec. IV-C): the regression
    # over-smooths, so the estimate is scaled by this factor about the global clean mean
    # (in normalised LPS units) before resynthesis; 1.0 switches it off
    variance_scale: float = 1.0
    # never raise a time-frequency bin above the noisy input (gain <= 1): the regression
    # otherwise inflates quiet bins and lowers the SNR at high input SNRs
    gain_cap: bool = False


class DNNEnhancer(nn.Module):
    """Noisy LPS with context -> clean LPS (Xu et al.); noisy phase for resynthesis.

    With ``residual`` the network outputs, in normalised units, the correction
    ``(clean - noisy) / out_std`` of the centre frame instead of the clean LPS itself."""

    def __init__(self, cfg: DNNConfig):
        super().__init__()
        self.cfg = cfg
        bins = cfg.n_fft // 2 + 1
        width = bins * (2 * cfg.context + 1)
        layers: list[nn.Module] = []
        size = width
        for _ in range(cfg.layers):
            layers += [nn.Linear(size, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout)]
            size = cfg.hidden
        layers.append(nn.Linear(size, bins))
        if cfg.residual:
            nn.init.zeros_(layers[-1].weight)
            nn.init.zeros_(layers[-1].bias)
        self.net = nn.Sequential(*layers)
        self.register_buffer("window", torch.hann_window(cfg.n_fft), persistent=False)
        # global normalisation statistics (fitted by fit_normalisation, saved with weights)
        self.register_buffer("in_mean", torch.zeros(bins))
        self.register_buffer("in_std", torch.ones(bins))
        self.register_buffer("out_mean", torch.zeros(bins))
        self.register_buffer("out_std", torch.ones(bins))

    def _stft(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.stft(
            wave,
            self.cfg.n_fft,
            self.cfg.hop_length,
            window=self.window,
            center=True,
            return_complex=True,
        )

    @staticmethod
    def _lps(spec: torch.Tensor) -> torch.Tensor:
        return torch.log(spec.abs() ** 2 + 1e-10)

    def _context(self, lps: torch.Tensor) -> torch.Tensor:
        """(B, F, T) -> (B, T, F * (2c + 1)) with edge frames repeated."""
        c = self.cfg.context
        padded = F.pad(lps, (c, c), mode="replicate")
        frames = [padded[:, :, k : k + lps.shape[-1]] for k in range(2 * c + 1)]
        return torch.cat(frames, dim=1).transpose(1, 2)

    @torch.no_grad()
    def fit_normalisation(self, noisy: torch.Tensor, clean: torch.Tensor) -> None:
        """Global mean/variance of noisy and clean LPS over a sample of training data."""
        n_lps = self._lps(self._stft(noisy)).transpose(1, 2).reshape(-1, self.in_mean.numel())
        c_lps = self._lps(self._stft(clean)).transpose(1, 2).reshape(-1, self.in_mean.numel())
        self.in_mean.copy_(n_lps.mean(0))
        self.in_std.copy_(n_lps.std(0).clamp(min=1e-3))
        self.out_mean.copy_(c_lps.mean(0))
        self.out_std.copy_(c_lps.std(0).clamp(min=1e-3))

    def _predict_normalised(
        self, noisy: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Clean LPS estimate in the output normalisation, (B, F, T), the noisy STFT and
        its LPS."""
        spec = self._stft(noisy)
        noisy_lps = self._lps(spec)
        lps = (noisy_lps - self.in_mean[:, None]) / self.in_std[:, None]
        pred = self.net(self._context(lps)).transpose(1, 2)
        if self.cfg.residual:
            pred = pred + (noisy_lps - self.out_mean[:, None]) / self.out_std[:, None]
        return pred, spec, noisy_lps

    def enhanced_magnitude(self, noisy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The enhanced STFT magnitude (B, F, T) and the noisy STFT whose phase it takes."""
        pred, spec, noisy_lps = self._predict_normalised(noisy)
        # post-processing only at synthesis: the training loss stays Xu et al.'s MSE
        lps = self.cfg.variance_scale * pred * self.out_std[:, None] + self.out_mean[:, None]
        if self.cfg.gain_cap:
            lps = torch.minimum(lps, noisy_lps)
        return torch.exp(0.5 * lps), spec

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        magnitude, spec = self.enhanced_magnitude(noisy)
        enhanced = torch.polar(magnitude, torch.angle(spec))
        return torch.istft(
            enhanced,
            self.cfg.n_fft,
            self.cfg.hop_length,
            window=self.window,
            center=True,
            length=noisy.shape[-1],
        )

    def loss(self, noisy: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        pred, _, _ = self._predict_normalised(noisy)
        target = (self._lps(self._stft(clean)) - self.out_mean[:, None]) / self.out_std[:, None]
        return F.mse_loss(pred, target)


# --- Wave-U-Net and U-Net_At ---------------------------------------------------------------


@dataclass(frozen=True)
class WaveUNetConfig:
    layers: int = 8
    filters: int = 16  # extra filters per layer: layer i has filters * (i + 1)
    down_kernel: int = 15
    up_kernel: int = 5
    difference_output: bool = True
    # training objective J: "mse" on the waveform (Macartney & Weyde), or "l1_stft": L1 on
    # the waveform plus a multi-resolution STFT loss (spectral convergence + log magnitude,
    # Yamamoto et al. 2020). A waveform MSE is dominated by the loud low-frequency samples
    # and leaves the spectral detail PESQ hears; on the default data l1_stft raised PESQ
    # over noisy by 0.15 where mse gave 0.01 (same steps, see docs/architecture.md)
    loss: str = "mse"
    # divide each input segment by its RMS and multiply the output back: the network is
    # scale-equivariant (a quiet and a loud copy of one mixture get the same treatment)
    # and its first convolutions see unit-scale inputs instead of speech at -25 dBFS,
    # where |x| ~ 0.05 and the tanh noise estimate never leaves its linear range
    normalise_input: bool = False
    # U-Net_At only: which up-sampling levels (1 = the one next to the bottleneck) get an
    # attention gate, the attention width, and the key/value average-pool factor
    attention_levels: tuple[int, ...] = field(default_factory=tuple)
    attention_dim: int = 32
    kv_pool: int = 1


class AttentionGate(nn.Module):
    """Scaled dot-product attention from decoder queries to encoder-skip keys/values.

    Returns the skip with the projected context added through a zero-initialised scale,
    and (for inspection and tests) the attention weights (B, T_q, T_k), which sum to one
    over the key time axis.
    """

    def __init__(self, query_channels: int, skip_channels: int, dim: int, kv_pool: int = 1):
        super().__init__()
        self.query = nn.Conv1d(query_channels, dim, 1)
        self.key = nn.Conv1d(skip_channels, dim, 1)
        self.value = nn.Conv1d(skip_channels, dim, 1)
        self.out = nn.Conv1d(dim, skip_channels, 1)
        self.scale = nn.Parameter(torch.zeros(1))
        self.kv_pool = kv_pool
        self.dim = dim

    def forward(
        self, decoder: torch.Tensor, skip: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        q = self.query(decoder)  # (B, d, T)
        kv_in = F.avg_pool1d(skip, self.kv_pool, ceil_mode=True) if self.kv_pool > 1 else skip
        k = self.key(kv_in)
        v = self.value(kv_in)
        scores = torch.einsum("bdt,bds->bts", q, k) / math.sqrt(self.dim)
        weights = torch.softmax(scores, dim=-1)
        context = torch.einsum("bts,bds->bdt", weights, v)
        return skip + self.scale * self.out(context), weights


# segments quieter than this (about -80 dBFS, digital silence) are not scaled up
RMS_FLOOR = 1e-4


class WaveUNet(nn.Module):
    """Wave-U-Net for speech enhancement; with attention gates it is U-Net_At."""

    def __init__(self, cfg: WaveUNetConfig):
        super().__init__()
        self.cfg = cfg
        ch = [1] + [cfg.filters * (i + 1) for i in range(cfg.layers + 1)]
        self.down = nn.ModuleList(
            nn.Conv1d(ch[i], ch[i + 1], cfg.down_kernel, padding=cfg.down_kernel // 2)
            for i in range(cfg.layers)
        )
        self.bottleneck = nn.Conv1d(
            ch[cfg.layers], ch[cfg.layers + 1], cfg.down_kernel, padding=cfg.down_kernel // 2
        )
        self.up = nn.ModuleList()
        self.gates = nn.ModuleDict()
        for level in range(1, cfg.layers + 1):  # 1 = next to the bottleneck
            i = cfg.layers - level  # encoder index of the skip
            in_ch = ch[i + 2] if level == 1 else ch[i + 2]
            skip_ch = ch[i + 1]
            self.up.append(
                nn.Conv1d(in_ch + skip_ch, ch[i + 1], cfg.up_kernel, padding=cfg.up_kernel // 2)
            )
            if level in cfg.attention_levels:
                self.gates[str(level)] = AttentionGate(
                    in_ch, skip_ch, cfg.attention_dim, cfg.kv_pool
                )
        self.output = nn.Conv1d(ch[1] + 1, 1, 1)
        self.last_attention: dict[int, torch.Tensor] = {}

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        if self.cfg.normalise_input:
            scale = noisy.pow(2).mean(dim=-1, keepdim=True).sqrt().clamp(min=RMS_FLOOR)
            return self._forward(noisy / scale) * scale
        return self._forward(noisy)

    def _forward(self, noisy: torch.Tensor) -> torch.Tensor:
        n = noisy.shape[-1]
        multiple = 2**self.cfg.layers
        padded_len = max(multiple, int(math.ceil(n / multiple)) * multiple)
        x = F.pad(noisy, (0, padded_len - n))[:, None, :]
        mix = x
        skips = []
        for conv in self.down:
            x = F.leaky_relu(conv(x), 0.2)
            skips.append(x)
            x = x[..., ::2]  # decimation: drop every other sample
        x = F.leaky_relu(self.bottleneck(x), 0.2)
        self.last_attention = {}
        for level, conv in enumerate(self.up, start=1):
            skip = skips[self.cfg.layers - level]
            x = F.interpolate(x, size=skip.shape[-1], mode="linear", align_corners=True)
            gate = self.gates[str(level)] if str(level) in self.gates else None  # noqa: SIM401 (ModuleDict has no get)
            if gate is not None:
                skip, weights = gate(x, skip)
                self.last_attention[level] = weights.detach()
            x = F.leaky_relu(conv(torch.cat([x, skip], dim=1)), 0.2)
        out = self.output(torch.cat([x, mix], dim=1))
        if not self.cfg.normalise_input:
            # audio in [-1, 1] (Macartney & Weyde); a unit-RMS signal's noise peaks beyond 1
            out = torch.tanh(out)
        speech = mix - out if self.cfg.difference_output else out
        return speech[:, 0, :n]

    def loss(self, noisy: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        return WAVEFORM_LOSSES[self.cfg.loss](self(noisy), clean)


# (n_fft, hop) of the multi-resolution STFT loss: 16, 32 and 64 ms windows at 16 kHz
STFT_LOSS_RESOLUTIONS = ((256, 64), (512, 128), (1024, 256))
# weight of the waveform L1 next to the STFT terms: speech at -25 dBFS has |x| ~ 0.05,
# so the L1 is ~100x smaller than the (scale-free) STFT terms without it
L1_WEIGHT = 10.0


def multi_resolution_stft_loss(estimate: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Mean over resolutions of spectral convergence + L1 of log magnitudes."""
    total = estimate.new_zeros(())
    for n_fft, hop in STFT_LOSS_RESOLUTIONS:
        window = torch.hann_window(n_fft, device=estimate.device)
        est, ref = (
            torch.stft(w, n_fft, hop, window=window, return_complex=True).abs()
            for w in (estimate, clean)
        )
        convergence = torch.linalg.norm(ref - est) / torch.linalg.norm(ref).clamp_min(1e-8)
        log_magnitude = F.l1_loss(torch.log(est + 1e-5), torch.log(ref + 1e-5))
        total = total + convergence + log_magnitude
    return total / len(STFT_LOSS_RESOLUTIONS)


def l1_stft_loss(estimate: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    return L1_WEIGHT * F.l1_loss(estimate, clean) + multi_resolution_stft_loss(estimate, clean)


WAVEFORM_LOSSES = {"mse": F.mse_loss, "l1_stft": l1_stft_loss}


def _waveunet_config(cfg: dict) -> WaveUNetConfig:
    cfg = dict(cfg)
    if "attention_levels" in cfg:
        cfg["attention_levels"] = tuple(cfg["attention_levels"])
    if cfg.get("loss", "mse") not in WAVEFORM_LOSSES:
        raise ValueError(
            f"se.models.*.loss {cfg['loss']!r}: choose one of {sorted(WAVEFORM_LOSSES)}"
        )
    return WaveUNetConfig(**cfg)


def _build_dnn(cfg: dict) -> nn.Module:
    return DNNEnhancer(DNNConfig(**cfg))


def _build_waveunet(cfg: dict) -> nn.Module:
    cfg = {**cfg, "attention_levels": ()}
    return WaveUNet(_waveunet_config(cfg))


def _build_unet_at(cfg: dict) -> nn.Module:
    built = _waveunet_config(cfg)
    if not built.attention_levels:
        raise ValueError(
            "se model unet_at needs at least one attention level (se.models.unet_at.attention_levels)"
        )
    bad = [lv for lv in built.attention_levels if not 1 <= lv <= built.layers]
    if bad:
        raise ValueError(f"se.models.unet_at.attention_levels {bad} outside 1..{built.layers}")
    return WaveUNet(built)


SE_MODELS = {"dnn": _build_dnn, "waveunet": _build_waveunet, "unet_at": _build_unet_at}
"""Config name -> builder from the model's config dict."""


def build_se(name: str, cfg: dict) -> nn.Module:
    if name not in SE_MODELS:
        raise KeyError(f"unknown enhancement model {name!r}; known: {sorted(SE_MODELS)}")
    return SE_MODELS[name](cfg)


def config_dict(model: nn.Module) -> dict:
    return asdict(model.cfg)


# --- applying a model to long signals ------------------------------------------------------


def overlap_add_enhance(model: nn.Module, wave: torch.Tensor, segment: int) -> torch.Tensor:
    """Enhance a 1-D signal of any length by 50 %-overlap-add of ``segment``-sample windows,
    on the signal's device and differentiable in the signal (the adaptive attacker
    attacks exactly this function).

    A signal no longer than ``segment`` is enhanced in one piece. Longer ones are cut into
    windows at half-segment hops (the last one ending at the signal's end), each weighted
    by a Hann window and normalised by the summed window, so the weights add to one
    everywhere; the output has exactly the input's length.
    """
    if wave.ndim != 1:
        raise ValueError(f"overlap_add_enhance expects a 1-D signal, got {tuple(wave.shape)}")
    n = wave.shape[0]
    if n <= segment:
        return model(wave[None])[0]
    hop = segment // 2
    starts = list(range(0, n - segment + 1, hop))
    if starts[-1] + segment < n:
        starts.append(n - segment)
    window = torch.hann_window(segment, periodic=False, dtype=wave.dtype, device=wave.device)
    window = window.clamp(min=1e-3)
    batch = torch.stack([wave[s : s + segment] for s in starts])
    enhanced = torch.cat([model(chunk) for chunk in batch.split(16)])
    out = wave.new_zeros(n)
    norm = wave.new_zeros(n)
    for s, seg in zip(starts, enhanced, strict=True):
        out[s : s + segment] += seg * window
        norm[s : s + segment] += window
    return out / norm


@torch.no_grad()
def enhance_signal(
    model: nn.Module, wave: torch.Tensor, segment: int, device: torch.device
) -> torch.Tensor:
    """:func:`overlap_add_enhance` of a CPU signal on ``device``, without gradients;
    returns a CPU tensor."""
    if wave.ndim != 1:
        raise ValueError(f"enhance_signal expects a 1-D signal, got shape {tuple(wave.shape)}")
    if not torch.isfinite(wave).all():
        raise ValueError("input contains NaN or Inf samples")
    return overlap_add_enhance(model, wave.to(device), segment).cpu()

"""Wave-U-Net (Macartney & Weyde) and the paper's U-Net_At (Sec. 3.1, Eq. 4), with their
waveform losses; see :mod:`advspeech.se`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from advspeech.se.loss_options import L1_STFT_ONLY_KEYS


@dataclass(frozen=True)
class WaveUNetConfig:
    """Settings of the Wave-U-Net and U-Net_At (config ``se.models.waveunet``/``unet_at``)."""

    layers: int = 10
    filters: int = 12  # extra filters per layer: layer i has filters * (i + 1)
    down_kernel: int = 15
    up_kernel: int = 5
    difference_output: bool = True
    # training objective J: "mse" on the waveform (Macartney & Weyde), or "l1_stft": L1 on
    # the waveform plus a multi-resolution STFT loss (spectral convergence + log magnitude,
    # Yamamoto et al. 2020). A waveform MSE is dominated by the loud low-frequency samples
    # and leaves the spectral detail PESQ hears; on the default data l1_stft raised PESQ
    # over noisy by 0.15 where mse gave 0.01 (same steps, see docs/architecture.md)
    loss: str = "l1_stft"
    # divide each input segment by its RMS and multiply the output back: the network is
    # scale-equivariant (a quiet and a loud copy of one mixture get the same treatment)
    # and its first convolutions see unit-scale inputs instead of speech at -25 dBFS,
    # where |x| ~ 0.05 and the tanh noise estimate never leaves its linear range
    normalise_input: bool = True
    # l1_stft only: floor of the log magnitudes, in dB below the clean reference's loudest
    # bin (per example and resolution); None: an absolute floor of 1e-5. The embedded TTS
    # speech has digitally silent stretches, and with the absolute floor the bins more
    # than ~60 dB below the speech carried two thirds of the log-magnitude term: the model
    # was trained to match inaudible detail instead of the speech (docs/decisions.md)
    log_floor_db: float | None = 100.0
    # l1_stft only: weight per dB of a thresholded-SNR term (minus the segment's SNR,
    # capped at SNR_LOSS_CAP_DB; Wisdom et al. 2020). The STFT terms see magnitudes only
    # and the waveform L1 is small next to them, so nothing but this term asks for the
    # phase the SNR metric (and the STOI envelopes of overlapping harmonics) depend on
    snr_weight: float = 0.0
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
        """The up-sampled ``decoder`` feature (B, C, T) attends over the encoder ``skip``
        (B, C, T) (Eq. 4); returns the skip plus the scaled, projected context, and the
        attention weights (B, T, T')."""
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
            in_ch = ch[i + 2]  # the bottleneck (level 1) or the level below
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
        """Noisy waveforms (B, N) -> enhanced (B, N) (padded to a multiple of 2^layers and
        cropped back)."""
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
        """The configured loss (``mse`` or ``l1_stft``) of the enhanced ``noisy`` (B, N)
        against ``clean``."""
        return WAVEFORM_LOSSES[self.cfg.loss](self.cfg)(self(noisy), clean)


# (n_fft, hop) of the multi-resolution STFT loss: 16, 32 and 64 ms windows at 16 kHz
STFT_LOSS_RESOLUTIONS = ((256, 64), (512, 128), (1024, 256))
# weight of the waveform L1 next to the STFT terms: speech at -25 dBFS has |x| ~ 0.05,
# so the L1 is ~100x smaller than the (scale-free) STFT terms without it
L1_WEIGHT = 10.0


# the absolute floor of the log magnitudes (and the least a relative floor may be)
LOG_FLOOR = 1e-5


def multi_resolution_stft_loss(
    estimate: torch.Tensor, clean: torch.Tensor, log_floor_db: float | None = None
) -> torch.Tensor:
    """Mean over resolutions of spectral convergence + L1 of log magnitudes, the logs
    floored ``log_floor_db`` below each reference's loudest bin (None: at 1e-5)."""
    total = estimate.new_zeros(())
    for n_fft, hop in STFT_LOSS_RESOLUTIONS:
        window = torch.hann_window(n_fft, device=estimate.device)
        est, ref = (
            torch.stft(w, n_fft, hop, window=window, return_complex=True).abs()
            for w in (estimate, clean)
        )
        convergence = torch.linalg.norm(ref - est) / torch.linalg.norm(ref).clamp_min(1e-8)
        floor = LOG_FLOOR
        if log_floor_db is not None:
            peak = ref.amax(dim=(-2, -1), keepdim=True)
            floor = (peak * 10 ** (-log_floor_db / 20)).clamp_min(LOG_FLOOR)
        log_magnitude = F.l1_loss(torch.log(est + floor), torch.log(ref + floor))
        total = total + convergence + log_magnitude
    return total / len(STFT_LOSS_RESOLUTIONS)


# the thresholded SNR loss saturates here: past it, a clean-to-clean pair passed through
# almost exactly would otherwise get an ever larger gradient (d log e / d e = 1 / e)
SNR_LOSS_CAP_DB = 30.0
# mean power (dBFS) below which a reference crop counts as silent for the SNR term
SNR_LOSS_SILENT_DBFS = -60.0


def thresholded_snr_loss(estimate: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Mean over examples of minus the SNR in dB of ``estimate`` against ``clean``, with
    the error power floored at the clean power times 10^(-cap/10) (so at most the cap).
    An example whose reference is below SNR_LOSS_SILENT_DBFS has no SNR to speak of and
    is left out: its floor would be ~0, and the loss's gradient (~1/error) unbounded."""
    signal = clean.pow(2).sum(dim=-1)
    error = (clean - estimate).pow(2).sum(dim=-1)
    audible = signal > clean.shape[-1] * 10 ** (SNR_LOSS_SILENT_DBFS / 10)
    # masked rather than indexed: no host sync or data-dependent shape in the training
    # step; silent examples get a constant (signal 1, error 0), so no gradient and no NaN
    signal = torch.where(audible, signal, torch.ones_like(signal))
    error = torch.where(audible, error, torch.zeros_like(error))
    snr_db = 10.0 * torch.log10(signal / (error + signal * 10 ** (-SNR_LOSS_CAP_DB / 10)))
    return -(snr_db * audible).sum() / audible.sum().clamp(min=1)


def l1_stft_loss(
    estimate: torch.Tensor,
    clean: torch.Tensor,
    log_floor_db: float | None = None,
    snr_weight: float = 0.0,
) -> torch.Tensor:
    """Waveform L1 (x10) plus the multi-resolution STFT loss (spectral convergence and L1
    of floored log magnitudes at 16/32/64 ms) of ``estimate`` against ``clean`` (B, N)."""
    total = L1_WEIGHT * F.l1_loss(estimate, clean) + multi_resolution_stft_loss(
        estimate, clean, log_floor_db
    )
    if snr_weight:
        total = total + snr_weight * thresholded_snr_loss(estimate, clean)
    return total


# loss name -> the objective for a model config (a loss with options reads them there)
WAVEFORM_LOSSES = {
    "mse": lambda cfg: F.mse_loss,
    "l1_stft": lambda cfg: partial(
        l1_stft_loss, log_floor_db=cfg.log_floor_db, snr_weight=cfg.snr_weight
    ),
}


def _waveunet_config(cfg: dict) -> WaveUNetConfig:
    cfg = dict(cfg)
    if "attention_levels" in cfg:
        cfg["attention_levels"] = tuple(cfg["attention_levels"])
    if cfg.get("loss", "mse") not in WAVEFORM_LOSSES:
        raise ValueError(
            f"se.models.*.loss {cfg['loss']!r}: choose one of {sorted(WAVEFORM_LOSSES)}"
        )
    for key in L1_STFT_ONLY_KEYS:
        if cfg.get(key) and cfg.get("loss", "mse") != "l1_stft":
            raise ValueError(f"se.models.*.{key} applies to loss l1_stft only")
    return WaveUNetConfig(**cfg)


def build_waveunet(cfg: dict) -> nn.Module:
    """The Wave-U-Net from its config dict."""
    cfg = {**cfg, "attention_levels": ()}
    return WaveUNet(_waveunet_config(cfg))


def build_unet_at(cfg: dict) -> nn.Module:
    """U-Net_At (the Wave-U-Net with attention gates) from its config dict."""
    built = _waveunet_config(cfg)
    if not built.attention_levels:
        raise ValueError(
            "se model unet_at needs at least one attention level (se.models.unet_at.attention_levels)"
        )
    bad = [lv for lv in built.attention_levels if not 1 <= lv <= built.layers]
    if bad:
        raise ValueError(f"se.models.unet_at.attention_levels {bad} outside 1..{built.layers}")
    return WaveUNet(built)

"""The DNN regression enhancer of Xu, Du, Dai & Lee (2015); see :mod:`advspeech.se`."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DNNConfig:
    """Settings of the DNN (config ``se.models.dnn``)."""

    n_fft: int = 512
    hop_length: int = 256
    context: int = 3
    hidden: int = 1024
    layers: int = 3
    dropout: float = 0.0
    # predict the clean LPS as the noisy LPS plus a learned correction, the last layer
    # zero-initialised: the untrained model passes its input through, and on the small
    # default budget it learns what to remove instead of re-synthesising every bin (the
    # direct regression of Xu et al. stayed below the unprocessed input on PESQ and STOI)
    residual: bool = True
    # global variance equalisation (Xu et al. 2015, Sec. IV-C): the regression
    # over-smooths, so the estimate is scaled by this factor about the global clean mean
    # (in normalised LPS units) before resynthesis; 1.0 switches it off
    variance_scale: float = 1.4
    # never raise a time-frequency bin above the noisy input (gain <= 1): the regression
    # otherwise inflates quiet bins and lowers the SNR at high input SNRs
    gain_cap: bool = True


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

    def _frames(self) -> dict:
        """The STFT's framing, shared by analysis and synthesis (perfect reconstruction
        needs them equal)."""
        return {
            "n_fft": self.cfg.n_fft,
            "hop_length": self.cfg.hop_length,
            "window": self.window,
            "center": True,
        }

    def _stft(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.stft(wave, **self._frames(), return_complex=True)

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
        """Noisy waveforms (B, N) -> enhanced (B, N): LPS regression, noisy-phase
        resynthesis."""
        magnitude, spec = self.enhanced_magnitude(noisy)
        enhanced = torch.polar(magnitude, torch.angle(spec))
        return torch.istft(enhanced, **self._frames(), length=noisy.shape[-1])

    def loss(self, noisy: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        """MSE of the normalised clean LPS and the regression from ``noisy`` (B, N)."""
        pred, _, _ = self._predict_normalised(noisy)
        target = (self._lps(self._stft(clean)) - self.out_mean[:, None]) / self.out_std[:, None]
        return F.mse_loss(pred, target)


def build_dnn(cfg: dict) -> nn.Module:
    """The DNN from its config dict."""
    return DNNEnhancer(DNNConfig(**cfg))

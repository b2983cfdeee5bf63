"""The victim recogniser: a DeepSpeech-family CTC model, differentiable from the waveform.

Why not Mozilla DeepSpeech itself: its PyPI wheels stop at Python 3.9 and its weights
are release downloads, and the attacks need gradients through the whole model. So, as
ART and armory do with deepspeech.pytorch, the victim here is a recogniser of the same
family that the workflow trains: the paper's MFCC front end (Eq. 2; DeepSpeech's
25 ms / 10 ms frames, 26 mel filters, 26 cepstra, lifter 22, pre-emphasis 0.97)
computed with torchaudio inside the model, 1-D convolutions, bidirectional GRU/LSTM
layers, and a linear layer to the 29-symbol alphabet, trained with CTC.

Anything that can transcribe audio can be a victim: a CTC model over this alphabet is
one builder registered in :data:`advspeech.asr.RECOGNISERS` (docs/extending.md);
anything else implements :class:`Recognizer` (``transcribe``, and ``loss`` where
differentiable).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

from advspeech import SAMPLE_RATE
from advspeech.core.fft import power_spectrum
from advspeech.core.text import ALPHABET, check_in_alphabet

BLANK_INDEX = 0
_CHAR_TO_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def encode_text(text: str) -> list[int]:
    """Characters -> label indices (1..28); raises ValueError outside the alphabet."""
    check_in_alphabet(text)
    return [_CHAR_TO_INDEX[c] for c in text]


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor) -> list[str]:
    """Best path: argmax per frame, merge repeats, drop blanks. log_probs (T, B, C)."""
    best = log_probs.argmax(dim=-1).T.cpu().numpy()  # (B, T)
    texts = []
    for row, n in zip(best, lengths.cpu().numpy(), strict=True):
        row = row[: int(n)]
        keep = np.ones(len(row), dtype=bool)
        keep[1:] = row[1:] != row[:-1]
        chars = [ALPHABET[i] for i in row[keep] if i != BLANK_INDEX]
        texts.append(" ".join("".join(chars).split()))
    return texts


# --- front end -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FrontEndConfig:
    """MFCC parameters (DeepSpeech's, from Yakura & Sakuma's reference)."""

    n_mfcc: int = 26
    n_mels: int = 26
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    preemphasis: float = 0.97
    lifter: int = 22


class MFCCFrontEnd(nn.Module):
    """Waveform (B, N) -> normalised MFCC (B, n_mfcc, T), differentiable end to end."""

    def __init__(self, cfg: FrontEndConfig):
        super().__init__()
        self.cfg = cfg
        self.mfcc = torchaudio.transforms.MFCC(
            sample_rate=SAMPLE_RATE,
            n_mfcc=cfg.n_mfcc,
            log_mels=True,
            melkwargs={
                "n_fft": cfg.n_fft,
                "win_length": cfg.win_length,
                "hop_length": cfg.hop_length,
                "n_mels": cfg.n_mels,
                "center": False,
                "f_min": 20.0,
                "f_max": SAMPLE_RATE / 2,
            },
        )
        n = torch.arange(cfg.n_mfcc, dtype=torch.float32)
        lift = (
            1.0 + (cfg.lifter / 2.0) * torch.sin(math.pi * n / cfg.lifter)
            if cfg.lifter
            else torch.ones_like(n)
        )
        self.register_buffer("lift", lift[:, None], persistent=False)

    def frame_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Frames that lie wholly inside each signal. torch.stft (center=False) frames
        span n_fft samples (the 400-sample window sits in the middle of 512), so a
        count based on win_length would reach into the padding of a batch."""
        lengths = torch.clamp(lengths, min=self.cfg.n_fft)
        return 1 + (lengths - self.cfg.n_fft) // self.cfg.hop_length

    def _mfcc(self, wave: torch.Tensor) -> torch.Tensor:
        """``self.mfcc(wave)``, (B, n_mfcc, T), with a cheaper gradient: the same
        window, mel filters and DCT (torchaudio's, kept in ``self.mfcc``) around
        :func:`advspeech.core.fft.power_spectrum` instead of the STFT's complex magnitude.
        torch.stft (center=False) centres the win_length window in each n_fft frame;
        only the window's support is framed (the rest is multiplied by zero), and
        zero-padding it at the end instead only shifts the phase, not the power."""
        cfg, mel = self.cfg, self.mfcc.MelSpectrogram
        frames = 1 + (wave.shape[-1] - cfg.n_fft) // cfg.hop_length
        left = (cfg.n_fft - cfg.win_length) // 2
        span = cfg.hop_length * (frames - 1) + cfg.win_length
        windowed = (
            wave[:, left : left + span].unfold(-1, cfg.win_length, cfg.hop_length)
            * mel.spectrogram.window
        )
        mel_power = power_spectrum(windowed, cfg.n_fft) @ mel.mel_scale.fb  # (B, T, n_mels)
        log_mel = torch.log(mel_power + 1e-6)  # torchaudio's offset for log_mels=True
        return (log_mel @ self.mfcc.dct_mat).transpose(-1, -2)

    def forward(
        self, wave: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """MFCCs of a waveform batch: ``wave`` (B, N) at 16 kHz and ``lengths`` (B,) in
        samples -> features (B, n_mfcc, T) and frame counts (B,)."""
        if wave.shape[-1] < self.cfg.n_fft:
            wave = F.pad(wave, (0, self.cfg.n_fft - wave.shape[-1]))
        emphasised = torch.cat(
            [wave[:, :1], wave[:, 1:] - self.cfg.preemphasis * wave[:, :-1]], dim=1
        )
        feats = self._mfcc(emphasised) * self.lift  # (B, n_mfcc, T)
        frames = self.frame_lengths(lengths).clamp(max=feats.shape[-1])
        mask = torch.arange(feats.shape[-1], device=feats.device)[None, :] < frames[:, None]
        mask = mask[:, None, :].to(feats.dtype)
        # per-utterance mean/variance normalisation over the valid frames only
        count = mask.sum(dim=-1, keepdim=True).clamp(min=1.0)
        mean = (feats * mask).sum(dim=-1, keepdim=True) / count
        var = (((feats - mean) * mask) ** 2).sum(dim=-1, keepdim=True) / count
        feats = (feats - mean) / torch.sqrt(var + 1e-5) * mask
        return feats, frames


# --- acoustic model ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeepSpeechConfig:
    """Sizes of the DeepSpeech-family model (config ``asr.model``)."""

    conv_channels: int = 128
    conv_kernel: int = 11
    conv_stride: int = 3
    rnn_type: str = "gru"  # gru | lstm
    rnn_hidden: int = 192
    rnn_layers: int = 2
    dropout: float = 0.1
    front_end: FrontEndConfig = field(default_factory=FrontEndConfig)

    @classmethod
    def from_dict(cls, cfg: dict) -> DeepSpeechConfig:
        """The config from its dict (``asr.model``); ``front_end`` may be a nested dict."""
        cfg = dict(cfg)
        front = FrontEndConfig(**cfg.pop("front_end", {}))
        return cls(front_end=front, **cfg)

    def to_dict(self) -> dict:
        """The config as a JSON-able dict (stored in checkpoints)."""
        return asdict(self)


class DeepSpeechCTC(nn.Module):
    """MFCC -> Conv1d (strided in time) -> Conv1d -> bidirectional RNN -> Linear(29)."""

    def __init__(self, cfg: DeepSpeechConfig):
        super().__init__()
        if cfg.rnn_type not in ("gru", "lstm"):
            raise ValueError(f"asr rnn_type must be gru or lstm, got {cfg.rnn_type!r}")
        self.cfg = cfg
        self.front_end = MFCCFrontEnd(cfg.front_end)
        pad = cfg.conv_kernel // 2
        self.conv = nn.Sequential(
            nn.Conv1d(
                cfg.front_end.n_mfcc,
                cfg.conv_channels,
                cfg.conv_kernel,
                stride=cfg.conv_stride,
                padding=pad,
            ),
            nn.BatchNorm1d(cfg.conv_channels),
            nn.Hardtanh(0.0, 20.0),
            nn.Conv1d(cfg.conv_channels, cfg.conv_channels, cfg.conv_kernel, stride=1, padding=pad),
            nn.BatchNorm1d(cfg.conv_channels),
            nn.Hardtanh(0.0, 20.0),
        )
        rnn = nn.GRU if cfg.rnn_type == "gru" else nn.LSTM
        self.rnn = rnn(
            cfg.conv_channels,
            cfg.rnn_hidden,
            num_layers=cfg.rnn_layers,
            bidirectional=True,
            dropout=cfg.dropout if cfg.rnn_layers > 1 else 0.0,
        )
        # one-layer one-direction RNNs (first layer, later layers) that :meth:`_rnn_padded`
        # runs with self.rnn's weights; kept out of the module tree (no own parameters in
        # the state dict) and on the meta device (no memory)
        self._one_direction = tuple(
            rnn(size, cfg.rnn_hidden, device="meta")
            for size in (cfg.conv_channels, 2 * cfg.rnn_hidden)
        )
        self.dropout = nn.Dropout(cfg.dropout)
        self.output = nn.Linear(2 * cfg.rnn_hidden, len(ALPHABET))

    def output_lengths(self, frames: torch.Tensor) -> torch.Tensor:
        """Output frames (B,) of the encoder for ``frames`` (B,) feature frames (the
        strided convolution)."""
        pad = self.cfg.conv_kernel // 2
        return (frames + 2 * pad - self.cfg.conv_kernel) // self.cfg.conv_stride + 1

    def encode(
        self, feats: torch.Tensor, frames: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (B, n_mfcc, T) -> log-probabilities (T', B, 29) and their lengths."""
        # Zero the frames past each utterance's end between the two convolutions: their
        # bias/BN outputs would otherwise leak into the last valid frames of the second
        # convolution, making an utterance's output depend on the batch it is in.
        x = self.conv[:3](feats)  # (B, C, T')
        out_len = self.output_lengths(frames).clamp(min=1, max=x.shape[-1])
        valid = torch.arange(x.shape[-1], device=x.device)[None, :] < out_len[:, None]
        x = self.conv[3:](x * valid[:, None, :].to(x.dtype))
        x = x.permute(2, 0, 1)  # (T', B, C)
        # cuDNN fuses a packed bidirectional RNN into one kernel, and without gradients
        # the packed CPU RNN is the faster one too (it skips the padding). But on CPU the
        # backward of a packed RNN zero-fills a full-size tensor for every time step
        # (quadratic in length): 3.4x slower than the padded path (docs/architecture.md)
        packed = x.device.type == "cuda" or not x.requires_grad
        run = self._rnn_packed if packed else self._rnn_padded
        logits = self.output(self.dropout(run(x, out_len)))
        return F.log_softmax(logits, dim=-1), out_len

    def _rnn_packed(self, x: torch.Tensor, out_len: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(x, out_len.cpu(), enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, total_length=x.shape[0])
        return y

    def _rnn_padded(self, x: torch.Tensor, out_len: torch.Tensor) -> torch.Tensor:
        """The same function as :meth:`_rnn_packed` (same weights, zeros past each end),
        computed layer by layer and direction by direction on padded input: the forward
        direction never sees the padding before a valid frame, and the reverse direction
        runs on each sequence reversed within its own length, so the padding stays last."""
        rnn = self.rnn
        steps = torch.arange(x.shape[0], device=x.device)[:, None]
        valid = steps < out_len[None, :]
        flip = torch.where(valid, out_len[None, :] - 1 - steps, steps)[:, :, None]

        def reverse(t: torch.Tensor) -> torch.Tensor:
            return t.gather(0, flip.expand_as(t))

        for layer in range(rnn.num_layers):
            if layer > 0:  # nn.GRU/LSTM's inter-layer dropout
                x = F.dropout(x, rnn.dropout, training=rnn.training)
            outputs = []
            for suffix, inputs in (("", x), ("_reverse", reverse(x))):
                weights = {
                    f"{name}_l0": getattr(rnn, f"{name}_l{layer}{suffix}")
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                }
                template = self._one_direction[min(layer, 1)]
                outputs.append(torch.func.functional_call(template, weights, (inputs,))[0])
            x = torch.cat([outputs[0], reverse(outputs[1])], dim=-1)
        return x * valid[:, :, None].to(x.dtype)

    def forward(
        self, wave: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Waveforms (B, N) and lengths (B,) in samples -> log-probabilities (T, B, 29)
        over the alphabet and output lengths (B,), as ``F.ctc_loss`` takes them."""
        feats, frames = self.front_end(wave, lengths)
        return self.encode(feats, frames)


def build_deepspeech(cfg: dict) -> DeepSpeechCTC:
    """The DeepSpeech-family recogniser from its config dict (``asr.model``); unknown
    keys are an error naming them."""
    return DeepSpeechCTC(DeepSpeechConfig.from_dict(cfg))


def ctc_loss(
    log_probs: torch.Tensor,
    out_len: torch.Tensor,
    targets: Sequence[str],
    reduction: str = "mean",
) -> torch.Tensor:
    """CTC loss of ``targets`` (strings). ``reduction='none'`` gives one value per example."""
    labels = [torch.tensor(encode_text(t), dtype=torch.long) for t in targets]
    target_len = torch.tensor([len(t) for t in labels], dtype=torch.long)
    flat = torch.cat(labels).to(log_probs.device)
    return F.ctc_loss(
        log_probs,
        flat,
        out_len.to(log_probs.device),
        target_len.to(log_probs.device),
        blank=BLANK_INDEX,
        reduction=reduction,
        zero_infinity=True,
    )


def pad_batch(waves: Sequence[np.ndarray | torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """List of 1-D signals -> zero-padded (B, N) float32 tensor and lengths."""
    tensors = [torch.as_tensor(np.asarray(w, dtype=np.float32)) for w in waves]
    lengths = torch.tensor([len(t) for t in tensors], dtype=torch.long)
    batch = torch.zeros(len(tensors), int(lengths.max()))
    for i, t in enumerate(tensors):
        batch[i, : len(t)] = t
    return batch, lengths


def count_parameters(model: nn.Module) -> int:
    """Number of parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())

"""What every attack shares: the registry entry (:class:`Attack`), the job it receives
and the result it returns, the over-the-air transform (band-pass, room convolution,
recording noise), the skip rule for utterances that cannot be attacked, and the
black-box score query (:func:`query`, one counted query per signal). The room success
criterion and the budget projection are in :mod:`advspeech.attacks.parts`.

The transform is Eq. 3's expectation over playback: a signal is convolved with a room
impulse response, rescaled to its own peak and recording noise is added. ``grad``
differentiates through it; ``evo`` and the over-the-air evaluation only play through it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from advspeech import SAMPLE_RATE
from advspeech.asr.model import ctc_loss, greedy_decode, pad_batch
from advspeech.asr.recognizer import Recognizer
from advspeech.core.fft import fftconvolve


@dataclass
class AttackResult:
    """One utterance's outcome, whatever the attack."""

    adversarial: np.ndarray  # x + BPF(v): the file the attacker plays
    steps: int
    queries: int  # every signal the victim processed for the attacker (forward passes)
    seconds: float
    success: bool  # target in > half the check rooms at the last check
    success_digital: bool  # target decoded from the file itself, no room
    skipped: str = ""  # why the utterance was not attacked (then adversarial == input)


def bandpass(v: torch.Tensor, lo: float, hi: float, rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Zero every DFT bin of the real v (..., N) outside [lo, hi] Hz (both signs of the
    frequency: the same filter as masking the rFFT). On the complex FFT because an
    utterance's length is rarely a fast FFT size, and there the CPU's complex transform
    is faster than its real one and closer to the float64 result (measured in
    docs/benchmarks.md)."""
    n = v.shape[-1]
    # cast first: torch.fft.fft of a real tensor takes the slow real transform
    spec = torch.fft.fft(v.to(torch.promote_types(v.dtype, torch.complex64)))
    freqs = torch.fft.fftfreq(n, d=1.0 / rate).abs().to(v.device)
    mask = ((freqs >= lo) & (freqs <= hi)).to(spec.dtype)
    return torch.fft.ifft(spec * mask).real


def bandpass_rows(
    v: torch.Tensor, lengths: torch.Tensor, band: tuple[float, float]
) -> torch.Tensor:
    """Band-pass each row over its own length (the FFT grid must not depend on the
    padding, or a batch would differ from one-at-a-time); zero beyond the length."""
    out = torch.zeros_like(v)
    for i, n in enumerate(lengths.tolist()):
        out[i, :n] = bandpass(v[i, :n], *band)
    return out


def room_bank(rirs: Sequence[np.ndarray], device: torch.device | str = "cpu") -> torch.Tensor:
    """(R, L) the impulse responses zero-padded to the longest: rooms indexed by row."""
    bank = torch.zeros(len(rirs), max(len(r) for r in rirs), device=device)
    for j, r in enumerate(rirs):
        bank[j, : len(r)] = torch.as_tensor(np.asarray(r, dtype=np.float32), device=device)
    return bank


def play_in_rooms(
    audio: torch.Tensor,
    lengths: torch.Tensor,
    rirs: torch.Tensor,
    noise: torch.Tensor,
) -> torch.Tensor:
    """Convolve each row of ``audio`` (B, N) with its room (B, L), keep the first
    ``length`` samples, rescale to the input's peak, add ``noise`` (B, N)."""
    mask = (torch.arange(audio.shape[-1], device=audio.device)[None, :] < lengths[:, None]).to(
        audio.dtype
    )
    y = fftconvolve(audio, rirs)[..., : audio.shape[-1]] * mask
    peak_in = audio.abs().amax(dim=-1, keepdim=True)
    peak_out = y.abs().amax(dim=-1, keepdim=True).clamp(min=1e-8)
    return (y * (peak_in / peak_out) + noise) * mask


def peak_ratio_db(v: np.ndarray, x: np.ndarray) -> float:
    """Carlini & Wagner's distortion: 20 log10 max|v| - 20 log10 max|x| (dB)."""
    return float(20 * np.log10(max(np.max(np.abs(v)), 1e-12)) - 20 * np.log10(np.max(np.abs(x))))


@dataclass(frozen=True)
class AttackJob:
    """A batch of utterances to attack towards one target phrase: what every registered
    attack receives, with its settings, as ``run(job, cfg)``."""

    recognizer: Recognizer
    waves: Sequence[np.ndarray]  # each of its own length
    target: str
    rirs: Sequence[np.ndarray]  # attack rooms' impulse responses
    seeds: Sequence[int]  # one random stream per utterance
    device: torch.device | str
    # a black-box attacker's own recogniser (never the victim) and, per utterance, a
    # starting file (e.g. the surrogate's white-box example); attacks that use neither
    # ignore them
    surrogate: Recognizer | None = None
    priors: Sequence[np.ndarray] | None = None


AttackBatch = Callable[[AttackJob, object], list[AttackResult]]
"""``run(job, cfg)``: attack every utterance of ``job``, one result each, in order (the
signature of every registered attack)."""


@dataclass(frozen=True)
class Attack:
    """A registry entry (:data:`advspeech.attacks.ATTACKS`): the batched attack function
    and the builder of its settings from the config dict ``attacks.<name>``."""

    run: AttackBatch
    config: Callable[[dict], object]


def attack_unskipped(attack_batch: AttackBatch, job: AttackJob, cfg: object) -> list[AttackResult]:
    """Record a skip (input returned unchanged) for every utterance :func:`skip_reason`
    refuses and run ``attack_batch`` on the rest, keeping the input order: the batch
    function sees only utterances it can attack, as float32 arrays, on a torch device."""
    reasons = [skip_reason(job.recognizer, w, job.target) for w in job.waves]
    todo = [i for i, r in enumerate(reasons) if not r]
    results: list[AttackResult | None] = [
        AttackResult(np.asarray(w, dtype=np.float32), 0, 0, 0.0, False, False, r) if r else None
        for w, r in zip(job.waves, reasons, strict=True)
    ]
    if todo:
        attackable = replace(
            job,
            waves=[np.asarray(job.waves[i], dtype=np.float32) for i in todo],
            seeds=[job.seeds[i] for i in todo],
            priors=None if job.priors is None else [job.priors[i] for i in todo],
            device=torch.device(job.device),
        )
        attacked = attack_batch(attackable, cfg)
        for i, res in zip(todo, attacked, strict=True):
            results[i] = res
    return results


def skip_reason(recognizer: Recognizer, wave: np.ndarray, target: str) -> str:
    """Why ``wave`` cannot be attacked towards ``target`` ("" when it can)."""
    wave = np.asarray(wave)
    if wave.size == 0 or np.max(np.abs(wave)) < 1e-4:
        return "silent input"
    can_emit = getattr(recognizer, "can_emit", None)
    if can_emit is not None and not can_emit(len(wave), target):
        return f"too short ({len(wave)} samples) for the {len(target)}-character target"
    return ""


def room_noise(
    gens: Sequence[torch.Generator], lengths: torch.Tensor, count: int, n: int, sigma: float
) -> torch.Tensor:
    """(B * count, n) recording noise: each example's own stream, of its own length."""
    noise = torch.zeros(len(gens), count, n)
    for i, gen in enumerate(gens):
        length = int(lengths[i])
        noise[i, :, :length] = torch.randn(count, length, generator=gen) * sigma
    return noise.reshape(len(gens) * count, n)


@torch.no_grad()
def query(
    recognizer: Recognizer, signals: Sequence[torch.Tensor], target: str, chunk: int = 256
) -> tuple[torch.Tensor, list[str]]:
    """One black-box query per signal: the CTC score of ``target`` and the transcript,
    from a single forward pass (chunks of ``chunk`` signals)."""
    losses, texts = [], []
    for start in range(0, len(signals), chunk):
        batch, lengths = pad_batch(signals[start : start + chunk])
        device = getattr(recognizer, "device", torch.device("cpu"))
        log_probs, out_len = recognizer.log_probs(batch.to(device), lengths.to(device))
        losses.append(ctc_loss(log_probs, out_len, [target] * len(lengths), reduction="none").cpu())
        texts += greedy_decode(log_probs, out_len)
    return torch.cat(losses), texts

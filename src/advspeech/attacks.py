"""Targeted audio attacks made robust to playback in a room (paper Sec. 2, Eq. 1-3).

``grad`` (:func:`robust_ota_attack`) follows Yakura & Sakuma (2019): the perturbation v
is band-passed to 1-4 kHz (rFFT mask), added to the utterance, the sum is convolved
with an impulse response drawn from the *attack* rooms, rescaled to the clean peak, and
recording noise is added; the loss is the CTC loss of the target phrase averaged over
several rooms a step (expectation over transformations, Eq. 3) plus ``l2_weight`` times
the mean square of the played perturbation BPF(v) (Eq. 3's ||v|| term; 0 by default,
where the bound alone limits the perturbation). Adam updates v, and v is then scaled
so that the perturbation *as played*, BPF(v), stays within the l_inf bound: the bound
holds for what is added to the speech, not for v before its band-pass (scaling keeps
the perturbation inside the band, where clipping would not). Every ``check_every`` steps the
current example is played in ``check_rooms`` attack rooms drawn afresh (uniformly, not
the hard rooms the step optimises) and decoded: it counts as a success when the target
is decoded exactly in more than half of them (Yakura's criterion), but it keeps being
optimised until the target is decoded in ``stop_fraction`` of them at ``stop_checks``
checks in a row (one lucky check of an example that fails in a quarter of the rooms
passes now and then). Stopping at the first bare majority leaves examples that just
pass in the rooms they were tuned on and fail in held-out rooms; the margin is what
carries them over the air.

Batched: utterances of different lengths are attacked together (zero padding, masks);
every example has its own random stream (rooms, noise) and Adam is element-wise, so a
batch gives the same result as attacking each utterance alone, only faster. An example
that has stopped leaves the batch: later steps compute only the examples still being
attacked, padded to the longest of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from advspeech import SAMPLE_RATE
from advspeech.asr import Recognizer
from advspeech.dsp import fftconvolve, snr_budget_scale
from advspeech.text import check_in_alphabet


@dataclass(frozen=True)
class OverTheAirConfig:
    """The playback-and-recording transform of Eq. 3."""

    band_hz: tuple[float, float] = (1000.0, 4000.0)
    rooms_per_step: int = 4
    noise_std: tuple[float, float] = (0.001, 0.005)  # recording noise, ramped over the attack


@dataclass(frozen=True)
class RobustAttackConfig:
    steps: int = 600
    lr: float = 0.005
    linf: float = 0.1
    # the paper's budget: every example's perturbation as played, BPF(v), is projected
    # so that SNR(x, x + BPF(v)) >= snr_db (None: the l_inf bound alone)
    snr_db: float | None = None
    l2_weight: float = 0.0  # eps of Eq. 3 on the mean square of the played BPF(v)
    check_every: int = 10
    check_rooms: int = 16  # fresh attack rooms decoded at each check (distinct rooms)
    stop_fraction: float = 1.0  # of the check rooms that must decode the target to stop
    stop_checks: int = 1  # consecutive checks that must meet stop_fraction to stop
    ota: OverTheAirConfig = OverTheAirConfig()


@dataclass
class AttackResult:
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
    is about 3x faster than its real one (forward and backward of a batch of 16: 0.23
    -> 0.17 s) and closer to the float64 result."""
    n = v.shape[-1]
    # cast first: torch.fft.fft of a real tensor takes the slow real transform
    spec = torch.fft.fft(v.to(torch.promote_types(v.dtype, torch.complex64)))
    freqs = torch.fft.fftfreq(n, d=1.0 / rate).abs().to(v.device)
    mask = ((freqs >= lo) & (freqs <= hi)).to(spec.dtype)
    return torch.fft.ifft(spec * mask).real


def _bandpass_rows(
    v: torch.Tensor, lengths: torch.Tensor, band: tuple[float, float]
) -> torch.Tensor:
    """Band-pass each row over its own length (the FFT grid must not depend on the
    padding, or a batch would differ from one-at-a-time); zero beyond the length."""
    out = torch.zeros_like(v)
    for i, n in enumerate(lengths.tolist()):
        out[i, :n] = bandpass(v[i, :n], *band)
    return out


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


def db_x(v: np.ndarray, x: np.ndarray) -> float:
    """Carlini & Wagner's distortion: 20 log10 max|v| - 20 log10 max|x| (dB)."""
    return float(20 * np.log10(max(np.max(np.abs(v)), 1e-12)) - 20 * np.log10(np.max(np.abs(x))))


def robust_ota_attack(
    recognizer: Recognizer,
    waves: Sequence[np.ndarray],
    target: str,
    rirs: Sequence[np.ndarray],
    cfg: RobustAttackConfig,
    seeds: Sequence[int],
    device: torch.device,
    on_check: Callable[[int, np.ndarray], None] | None = None,
) -> list[AttackResult]:
    """Attack a batch of utterances at once (see module docstring). ``on_check(step,
    adversarial)``, if given, sees the (batch, samples) adversarial signals, padded, at
    every check: a budget curve from one run (bench/attack_budget_curve.py)."""
    check_in_alphabet(target, "target phrase")
    if not recognizer.differentiable:
        raise TypeError("the grad attack needs a differentiable recogniser")
    if not rirs:
        raise ValueError("the grad attack needs at least one attack room impulse response")
    return attack_unskipped(
        partial(_attack_batch, on_check=on_check),
        recognizer,
        waves,
        target,
        rirs,
        cfg,
        seeds,
        device,
    )


def attack_unskipped(
    attack_batch, recognizer, waves, target, rirs, cfg, seeds, device
) -> list[AttackResult]:
    """Record a skip (input returned unchanged) for every utterance :func:`skip_reason`
    refuses and run ``attack_batch`` on the rest, keeping the input order."""
    reasons = [skip_reason(recognizer, w, target) for w in waves]
    todo = [i for i, r in enumerate(reasons) if not r]
    results: list[AttackResult | None] = [
        AttackResult(np.asarray(w, dtype=np.float32), 0, 0, 0.0, False, False, r) if r else None
        for w, r in zip(waves, reasons, strict=True)
    ]
    if todo:
        attacked = attack_batch(
            recognizer,
            [np.asarray(waves[i], dtype=np.float32) for i in todo],
            target,
            rirs,
            cfg,
            [seeds[i] for i in todo],
            device,
        )
        for i, res in zip(todo, attacked, strict=True):
            results[i] = res
    return results


def skip_reason(recognizer: Recognizer, wave: np.ndarray, target: str) -> str:
    wave = np.asarray(wave)
    if wave.size == 0 or np.max(np.abs(wave)) < 1e-4:
        return "silent input"
    can_emit = getattr(recognizer, "can_emit", None)
    if can_emit is not None and not can_emit(len(wave), target):
        return f"too short ({len(wave)} samples) for the {len(target)}-character target"
    return ""


def _attack_batch(
    recognizer, waves, target, rirs, cfg, seeds, device, on_check=None
) -> list[AttackResult]:
    b, k, band = len(waves), cfg.ota.rooms_per_step, cfg.ota.band_hz
    lengths_cpu = torch.tensor([len(w) for w in waves])
    lengths = lengths_cpu.to(device)
    n = int(lengths_cpu.max())
    x = torch.zeros(b, n, device=device)
    for i, w in enumerate(waves):
        x[i, : len(w)] = torch.as_tensor(w, device=device)
    mask = (torch.arange(n, device=device)[None, :] < lengths[:, None]).to(x.dtype)
    x_energy = x.pow(2).sum(dim=-1)
    rir_len = max(len(r) for r in rirs)
    room_bank = torch.zeros(len(rirs), rir_len, device=device)
    for j, r in enumerate(rirs):
        room_bank[j, : len(r)] = torch.as_tensor(r, device=device)
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    v = torch.zeros(b, n, device=device)
    for i, g in enumerate(gens):  # Yakura: start from small Gaussian noise
        v[i, : len(waves[i])] = 1e-3 * torch.randn(len(waves[i]), generator=g).to(device)
    v.requires_grad_(True)
    opt = torch.optim.Adam([v], lr=cfg.lr)
    # hard-room sampling: each example draws rooms in proportion to its last loss there
    room_loss = torch.ones(b, len(rirs))
    active = torch.ones(b, dtype=torch.bool)
    steps_used = torch.zeros(b, dtype=torch.long)
    checks_used = torch.zeros(b, dtype=torch.long)
    success = torch.zeros(b, dtype=torch.bool)
    passed_in_a_row = torch.zeros(b, dtype=torch.long)
    t0 = time.time()
    for step in range(1, cfg.steps + 1):
        if not active.any():
            break
        frac = (step - 1) / max(1, cfg.steps - 1)
        sigma = cfg.ota.noise_std[0] + frac * (cfg.ota.noise_std[1] - cfg.ota.noise_std[0])
        # only the examples still being attacked are computed, trimmed to the longest of
        # them: a stopped example costs nothing and the rest do not depend on it
        rows = active.nonzero().squeeze(1)
        rows_d = rows.to(device)
        lens, lens_cpu = lengths[rows_d], lengths_cpu[rows]  # sizes read on the host: no sync
        width = int(lens_cpu.max())
        row_gens = [gens[i] for i in rows.tolist()]
        rooms = torch.stack(
            [
                torch.multinomial(room_loss[i], k, replacement=True, generator=gens[i])
                for i in rows.tolist()
            ]
        )
        noise = _room_noise(row_gens, lens_cpu, k, width, sigma).to(device)
        played = _bandpass_rows(v[rows_d, :width], lens_cpu, band)
        perturbed = (x[rows_d, :width] + played).clamp(-1, 1)
        rep_len = lens.repeat_interleave(k)
        heard = play_in_rooms(
            perturbed.repeat_interleave(k, dim=0),
            rep_len,
            room_bank[rooms.reshape(-1).to(device)],
            noise,
        )
        per_trial = recognizer.loss(heard, rep_len, [target] * (len(rows) * k)).reshape(-1, k)
        trial_loss = per_trial.detach().cpu().clamp(min=1e-3)  # one device sync a step
        for j, i in enumerate(rows.tolist()):
            room_loss[i, rooms[j]] = 0.5 * room_loss[i, rooms[j]] + 0.5 * trial_loss[j]
        l2 = played.pow(2).sum(dim=-1) / lens
        loss = (per_trial.mean(dim=1) + cfg.l2_weight * l2).sum()
        opt.zero_grad()
        loss.backward()
        # Adam moves a row with zero gradient through its momentum: hold stopped rows
        stopped = (~active).to(device)
        frozen = v.detach()[stopped].clone()
        opt.step()
        with torch.no_grad():
            v.mul_(mask)
            v[stopped] = frozen
            _bound_played(v, rows_d, lens_cpu, width, band, cfg.linf, x_energy[rows_d], cfg.snr_db)
        steps_used[active] = step
        if step % cfg.check_every == 0 or step == cfg.steps:
            with torch.no_grad():
                current = _adversarial(x[rows_d, :width], v[rows_d, :width], lens_cpu, band)
                if on_check is not None:
                    on_check(step, _adversarial(x, v, lengths_cpu, band).cpu().numpy())
            hits = _check_in_rooms(
                recognizer, current, lens, room_bank, sigma, row_gens, target, cfg
            )
            checks_used[rows] += 1
            success[rows] = hits > 0.5
            passed = hits >= cfg.stop_fraction
            passed_in_a_row[rows] = torch.where(passed, passed_in_a_row[rows] + 1, 0)
            active[rows] = passed_in_a_row[rows] < cfg.stop_checks
    seconds = time.time() - t0
    check_rooms = min(cfg.check_rooms, len(rirs))  # distinct rooms per check
    with torch.no_grad():
        adversarial = _adversarial(x, v, lengths_cpu, band).cpu().numpy()
    files = [adversarial[i, : len(waves[i])] for i in range(b)]
    digital = recognizer.transcribe(files)
    return [
        AttackResult(
            adversarial=files[i],
            steps=int(steps_used[i]),
            # gradient queries, check decodes and the final digital transcription
            queries=int(steps_used[i]) * k + int(checks_used[i]) * check_rooms + 1,
            seconds=seconds / b,
            success=bool(success[i]),
            success_digital=digital[i] == target,
        )
        for i in range(b)
    ]


def _bound_played(
    v: torch.Tensor,
    rows: torch.Tensor,
    lengths: torch.Tensor,
    width: int,
    band: tuple[float, float],
    linf: float,
    x_energy: torch.Tensor,
    snr_db: float | None,
) -> None:
    """Scale each row of ``v`` (in place) so that its band-passed version, the
    perturbation as played, has peak at most ``linf`` and, with ``snr_db``, energy at
    most ``x_energy`` (the clean rows' sum of squares) times 10^(-snr_db / 10).

    Both are bounds on a norm of the linear BPF(v), so scaling v by the smaller factor
    projects onto both and keeps the perturbation inside the band."""
    played = _bandpass_rows(v[rows, :width], lengths, band)
    scale = (linf / played.abs().amax(dim=-1).clamp(min=1e-12)).clamp(max=1.0)
    if snr_db is not None:
        energy = played.pow(2).sum(dim=-1)
        scale = torch.minimum(scale, snr_budget_scale(x_energy, energy, snr_db))
    v[rows] *= scale[:, None]


def _adversarial(x, v, lengths, band) -> torch.Tensor:
    """x + BPF(v), clipped: the signals the attacker plays, (B, N) padded rows."""
    return (x + _bandpass_rows(v, lengths, band)).clamp(-1, 1)


def _room_noise(gens, lengths, count: int, n: int, sigma: float) -> torch.Tensor:
    """(B * count, n) recording noise: each example's own stream, of its own length."""
    noise = torch.zeros(len(gens), count, n)
    for i, gen in enumerate(gens):
        length = int(lengths[i])
        noise[i, :, :length] = torch.randn(count, length, generator=gen) * sigma
    return noise.reshape(len(gens) * count, n)


def _check_in_rooms(recognizer, perturbed, lengths, room_bank, sigma, gens, target, cfg):
    """Fraction of ``cfg.check_rooms`` freshly drawn, distinct attack rooms (+ noise) in
    which each example's current ``perturbed`` signal (x + BPF(v)) decodes exactly as
    ``target``."""
    b, n = perturbed.shape[0], perturbed.shape[-1]
    c = min(cfg.check_rooms, len(room_bank))
    rooms = torch.stack(
        [torch.randperm(len(room_bank), generator=gens[i])[:c] for i in range(b)]
    ).reshape(-1)
    noise = _room_noise(gens, lengths, c, n, sigma)
    rep_len = lengths.repeat_interleave(c)
    with torch.no_grad():
        heard = (
            play_in_rooms(
                perturbed.repeat_interleave(c, dim=0),
                rep_len,
                room_bank[rooms.to(perturbed.device)],
                noise.to(perturbed.device),
            )
            .cpu()
            .numpy()
        )
    texts = recognizer.transcribe([heard[j, : int(rep_len[j])] for j in range(b * c)])
    return torch.tensor([t == target for t in texts]).reshape(b, c).float().mean(dim=1)


def robust_config(cfg: dict) -> RobustAttackConfig:
    """``attacks.grad`` of the config -> :class:`RobustAttackConfig`."""
    return RobustAttackConfig(
        steps=cfg["steps"],
        lr=cfg["lr"],
        linf=cfg["linf"],
        snr_db=cfg.get("snr_db"),
        l2_weight=cfg["l2_weight"],
        check_every=cfg["check_every"],
        check_rooms=cfg["check_rooms"],
        stop_fraction=cfg["stop_fraction"],
        stop_checks=cfg["stop_checks"],
        ota=OverTheAirConfig(
            band_hz=tuple(cfg["band_hz"]),
            rooms_per_step=cfg["rooms_per_step"],
            noise_std=tuple(cfg["noise_std"]),
        ),
    )


@dataclass(frozen=True)
class Attack:
    """A registry entry: the batched attack function and its config builder. Every
    attack has the signature of :func:`robust_ota_attack`."""

    run: Callable[..., list[AttackResult]]
    config: Callable[[dict], object]


from advspeech.evo_attack import EvolutionaryAttackConfig, evolutionary_attack  # noqa: E402


def evolutionary_config(cfg: dict) -> EvolutionaryAttackConfig:
    """``attacks.evo`` of the config -> :class:`EvolutionaryAttackConfig`."""
    return EvolutionaryAttackConfig(**{**cfg, "band_hz": tuple(cfg["band_hz"])})


ATTACKS = {
    "grad": Attack(robust_ota_attack, robust_config),
    "evo": Attack(evolutionary_attack, evolutionary_config),
}
"""Config name -> attack; a new attack is one module and one entry here."""


# --- workflow-level helpers --------------------------------------------------------------

MANIFEST_COLUMNS = [
    "utt_id",
    "text",
    "target",
    "steps",
    "queries",
    "seconds",
    "success",
    "success_digital",
    "snr_db",
    "linf_db",
    "clean_path",
    "adv_path",
    "skipped",
]


def select_utterances(clean: pd.DataFrame, count: int | None) -> pd.DataFrame:
    """The ``count`` shortest utterances (ties by id): sources not much longer than the
    target are the ones a targeted attack can turn into the target."""
    ordered = clean.sort_values(["n_samples", "utt_id"], kind="stable")
    return ordered if count is None else ordered.head(count)


def run_attack(
    attack: str,
    recognizer: Recognizer,
    clean: pd.DataFrame,
    target: str,
    rirs: Sequence[np.ndarray],
    cfg: dict,
    out_dir: str | Path,
    seed: int,
    batch_size: int,
    device: torch.device,
) -> pd.DataFrame:
    """Attack every utterance of ``clean`` in batches with ``ATTACKS[attack]`` (its config
    dict ``cfg``); write the adversarial files and return the manifest (columns
    :data:`MANIFEST_COLUMNS`)."""
    if attack not in ATTACKS:
        raise KeyError(f"unknown attack {attack!r}; known: {sorted(ATTACKS)}")
    entry = ATTACKS[attack]
    settings = entry.config(cfg)
    from tqdm import tqdm

    from advspeech.dsp import snr_db
    from advspeech.io import read_audio, write_audio
    from advspeech.seeding import stable_seed

    out_dir = Path(out_dir)
    rows = []
    for start in tqdm(range(0, len(clean), batch_size), desc=f"{attack} attack batches"):
        part = clean.iloc[start : start + batch_size]
        waves = [read_audio(p)[0][0] for p in part["clean_path"]]
        seeds = [stable_seed(seed, "attack", u) for u in part["utt_id"]]
        results = entry.run(recognizer, waves, target, rirs, settings, seeds, device)
        for row, wave, res in zip(part.itertuples(index=False), waves, results, strict=True):
            dest = out_dir / f"{row.utt_id}.wav"
            write_audio(dest, res.adversarial, SAMPLE_RATE)
            written = read_audio(dest)[0][0]
            rows.append(
                {
                    "utt_id": row.utt_id,
                    "text": row.text,
                    "target": target,
                    "steps": res.steps,
                    "queries": res.queries,
                    "seconds": res.seconds,
                    "success": res.success,
                    "success_digital": res.success_digital,
                    "snr_db": snr_db(wave, written) if not res.skipped else float("nan"),
                    "linf_db": db_x(written - wave, wave) if not res.skipped else float("nan"),
                    "clean_path": row.clean_path,
                    "adv_path": str(dest),
                    "skipped": res.skipped,
                }
            )
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS)


def evaluate_over_the_air(
    recognizer: Recognizer,
    manifest: pd.DataFrame,
    rirs: pd.DataFrame,
    rooms_per_example: int,
    noise_std: float,
    seed: int,
    device: torch.device,
    enhancer: torch.nn.Module | None = None,
    segment: int = 16384,
) -> pd.DataFrame:
    """Play every adversarial example through ``rooms_per_example`` held-out *test*
    rooms (+ recording noise), optionally enhance, transcribe. One row per trial:
    ``utt_id,room_id,transcript,success,wer`` (success = exactly the target; WER in
    percent against the original transcript)."""
    from advspeech.io import read_audio
    from advspeech.metrics import wer_percent
    from advspeech.se import enhance_signal
    from advspeech.seeding import rng_for

    room_ids = list(rirs["room_id"])
    room_audio = {
        r: read_audio(p)[0][0] for r, p in zip(rirs["room_id"], rirs["path"], strict=True)
    }
    rows = []
    for row in manifest[manifest["skipped"].fillna("").astype(str) == ""].itertuples(index=False):
        adv = read_audio(row.adv_path)[0][0]
        rng = rng_for(seed, "ota", row.utt_id)
        chosen = rng.choice(room_ids, size=min(rooms_per_example, len(room_ids)), replace=False)
        heard = []
        for room in chosen:
            x = torch.from_numpy(adv)[None]
            noise = torch.from_numpy(rng.standard_normal(len(adv)).astype(np.float32) * noise_std)[
                None
            ]
            y = play_in_rooms(
                x, torch.tensor([len(adv)]), torch.from_numpy(room_audio[room])[None], noise
            )[0]
            if enhancer is not None:
                y = enhance_signal(enhancer, y, segment, device)
            heard.append(y.numpy())
        texts = recognizer.transcribe(heard)
        for room, text in zip(chosen, texts, strict=True):
            rows.append(
                {
                    "utt_id": row.utt_id,
                    "room_id": room,
                    "transcript": text,
                    "success": text == row.target,
                    "wer": wer_percent(row.text, text),
                }
            )
    return pd.DataFrame(rows, columns=["utt_id", "room_id", "transcript", "success", "wer"])

"""The attack's cost per robust success, side by side with Yakura & Sakuma's loop.

Two attacks on the same dev utterances against the same victim ``ds`` of a finished
run, at the same SNR budget, each example then played in the same held-out dev rooms:

- ``reference``: Yakura & Sakuma's robust over-the-air loop as published (one utterance
  at a time; each step 20 attack rooms drawn in proportion to their last loss, the
  perturbation band-passed to 1-4 kHz, added, convolved, rescaled to the clean peak,
  recording noise whose std grows by 1/0.99 whenever more than half of the step's rooms
  decode the target; CTC loss to the target; AdamW with weight decay 0.001 at lr 0.006;
  a decode check every 5 steps; up to 1,000 steps; success: the example decodes as the
  target without a room and in more than half of the step's rooms), with the
  workflow's SNR-budget projection after every step so that both work at the budget;
- ``grad``: the project's attack at config.yaml's settings, batched as the ``attack``
  rule runs it.

For each: CPU seconds (process time, all threads), wall seconds, RoSA over the held-out
dev rooms with a 95 % interval (bootstrap over voices, then utterances), mean SNR, and
CPU seconds per successful (utterance, room) trial; then the ratio reference / ours.
It reads dev data only (the test split is refused); ``--reference-utterances`` shortens
the reference (its cost is then compared per utterance).

    .venv/bin/python bench/attack_cost.py --workdir RUN [--utterances 16]
        [--reference-utterances 4] [--rooms 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from advspeech.asr.evaluate import load_recognizer
from advspeech.asr.model import pad_batch
from advspeech.asr.recognizer import Recognizer
from advspeech.attacks.base import bandpass, play_in_rooms
from advspeech.attacks.ota import evaluate_over_the_air
from advspeech.attacks.runner import run_attack, select_utterances
from advspeech.core.dsp import snr_budget_scale, snr_db
from advspeech.core.io import read_audio, read_csv, write_audio
from advspeech.core.seeding import stable_seed
from advspeech.core.torchutil import set_threads
from advspeech.data.rooms import load_rirs
from advspeech.evaluation.statistics import rate_ci
from advspeech.pipeline.config import attack_settings
from advspeech.pipeline.split_guard import TestSplitRefused, require_tuning_split

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class YakuraConfig:
    """Yakura & Sakuma's published settings (repo hiromu/robust_audio_ae)."""

    steps: int = 1000
    rooms_per_step: int = 20
    lr: float = 0.006  # 200 on int16-scale audio
    weight_decay: float = 0.001
    band_hz: tuple[float, float] = (1000.0, 4000.0)
    check_every: int = 5
    noise_std: float = 0.002  # recording noise at noise factor 1
    noise_decay: float = 0.99
    init_std: float = 0.001
    snr_db: float = 10.0


def yakura_reference(
    recognizer: Recognizer, wave: np.ndarray, target: str, rirs: list[np.ndarray],
    cfg: YakuraConfig, seed: int,
) -> tuple[np.ndarray, int, bool]:  # fmt: skip
    """One utterance attacked with Yakura & Sakuma's loop; returns the example (x plus
    the band-passed perturbation), the steps taken and whether it succeeded."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(np.asarray(wave, dtype=np.float32))
    n = x.shape[0]
    v = (torch.randn(n, generator=gen) * cfg.init_std).requires_grad_(True)
    opt = torch.optim.AdamW([v], lr=cfg.lr, weight_decay=cfg.weight_decay)
    room_loss = np.ones(len(rirs))
    room_bank, lengths = pad_batch(rirs)
    factor, energy = 1.0, torch.sum(x**2)
    lens = torch.full((cfg.rooms_per_step,), n)
    for step in range(1, cfg.steps + 1):
        p = room_loss / room_loss.sum()
        chosen = np.random.default_rng(seed + step).choice(len(rirs), cfg.rooms_per_step, p=p)
        played = (x + bandpass(v, *cfg.band_hz))[None].expand(cfg.rooms_per_step, n)
        noise = torch.randn(cfg.rooms_per_step, n, generator=gen) * (cfg.noise_std / factor)
        heard = play_in_rooms(played, lens, room_bank[chosen], noise)
        losses = recognizer.loss(heard, lens, [target] * cfg.rooms_per_step)
        opt.zero_grad()
        losses.mean().backward()
        opt.step()
        with torch.no_grad():  # the workflow's budget, on the perturbation as added
            bpf = bandpass(v, *cfg.band_hz)
            v.mul_(snr_budget_scale(energy, torch.sum(bpf**2), cfg.snr_db))
        room_loss[chosen] = losses.detach().numpy()
        if step % cfg.check_every == 0:
            texts = recognizer.transcribe([h.detach().numpy() for h in heard])
            rooms_ok = sum(t == target for t in texts) > cfg.rooms_per_step / 2
            if rooms_ok:
                factor *= cfg.noise_decay
            example = (x + bandpass(v, *cfg.band_hz)).detach().numpy()
            if rooms_ok and recognizer.transcribe([example])[0] == target:
                return example, step, True
    return (x + bandpass(v, *cfg.band_hz)).detach().numpy(), cfg.steps, False


def measure(name: str, attack, utterances: pd.DataFrame, out: Path, rooms, args, target):
    """Run ``attack(utterances, out) -> manifest`` and score its examples over the air."""
    out.mkdir(parents=True, exist_ok=True)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    manifest = attack(utterances, out)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    trials = evaluate_over_the_air(
        args.recognizer, manifest, rooms, args.rooms, args.noise_std, args.seed, torch.device("cpu")
    )
    rosa = rate_ci(trials["success"].astype(float), trials["utt_id"], seed=0)
    successes = int(trials["success"].sum())
    return {
        "method": name,
        "utterances": len(manifest),
        "cpu_s": cpu,
        "wall_s": wall,
        "cpu_s_per_utterance": cpu / max(len(manifest), 1),
        "rosa": rosa.mean,
        "rosa_low": rosa.low,
        "rosa_high": rosa.high,
        "snr_db": float(manifest["snr_db"].mean()),
        "successful_trials": successes,
        "trials": len(trials),
        "cpu_s_per_success": cpu / successes if successes else float("inf"),
    }


def reference_attack(args, rirs, target, cfg: YakuraConfig):
    def attack(utterances: pd.DataFrame, out: Path) -> pd.DataFrame:
        rows = []
        for row in utterances.itertuples(index=False):
            wave = read_audio(row.clean_path)[0][0]
            seed = stable_seed(args.seed, "reference", row.utt_id)
            example, steps, ok = yakura_reference(args.recognizer, wave, target, rirs, cfg, seed)
            path = out / f"{row.utt_id}.wav"
            write_audio(path, example, 16000)
            rows.append({"utt_id": row.utt_id, "text": row.text, "target": target,
                         "adv_path": str(path), "skipped": "", "steps": steps, "success": ok,
                         "snr_db": snr_db(wave, read_audio(path)[0][0])})  # fmt: skip
        return pd.DataFrame(rows)

    return attack


def grad_attack(args, rirs, target, config: dict):
    def attack(utterances: pd.DataFrame, out: Path) -> pd.DataFrame:
        return run_attack(
            "grad", args.recognizer, utterances, target, rirs, attack_settings(config, "grad"),
            out, seed=args.seed, batch_size=config["attacks"]["batch_size"],
            device=torch.device("cpu"),
        )  # fmt: skip

    return attack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=".", help="a finished workflow run")
    parser.add_argument("--split", default="dev", help="utterances and held-out rooms (dev)")
    parser.add_argument("--utterances", type=int, default=16)
    parser.add_argument("--reference-utterances", type=int, default=None)
    parser.add_argument("--reference-steps", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=20, help="held-out rooms per example")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--configfile", default=str(REPO / "config.yaml"))
    parser.add_argument("--out", default="results/bench/attack_cost")
    args = parser.parse_args()
    try:
        require_tuning_split(args.split, "bench/attack_cost.py")
    except TestSplitRefused as err:
        parser.error(str(err))
    config = yaml.safe_load(Path(args.configfile).read_text())
    os.chdir(args.workdir)
    set_threads(args.threads)
    target = config["target_phrase"]
    args.seed, args.noise_std = config["seed"], config["attacks"]["ota"]["noise_std"]
    args.recognizer = load_recognizer("results/models/asr/ds.pt", torch.device("cpu"))
    clean = read_csv(f"results/data/clean/{args.split}.csv")
    utterances = select_utterances(clean, args.utterances)
    attack_rooms = load_rirs("results/data/rirs/attack.csv")
    held_out = read_csv(f"results/data/rirs/{args.split}.csv")
    out = Path(args.out)
    n_ref = args.reference_utterances or args.utterances
    yakura = YakuraConfig(steps=args.reference_steps, snr_db=config["attacks"]["snr_db"],
                          noise_std=args.noise_std)  # fmt: skip
    rows = [
        measure("reference (Yakura & Sakuma)", reference_attack(args, attack_rooms, target, yakura),
                utterances.head(n_ref), out / "reference", held_out, args, target),
        measure("grad (this project)", grad_attack(args, attack_rooms, target, config),
                utterances, out / "grad", held_out, args, target),
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    table.to_csv(out / "attack_cost.csv", index=False)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    ref, ours = rows
    print(
        f"\ncost per successful trial, reference / ours: "
        f"{ref['cpu_s_per_success'] / ours['cpu_s_per_success']:.2f}x "
        f"(CPU s {ref['cpu_s_per_success']:.1f} vs {ours['cpu_s_per_success']:.1f}); "
        f"per utterance {ref['cpu_s_per_utterance'] / ours['cpu_s_per_utterance']:.2f}x; "
        f"RoSA reference {ref['rosa']:.1f} [{ref['rosa_low']:.1f}, {ref['rosa_high']:.1f}] %, "
        f"ours {ours['rosa']:.1f} [{ours['rosa_low']:.1f}, {ours['rosa_high']:.1f}] % "
        f"on {args.split} ({ref['utterances']} and {ours['utterances']} utterances)"
    )


if __name__ == "__main__":
    main()

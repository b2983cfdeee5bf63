"""Batched attacks vs the one-utterance-at-a-time loop of the reference code.

For ``grad`` (Adam steps) and ``evo`` (generations of ``--population`` queries): same
recogniser (config.yaml's size, random weights: speed does not depend on them), same
utterances, same steps, same machine, in one run; prints both times, the speed-up and
the peak memory of each (CPU: max RSS growth; CUDA: max allocated).

    .venv/bin/python bench/attack_throughput.py [--batch 16] [--steps 10] [--device cpu]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from advspeech.asr import build_asr
from advspeech.asr.recognizer import CTCRecognizer
from advspeech.attacks.base import AttackJob
from advspeech.attacks.evo import EvolutionaryAttackConfig, evolutionary_attack
from advspeech.attacks.grad import OverTheAirConfig, RobustAttackConfig, robust_ota_attack

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--population", type=int, default=32)
    parser.add_argument("--attacks", nargs="+", default=["grad", "evo"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    torch.manual_seed(0)
    recognizer = CTCRecognizer(build_asr("ds", cfg["asr"]["model"]), device)
    rng = np.random.default_rng(0)
    waves = [
        0.05 * rng.standard_normal(int(rng.uniform(1.5, 3.0) * 16000)).astype(np.float32)
        for _ in range(args.batch)
    ]
    rooms = [
        (np.exp(-np.arange(4000) / 800) * rng.standard_normal(4000)).astype(np.float32)
        for _ in range(8)
    ]
    grad_cfg = RobustAttackConfig(
        steps=args.steps, check_every=args.steps, ota=OverTheAirConfig(rooms_per_step=4)
    )
    evo_cfg = EvolutionaryAttackConfig(
        queries=args.steps * args.population, population=args.population, rooms_per_check=0
    )
    runs = {
        "grad": (robust_ota_attack, grad_cfg, "steps x 4 rooms"),
        "evo": (evolutionary_attack, evo_cfg, f"generations x {args.population} queries"),
    }
    seeds = list(range(args.batch))

    def measure(fn):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
            torch.cuda.synchronize()
        before = peak_rss_mib()
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
            mem = torch.cuda.max_memory_allocated() / 2**20
        else:
            mem = peak_rss_mib() - before
        return time.perf_counter() - t0, mem

    for name in args.attacks:
        attack, cfg, unit = runs[name]
        # one at a time first, so the batched run's RSS peak is not hidden by it
        single_s, single_mem = measure(
            lambda attack=attack, cfg=cfg: [
                attack(AttackJob(recognizer, [w], "open the door", rooms, [s], device), cfg)
                for w, s in zip(waves, seeds, strict=True)
            ]
        )
        batch_s, batch_mem = measure(
            lambda attack=attack, cfg=cfg: attack(
                AttackJob(recognizer, waves, "open the door", rooms, seeds, device), cfg
            )
        )
        print(f"\n{name}: device {device}, {args.batch} utterances x {args.steps} {unit}")
        print(f"{'mode':16} {'seconds':>9} {'s/step':>8} {'peak mem MiB':>13}")
        print(
            f"{'one at a time':16} {single_s:>9.2f} {single_s / args.steps:>8.3f} "
            f"{single_mem:>13.0f}"
        )
        print(f"{'batched':16} {batch_s:>9.2f} {batch_s / args.steps:>8.3f} {batch_mem:>13.0f}")
        print(f"{name} speed-up: {single_s / batch_s:.1f}x")


if __name__ == "__main__":
    main()

"""Success of the ``grad`` attack against its step budget, over the air, from one run.

Runs the attack of ``attacks.grad`` (config.yaml, optionally overridden) against a
trained recogniser of a finished workflow run, snapshots every example at each
milestone step (an example that has stopped keeps its final perturbation, exactly what
a smaller budget would have written) and plays every snapshot in the held-out test
rooms as the ``over_the_air`` rule does. Prints and writes one row per milestone:
RoSA over the held-out rooms, mean perturbation SNR and wall time so far (``--out`` is
relative to ``--workdir``).

    .venv/bin/python bench/attack_budget_curve.py --workdir . --steps 100 200 300 500 800 \
        [--set lr=0.01] [--rooms results/data/rirs/attack.csv] [--out results/bench/grad_budget.csv] [--device cuda]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from advspeech.asr_train import load_recognizer, load_rirs
from advspeech.attacks import ATTACKS, evaluate_over_the_air, select_utterances
from advspeech.dsp import snr_db
from advspeech.io import read_audio, read_csv, write_audio
from advspeech.seeding import stable_seed
from advspeech.torchutil import resolve_device, set_threads

REPO = Path(__file__).resolve().parents[1]


def parse_overrides(items: list[str]) -> dict:
    return {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=".", help="a finished workflow run")
    parser.add_argument("--asr", default="ds")
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 200, 300, 500])
    parser.add_argument("--set", nargs="*", default=[], help="attacks.grad overrides, k=v")
    parser.add_argument("--rooms", default="results/data/rirs/attack.csv")
    parser.add_argument("--utterances", type=int, default=None, help="default: config")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument(
        "--no-tf32", action="store_true", help="CUDA: full fp32 matrix products (as the CPU)"
    )
    parser.add_argument("--out", default="results/bench/grad_budget.csv")
    args = parser.parse_args()

    set_threads(args.threads)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    os.chdir(args.workdir)
    attacks, ota = config["attacks"], config["attacks"]["ota"]
    settings = {**attacks["grad"], **parse_overrides(args.set), "steps": max(args.steps)}
    off_check = [s for s in args.steps if s % settings["check_every"] and s != max(args.steps)]
    if off_check:
        parser.error(f"milestones {off_check} are not multiples of check_every")
    device = resolve_device(args.device)
    if args.no_tf32:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    recognizer = load_recognizer(f"results/models/asr/{args.asr}.pt", device)
    clean = select_utterances(
        read_csv("results/data/clean/test.csv"), args.utterances or attacks["utterances"]["test"]
    )
    waves = [read_audio(p)[0][0] for p in clean["clean_path"]]
    snapshots: dict[int, tuple[np.ndarray, float]] = {}
    t0 = time.time()

    def on_check(step: int, adversarial: np.ndarray) -> None:
        if step in args.steps:
            snapshots[step] = (adversarial.copy(), time.time() - t0)

    attack, rooms = ATTACKS["grad"], load_rirs(args.rooms)
    attack.run(
        recognizer,
        waves,
        config["target_phrase"],
        rooms,
        attack.config(settings),
        [stable_seed(config["seed"], "attack", u) for u in clean["utt_id"]],
        device,
        on_check=on_check,
    )
    test_rooms = pd.read_csv("results/data/rirs/test.csv")
    out_dir = Path(args.out).with_suffix("")
    rows = []
    for step in sorted(snapshots):
        adversarial, seconds = snapshots[step]
        manifest = []
        for i, row in enumerate(clean.itertuples(index=False)):
            path = out_dir / f"{step}" / f"{row.utt_id}.wav"
            write_audio(path, adversarial[i, : len(waves[i])], 16000)
            manifest.append(
                {"utt_id": row.utt_id, "adv_path": str(path), "text": row.text, "skipped": ""}
            )
        manifest = pd.DataFrame(manifest).assign(target=config["target_phrase"])
        trials = evaluate_over_the_air(
            recognizer, manifest, test_rooms, ota["rooms"], ota["noise_std"], config["seed"], device
        )
        rows.append(
            {
                "steps": step,
                "rosa_percent": 100 * trials["success"].mean(),
                "snr_db": np.mean(
                    [snr_db(w, adversarial[i, : len(w)]) for i, w in enumerate(waves)]
                ),
                "seconds": seconds,
                "utterances": len(waves),
                "attack_rooms": len(rooms),
            }
        )
        print(
            f"steps {step:5d}: RoSA {rows[-1]['rosa_percent']:5.1f} % over "
            f"{min(ota['rooms'], len(test_rooms))} held-out rooms, SNR {rows[-1]['snr_db']:5.2f} dB, {seconds:6.0f} s",
            flush=True,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

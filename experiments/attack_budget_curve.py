"""Success of an attack against its step budget, over the air, from one run.

A tuning tool, so it reads dev data only (:mod:`advspeech.pipeline.split_guard`): it attacks the
shortest *dev* utterances with ``attacks.grad`` (config.yaml, optionally overridden)
against a trained recogniser of a finished workflow run, snapshots every example at
each milestone step (an example that has stopped keeps its final perturbation, exactly
what a smaller budget would have written) and plays every snapshot in the held-out
*dev* rooms as the ``over_the_air`` rule does in the test rooms. Prints and writes one
row per milestone: RoSA over the dev rooms with a 95 % interval over utterances, mean
perturbation SNR and wall time so far (``--out`` is relative to ``--workdir``).
``--split test`` is refused. ``--attack evo`` has no step milestones: its final examples
(at ``attacks.evo.queries``) are the one row.

    .venv/bin/python experiments/attack_budget_curve.py --workdir . --steps 100 200 300 500 800 \
        [--set lr=0.01] [--rooms results/data/rirs/attack.csv] [--out results/experiments/grad_budget.csv] [--device cuda]
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from tuning import default_config, tuning_args, tuning_parser

from advspeech.asr.evaluate import load_recognizer
from advspeech.attacks import ATTACKS
from advspeech.attacks.base import AttackJob
from advspeech.attacks.ota import evaluate_over_the_air
from advspeech.attacks.runner import select_utterances
from advspeech.core.dsp import snr_db
from advspeech.core.io import read_audio, read_csv, write_audio
from advspeech.core.seeding import stable_seed
from advspeech.core.torchutil import resolve_device, set_threads
from advspeech.data.rooms import load_rirs
from advspeech.evaluation.statistics import cluster_bootstrap_ci
from advspeech.pipeline.config import attack_settings
from advspeech.pipeline.split_guard import require_tuning_rooms


def parse_overrides(items: list[str]) -> dict:
    return {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in items)}


def print_query_curve(utt_ids, results, budget: int, out: str) -> None:
    """evo's digital success against its query budget, from one run: a search stops at
    its first exact decode and draws its own random stream, so under a smaller budget
    ``q`` an utterance succeeds exactly when it succeeded here within ``q`` queries."""
    table = pd.DataFrame(
        {
            "utt_id": list(utt_ids),
            "queries": [r.queries for r in results],
            "success_digital": [bool(r.success_digital) for r in results],
        }
    )
    path = Path(out).with_name(Path(out).stem + "_queries.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    print(f"digital success against the query budget ({path}):")
    step = max(1, budget // 6)
    for q in [*range(step, budget, step), budget]:
        hits = table["success_digital"] & (table["queries"] <= q)
        print(f"  <= {q:6d} queries: {100 * hits.mean():5.1f} % ({int(hits.sum())}/{len(table)})")


def main() -> None:
    parser = tuning_parser(__doc__, "results/experiments/grad_budget.csv")
    parser.add_argument("--workdir", default=".", help="a finished workflow run")
    parser.add_argument("--asr", default="ds")
    parser.add_argument("--attack", default="grad", choices=["grad", "evo"])
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 200, 300, 500])
    parser.add_argument("--set", nargs="*", default=[], help="attacks.<attack> overrides, k=v")
    parser.add_argument("--rooms", default="results/data/rirs/attack.csv")
    parser.add_argument("--utterances", type=int, default=None, help="default: config (dev)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument(
        "--no-tf32", action="store_true", help="CUDA: full fp32 matrix products (as the CPU)"
    )
    args = tuning_args(parser, "experiments/attack_budget_curve.py")

    set_threads(args.threads)
    config = default_config()
    os.chdir(args.workdir)
    ota = config["attacks"]["ota"]
    settings = attack_settings(config, args.attack)  # as the attack rule gets them
    settings |= parse_overrides(args.set)
    if args.attack == "grad":
        settings["steps"] = max(args.steps)
        off_check = [s for s in args.steps if s % settings["check_every"] and s != max(args.steps)]
    else:
        off_check, args.steps = [], [settings["queries"]]
    if off_check:
        parser.error(f"milestones {off_check} are not multiples of check_every")
    device = resolve_device(args.device)
    if args.no_tf32:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    recognizer = load_recognizer(f"results/models/asr/{args.asr}.pt", device)
    clean = select_utterances(
        read_csv(f"results/data/clean/{args.split}.csv"),
        args.utterances or config["attacks"]["utterances"].get(args.split, 16),
    )
    waves = [read_audio(p)[0][0] for p in clean["clean_path"]]
    snapshots: dict[int, tuple[np.ndarray, float]] = {}
    t0 = time.time()

    def on_check(step: int, adversarial: np.ndarray) -> None:
        if step in args.steps:
            snapshots[step] = (adversarial.copy(), time.time() - t0)

    room_ids = pd.read_csv(args.rooms)["room_id"]
    require_tuning_rooms(args.rooms, room_ids, "experiments/attack_budget_curve.py")
    attack, rooms = ATTACKS[args.attack], load_rirs(args.rooms)
    seeds = [stable_seed(config["seed"], "attack", u) for u in clean["utt_id"]]
    # grad snapshots every milestone through on_check; evo's one row is its final files
    hooks = {"on_check": on_check} if args.attack == "grad" else {}
    job = AttackJob(recognizer, waves, config["target_phrase"], rooms, seeds, device)
    results = attack.run(job, attack.config(settings), **hooks)
    if args.attack == "evo":
        padded = np.zeros((len(waves), max(len(w) for w in waves)), dtype=np.float32)
        for i, res in enumerate(results):
            padded[i, : len(res.adversarial)] = res.adversarial
        on_check(settings["queries"], padded)
        digital = np.mean([r.success_digital for r in results])
        print(f"evo: exact target digitally on {100 * digital:.1f} % of utterances", flush=True)
        print_query_curve(clean["utt_id"], results, settings["queries"], args.out)
    # the split's own held-out rooms (the train split has none held out: dev rooms)
    held_out = pd.read_csv(
        f"results/data/rirs/{'dev' if args.split == 'train' else args.split}.csv"
    )
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
            recognizer, manifest, held_out, ota["rooms"], ota["noise_std"], config["seed"], device
        )
        trials.to_csv(out_dir / f"{step}" / "trials.csv", index=False)  # to pair variants
        rosa = cluster_bootstrap_ci(100.0 * trials["success"].astype(float), trials["utt_id"])
        rows.append(
            {
                "split": args.split,
                "steps": step,
                "rosa_percent": rosa.mean,
                "rosa_low": rosa.low,
                "rosa_high": rosa.high,
                "snr_db": np.mean(
                    [snr_db(w, adversarial[i, : len(w)]) for i, w in enumerate(waves)]
                ),
                "seconds": seconds,
                "utterances": len(waves),
                "attack_rooms": len(rooms),
            }
        )
        print(
            f"steps {step:5d}: RoSA {rosa.mean:5.1f} % [{rosa.low:.1f}, {rosa.high:.1f}] over "
            f"{min(ota['rooms'], len(held_out))} held-out {args.split} rooms, "
            f"SNR {rows[-1]['snr_db']:5.2f} dB, {seconds:6.0f} s",
            flush=True,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""The black-box attacker's success against its query budget, on dev.

A tuning tool, so it reads dev data only (:mod:`advspeech.pipeline.split_guard`): on the
shortest dev utterances of a finished workflow run it measures, against the victim
``ds`` in the held-out dev rooms, what ``results/evo_queries.csv`` measures in the test
rooms: the transfer example (``grad`` against the attacker's own surrogate, played to
the victim: 0 queries), the waveform search with queries only, and the search with the
surrogate prior, at every budget of ``--budgets`` (one search per variant, the smaller
budgets read from it as the files a search with that budget writes). Prints and writes
one row per (variant, budget) with the columns of ``results/evo_queries.csv`` (plus
``split``); every cell's trials are kept beside it for paired comparisons.

    .venv/bin/python experiments/evo_queries_dev.py --workdir RUN \\
        [--surrogate RUN/results/models/asr/surrogate.pt] [--budgets 2000 5000 20000] \\
        [--utterances 16] [--set prior_weight=0.3] [--out results/experiments/evo_queries_dev]
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from attack_budget_curve import parse_overrides
from tqdm import tqdm
from tuning import default_config, tuning_args, tuning_parser

from advspeech.asr.evaluate import load_recognizer
from advspeech.attacks.base import AttackJob
from advspeech.attacks.evo_waveform import waveform_config, waveform_search
from advspeech.attacks.ota import evaluate_over_the_air
from advspeech.attacks.runner import run_attack, select_utterances
from advspeech.core.dsp import snr_db
from advspeech.core.io import read_audio, read_csv, write_audio
from advspeech.core.seeding import stable_seed
from advspeech.core.torchutil import set_threads
from advspeech.data.rooms import load_rirs
from advspeech.pipeline.config import attack_settings
from advspeech.reporting.evo_queries import QueryCell, evo_queries_table


def searched_cells(variant, victim, surrogate, clean, starts, rooms, settings, args, out):
    """The waveform search of ``variant`` (noprior or prior) on every utterance, its
    files at each budget written to ``out/<variant>/q<budget>/``; the manifests."""
    budgets = sorted(args.budgets)
    prior = "surrogate" if variant == "prior" else "none"
    cfg = waveform_config({**settings, "queries": budgets[-1]}, prior)
    target = args.config["target_phrase"]
    rows: dict[int, list[dict]] = {b: [] for b in budgets}
    batch = args.config["attacks"]["batch_size"]
    for first in tqdm(range(0, len(clean), batch), desc=f"{variant} search batches"):
        part = clean.iloc[first : first + batch]
        waves = [read_audio(p)[0][0] for p in part["clean_path"]]
        seeds = [stable_seed(args.config["seed"], "attack", u) for u in part["utt_id"]]
        guided = prior == "surrogate"
        job = AttackJob(
            victim, waves, target, rooms, seeds, "cpu",
            surrogate=surrogate if guided else None,
            priors=[starts[u] for u in part["utt_id"]] if guided else None,
        )  # fmt: skip
        files: dict[int, list[np.ndarray]] = {}
        results = waveform_search(job, cfg, files.__setitem__, budgets[:-1])
        files[budgets[-1]] = [r.adversarial for r in results]
        queries = {budgets[-1]: [r.queries for r in results]}
        for b in budgets:
            digital = victim.transcribe(files[b])
            for i, row in enumerate(part.itertuples(index=False)):
                path = out / variant / f"q{b}" / f"{row.utt_id}.wav"
                write_audio(path, files[b][i], 16000)
                # a snapshot spent at most its budget; the final files their own count
                used = queries[b][i] if b in queries else b
                rows[b].append({"utt_id": row.utt_id, "text": row.text, "target": target,
                                "adv_path": str(path), "skipped": "", "queries": used,
                                "success_digital": digital[i] == target,
                                "snr_db": snr_db(waves[i], files[b][i])})  # fmt: skip
    return {b: pd.DataFrame(r) for b, r in rows.items()}


def main() -> None:
    parser = tuning_parser(__doc__, "results/experiments/evo_queries_dev")
    parser.add_argument("--workdir", default=".", help="a finished workflow run")
    parser.add_argument(
        "--surrogate", default=None, help="default: the workdir's results/models/asr/surrogate.pt"
    )
    parser.add_argument("--budgets", type=int, nargs="+", default=[2000, 5000, 20000])
    parser.add_argument("--utterances", type=int, default=16)
    parser.add_argument("--variants", nargs="+", default=["transfer", "noprior", "prior"])
    parser.add_argument("--set", nargs="*", default=[], help="attacks.evo.waveform overrides")
    parser.add_argument("--threads", type=int, default=2)
    args = tuning_args(parser, "experiments/evo_queries_dev.py")
    set_threads(args.threads)
    args.config = config = default_config()
    surrogate_path = Path(args.surrogate or Path(args.workdir, "results/models/asr/surrogate.pt"))
    surrogate_path = surrogate_path.resolve()
    os.chdir(args.workdir)
    device = torch.device("cpu")
    victim = load_recognizer("results/models/asr/ds.pt", device)
    surrogate = load_recognizer(surrogate_path, device)
    clean = select_utterances(read_csv(f"results/data/clean/{args.split}.csv"), args.utterances)
    rooms = load_rirs("results/data/rirs/attack.csv")
    held_out = pd.read_csv(f"results/data/rirs/{args.split}.csv")
    ota, out = config["attacks"]["ota"], Path(args.out)
    settings = attack_settings(config, "evo")
    settings["waveform"] = {**settings.get("waveform", {}), **parse_overrides(args.set)}
    # the surrogate's white-box example of each utterance: the transfer row and the
    # prior search's starting file
    transfer = run_attack("grad", surrogate, clean, config["target_phrase"], rooms,
                          attack_settings(config, "grad"), out / "transfer" / "q0",
                          seed=config["seed"], batch_size=config["attacks"]["batch_size"],
                          device=device)  # fmt: skip
    transfer["queries"] = 0
    transfer["success_digital"] = [
        t == config["target_phrase"]
        for t in victim.transcribe([read_audio(p)[0][0] for p in transfer["adv_path"]])
    ]
    starts = {
        u: read_audio(p)[0][0]
        for u, p in zip(transfer["utt_id"], transfer["adv_path"], strict=True)
    }
    manifests = {("transfer", 0): transfer}
    for variant in [v for v in args.variants if v != "transfer"]:
        found = searched_cells(
            variant, victim, surrogate, clean, starts, rooms, settings, args, out
        )
        manifests |= {(variant, b): m for b, m in found.items()}
    cells = []
    for (variant, budget), manifest in manifests.items():
        where = out / variant / f"q{budget}"
        where.mkdir(parents=True, exist_ok=True)
        manifest.to_csv(where / "manifest.csv", index=False)
        trials = evaluate_over_the_air(victim, manifest, held_out, ota["rooms"],
                                       ota["noise_std"], config["seed"], device)  # fmt: skip
        trials.to_csv(where / "trials.csv", index=False)
        cells.append(
            QueryCell(variant, budget, str(where / "manifest.csv"), str(where / "trials.csv"))
        )
    table = evo_queries_table(cells).assign(split=args.split)
    table.to_csv(out.with_suffix(".csv"), index=False)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"wrote {out.with_suffix('.csv')}")


if __name__ == "__main__":
    main()

"""Play adversarial test examples in held-out test rooms, optionally enhance, transcribe."""

import pandas as pd

from advspeech.asr.evaluate import load_recognizer
from advspeech.attacks.ota import evaluate_over_the_air
from advspeech.core.io import read_csv, write_csv
from advspeech.core.torchutil import resolve_device, set_threads
from advspeech.defences import build_transform
from advspeech.pipeline.runtime import rule_logging
from advspeech.se.enhance import load_enhancer

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    p = snakemake.params
    device = resolve_device(p.device)
    enhancer = load_enhancer(snakemake.input.se, device) if "se" in snakemake.input.keys() else None  # noqa: SIM118
    # an input transformation (beyond the paper) instead of an enhancement model
    defend = build_transform(snakemake.wildcards.defence, p.transform) if p.transform else None
    trials = evaluate_over_the_air(
        load_recognizer(snakemake.input.model, device),
        read_csv(snakemake.input.attack, required=["utt_id", "adv_path", "target", "text"]),
        pd.read_csv(snakemake.input.rirs),
        rooms_per_example=p.rooms,
        noise_std=p.noise_std,
        seed=p.seed,
        device=device,
        enhancer=enhancer,
        segment=p.segment,
        defend=defend,
    )
    write_csv(snakemake.output[0], trials)
    log.info(
        "%d trials: RoSA %.1f%%, WER %.1f%%",
        len(trials),
        100 * trials["success"].mean(),
        trials["wer"].mean(),
    )

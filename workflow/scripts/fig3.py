"""Render Fig. 3: the adaptive attacker's TASR against perturbation SNR."""

import pandas as pd

from advspeech.attacks.adaptive import snr_at_full_success, tasr_curve
from advspeech.core.io import write_csv
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.figures import tasr_figure

with rule_logging(snakemake.log[0]) as log:
    curves, marks = [], []
    for key in snakemake.params.curves:
        attack, defence = key.split("__")
        curve = tasr_curve(pd.read_csv(snakemake.input[key], keep_default_na=False))
        curves.append(curve.assign(attack=attack, defence=defence))
        snr, tasr = snr_at_full_success(curve)
        marks.append(
            {
                "attack": attack,
                "defence": defence,
                "snr_db": snr,
                "tasr": tasr,
                "reached_100": tasr >= 100.0,
            }
        )
    curves = pd.concat(curves)[["attack", "defence", "snr_db_budget", "snr_db", "tasr", "n"]]
    marks = pd.DataFrame(marks)
    write_csv(snakemake.output.curve, curves)
    write_csv(snakemake.output.snr, marks)
    tasr_figure(curves, marks, snakemake.output.figure, snakemake.params.title)
    log.info("\n%s\n%s", curves.to_string(index=False), marks.to_string(index=False))

"""Render Fig. 3: the adaptive attacker's TASR against the SNR budget, from each
utterance's quietest successful budget, without and with the defence."""

import pandas as pd

from advspeech.core.io import write_csv
from advspeech.evaluation.quietest import quietest_full_success, quietest_success, tasr_curve
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.figures import tasr_figure

with rule_logging(snakemake.log[0]) as log:
    curves, marks = [], []
    for key in snakemake.params.curves:
        attack, defence = key.split("__")
        trials = pd.read_csv(snakemake.input[key], keep_default_na=False)
        curves.append(tasr_curve(trials).assign(attack=attack, defence=defence))
        quietest = quietest_success(trials, snakemake.params.step_db)
        marks.append(
            {
                "attack": attack,
                "defence": defence,
                "snr_db_full_success": quietest_full_success(trials, snakemake.params.step_db),
                "median_quietest_db": float(quietest["quietest_db"].median()),
                "censored_above": int((quietest["censored"] == "above").sum()),
                "never": int((quietest["censored"] == "below").sum()),
                "n": len(quietest),
            }
        )
    curves = pd.concat(curves)[["attack", "defence", "snr_db_budget", "tasr", "n"]]
    marks = pd.DataFrame(marks)
    write_csv(snakemake.output.curve, curves)
    write_csv(snakemake.output.snr, marks)
    tasr_figure(curves, marks, snakemake.output.figure, snakemake.params.title)
    log.info("\n%s\n%s", curves.to_string(index=False), marks.to_string(index=False))

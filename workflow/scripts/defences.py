"""Every defence in one table, the adaptive attacker through each, and the claims that
compare SE models with input transformations (beyond the paper)."""

import pandas as pd

from advspeech.core.io import write_csv, write_text
from advspeech.evaluation.claims.defences import defence_claims
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.defence_tables import (
    adaptive_figure,
    adaptive_table,
    defence_figure,
    defence_markdown,
    defence_table,
)

with rule_logging(snakemake.log[0]) as log:
    p, inp = snakemake.params, snakemake.input
    read = {key: pd.read_csv(inp[key]) for key in inp.keys() if "__" in key}  # noqa: SIM118
    trials = {(a, d): read[f"ota__{a}__{d}"] for a in p.attacks for d in p.table}
    controls = {(d, t): read[f"controls__{d}__{t}"] for d in p.table for t in ("clean", "noisy")}
    scores = {(d, t): read[f"scores__{d}__{t}"] for d in p.table for t in ("clean", "noisy")}
    sweeps = {d: read[f"adaptive__{d}"] for d in p.adaptive}
    table = defence_table(p.table, p.kinds, trials, controls, scores, p.attacks, seed=p.seed)
    write_csv(snakemake.output.table, table)
    write_text(snakemake.output.markdown, defence_markdown(table, p.attacks))
    defence_figure(table, p.attacks, snakemake.output.figure)
    adaptive = adaptive_table(sweeps, seed=p.seed, step_db=p.adaptive_step_db)
    write_csv(snakemake.output.adaptive, adaptive)
    adaptive_figure(sweeps, snakemake.output.adaptive_figure)
    kinds = {d: k for d, k in p.kinds.items() if d in p.table}
    claims = defence_claims(
        kinds, trials, controls, sweeps, seed=p.seed, step_db=p.adaptive_step_db
    )
    write_csv(snakemake.output.claims, claims)
    log.info("\n%s\n%s", defence_markdown(table, p.attacks), claims.to_string(index=False))

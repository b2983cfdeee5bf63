"""Check the paper's claims by paired tests on the per-item results behind each table."""

import pandas as pd

from advspeech.core.io import write_csv
from advspeech.evaluation.claims import check_claims
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    groups = {"quality": {}, "trials": {}, "adaptive": {}, "controls": {}}
    for key, (kind, *labels) in snakemake.params.sources.items():
        groups[kind][tuple(labels)] = pd.read_csv(snakemake.input[key])
    quality = {}
    for (table, label), frame in groups["quality"].items():
        quality.setdefault(table, {})[label] = frame
    claims = check_claims(
        quality,
        groups["trials"],
        groups["adaptive"],
        groups["controls"],
        seed=snakemake.params.seed,
        adaptive_step_db=snakemake.params.adaptive_step_db,
    )
    write_csv(snakemake.output[0], claims)
    log.info(
        "%d of %d claims hold here\n%s",
        claims["holds"].sum(),
        len(claims),
        claims[["claim_id", "holds", "our_value"]].to_string(index=False),
    )

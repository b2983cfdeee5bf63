"""Check the paper's claims against our tables and Fig. 3."""

import pandas as pd

from advspeech.claims import check_claims
from advspeech.io import write_csv
from advspeech.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    inp = snakemake.input
    claims = check_claims(
        *(pd.read_csv(inp[t]) for t in ("table1", "table2", "table3", "table4")),
        pd.read_csv(inp.fig3),
    )
    write_csv(snakemake.output[0], claims)
    log.info(
        "%d of %d claims hold here\n%s",
        claims["holds"].sum(),
        len(claims),
        claims[["claim_id", "holds"]].to_string(index=False),
    )

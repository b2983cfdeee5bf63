"""Benign controls: WER on clean and noisy test speech per recogniser and defence."""

import pandas as pd

from advspeech.core.io import write_csv, write_text
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.tables import benign_controls_table, controls_markdown

with rule_logging(snakemake.log[0]) as log:
    items = {
        tuple(key): pd.read_csv(snakemake.input["__".join(key)], keep_default_na=False)
        for key in snakemake.params.cells
    }
    table = benign_controls_table(items, seed=snakemake.params.seed)
    write_csv(snakemake.output.table, table)
    write_text(snakemake.output.markdown, controls_markdown(table))
    log.info("\n%s", table.to_string(index=False))

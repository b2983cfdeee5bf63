"""Render a speech-quality table (Tables 1-3) with bootstrap confidence intervals."""

from advspeech.core.io import write_csv, write_text
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.tables import markdown_table, quality_table, table_values_finite

with rule_logging(snakemake.log[0]) as log:
    labels = snakemake.params.labels
    files = {label: snakemake.input[label.replace("-", "_")] for label in labels}
    wide, long = quality_table(files, seed=snakemake.params.seed)
    table_values_finite(wide)
    write_csv(snakemake.output.long, long)
    write_text(snakemake.output.markdown, markdown_table(long, labels, snakemake.params.title))
    write_csv(snakemake.output.wide, wide)
    log.info("\n%s", wide.to_string(index=False))

"""One table with the size of every data stage."""

from advspeech.core.io import write_csv
from advspeech.data.summary import summarize_data
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    summary = summarize_data(
        snakemake.input.clean, snakemake.input.mix, snakemake.input.noise, snakemake.input.rirs
    )
    write_csv(snakemake.output[0], summary)
    log.info("\n%s", summary.to_string(index=False))

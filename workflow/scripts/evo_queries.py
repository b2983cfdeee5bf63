"""Collect the black-box attack's query sweep into results/evo_queries.csv and its figure."""

from advspeech.core.io import write_csv
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.evo_queries import QueryCell, evo_queries_figure, evo_queries_table

with rule_logging(snakemake.log[0]) as log:
    cells = [
        QueryCell(
            variant=c["variant"],
            queries=c["queries"],
            manifest=snakemake.input[f"manifest{i}"],
            trials=snakemake.input[f"trials{i}"],
        )
        for i, c in enumerate(snakemake.params.cells)
    ]
    table = evo_queries_table(cells, seed=snakemake.params.seed)
    write_csv(snakemake.output.table, table)
    evo_queries_figure(table, snakemake.output.figure)
    log.info("\n%s", table.round(2).to_string(index=False))

"""Collect the budget sweep into results/budget.csv and results/fig_budget.png."""

from advspeech.core.io import write_csv
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.budget import BudgetCell, budget_figure, budget_table

with rule_logging(snakemake.log[0]) as log:
    cells = [
        BudgetCell(
            attack=c["attack"],
            defence=c["defence"],
            snr_db_budget=c["snr_db_budget"],
            manifest=snakemake.input[f"manifest{i}"],
            trials=snakemake.input[f"trials{i}"],
        )
        for i, c in enumerate(snakemake.params.cells)
    ]
    table = budget_table(cells, seed=snakemake.params.seed)
    write_csv(snakemake.output.table, table)
    budget_figure(table, snakemake.output.figure)
    log.info("\n%s", table.round(2).to_string(index=False))

"""Aggregate the replicates: every paper table and the claims over seeds, the figure of
the main cells' per-seed values and a Markdown summary."""

from pathlib import Path

from advspeech.core.io import read_csv, write_csv, write_text
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.replicates import (
    CLAIM_KEYS,
    aggregate_claims,
    aggregate_table,
    main_cells,
    replicate_figure,
    replicates_markdown,
)

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    out = {Path(path).stem: path for path in snakemake.output.tables}
    aggregates = {}
    for table, spec in p.tables.items():
        frames = {s: read_csv(snakemake.input[f"{table}__{s}"]) for s in p.seeds}
        aggregates[table] = aggregate_table(frames, spec["labels"], spec["values"])
        write_csv(out[table], aggregates[table])
    claims = aggregate_claims(
        {s: read_csv(snakemake.input[f"claims__{s}"], required=CLAIM_KEYS) for s in p.seeds}
    )
    write_csv(out["claims"], claims)
    cells = main_cells(aggregates, {t: spec["labels"] for t, spec in p.tables.items()})
    replicate_figure(cells, p.seeds, snakemake.output.figure, f"Replicates: {len(p.seeds)} seeds")
    write_text(snakemake.output.markdown, replicates_markdown(cells, claims, p.seeds))
    log.info("\n%s", claims[["claim_id", "across_seeds", "n_holds"]].to_string(index=False))

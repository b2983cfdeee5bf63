"""Score one system's output on one test set against the clean references."""

from advspeech.core.io import write_csv
from advspeech.evaluation.scoring import score_system
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    scores = score_system(
        snakemake.input.manifest, snakemake.params.degraded_column, processes=snakemake.threads
    )
    write_csv(snakemake.output[0], scores)
    missing = scores[scores["missing"].astype(str).str.len() > 0]
    log.info("%d items scored; %d with a missing metric", len(scores), len(missing))
    for row in missing.itertuples():
        log.warning("%s: %s", row.item_id, row.missing)
    log.info("\n%s", scores[["pesq", "stoi", "sti", "snr"]].describe().to_string())

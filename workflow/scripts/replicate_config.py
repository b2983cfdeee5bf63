"""Write one replicate's config: the run's config with the replicate's seed."""

import yaml

from advspeech.core.io import write_text
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    cfg = snakemake.params.config
    write_text(snakemake.output[0], yaml.safe_dump(cfg, sort_keys=True))
    log.info("replicate config: seed %s -> %s", cfg["seed"], snakemake.output[0])

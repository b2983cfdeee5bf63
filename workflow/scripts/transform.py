"""Apply one input transformation (a defence beyond the paper) to one test set."""

from advspeech.core.io import write_csv
from advspeech.core.torchutil import set_threads
from advspeech.defences.apply import transform_manifest
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    p = snakemake.params
    manifest = transform_manifest(
        snakemake.wildcards.transform,
        p.settings,
        snakemake.input.testset,
        p.audio_column,
        snakemake.output.wavs,
        seed=p.seed,
    )
    write_csv(snakemake.output.manifest, manifest)
    log.info("transformed %d files", len(manifest))

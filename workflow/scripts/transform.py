"""Apply one input transformation (a defence beyond the paper) to one test set."""

from advspeech.defences.apply import transform_manifest
from advspeech.io import write_csv
from advspeech.runtime import rule_logging
from advspeech.torchutil import set_threads

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

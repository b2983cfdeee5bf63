"""Index a DEMAND-layout tree (real or embedded) and bring each noise to 16 kHz mono."""

from advspeech.core.io import write_csv
from advspeech.data.noise_prepare import index_demand, prepare_noise
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    index = index_demand(p.root, p.environments, p.channels)
    manifest = prepare_noise(
        index, snakemake.output.wavs, min_sample_rate=p.min_sample_rate, min_seconds=p.min_seconds
    )
    write_csv(snakemake.output.manifest, manifest)
    log.info("%d noise conditions: %s", len(manifest), manifest["split"].value_counts().to_dict())

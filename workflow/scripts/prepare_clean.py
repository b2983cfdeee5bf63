"""Bring one split's utterances to 16 kHz mono at a common level."""

from advspeech.core.io import read_csv, write_csv
from advspeech.data.corpus import CleanConfig, prepare_clean
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    cfg = CleanConfig(
        min_sample_rate=p.min_sample_rate,
        rms_dbfs=p.rms_dbfs,
        max_peak=p.max_peak,
        min_seconds=p.min_seconds,
        max_seconds=p.max_seconds,
        max_utterances=p.max_utterances,
    )
    index = read_csv(snakemake.input.corpus, required=["utt_id", "split", "path", "text"])
    manifest, skipped = prepare_clean(
        index, snakemake.wildcards.split, snakemake.output.wavs, cfg, seed=p.seed
    )
    write_csv(snakemake.output.skipped, skipped)
    write_csv(snakemake.output.manifest, manifest)
    log.info(
        "%s: kept %d utterances (%.2f h), skipped %d, resampled %d, mixed down %d",
        snakemake.wildcards.split,
        len(manifest),
        manifest["n_samples"].sum() / 16000 / 3600,
        len(skipped),
        int(manifest["resampled"].sum()),
        int(manifest["mixed_down"].sum()),
    )

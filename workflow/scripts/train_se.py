"""Train one enhancement model ({se}) on noisy pairs, or fine-tune it adversarially (advt)."""

from advspeech.core.torchutil import set_threads
from advspeech.pipeline.runtime import rule_logging, training_run
from advspeech.se.train import fit_enhancer

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    meta = fit_enhancer(
        name=snakemake.wildcards.se,
        model_cfg=snakemake.params.model,
        train_cfg=snakemake.params.train,
        train_manifest=snakemake.input.train,
        dev_manifest=snakemake.input.dev,
        adversarial_manifests=list(snakemake.input.get("adversarial", [])),
        **training_run(snakemake),
    )
    log.info("done: %s", meta)

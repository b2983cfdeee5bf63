"""Train one enhancement model ({se}) on noisy pairs, or fine-tune it adversarially (advt)."""

from advspeech.runtime import rule_logging
from advspeech.se_train import fit_enhancer
from advspeech.torchutil import set_threads

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    inp = snakemake.input
    meta = fit_enhancer(
        name=snakemake.wildcards.se,
        model_cfg=snakemake.params.model,
        train_cfg=snakemake.params.train,
        train_manifest=inp.train,
        dev_manifest=inp.dev,
        adversarial_manifests=list(inp.get("adversarial", [])),
        init_model=inp.get("init"),
        out_model=snakemake.output.model,
        out_history=snakemake.output.history,
        state_path=snakemake.params.state,
        device=snakemake.params.device,
        seed=snakemake.params.seed,
    )
    log.info("done: %s", meta)

"""Train the victim recogniser (ds) or fine-tune its adversarially trained twin (ds_advt)."""

from advspeech.asr.train import fit_recognizer
from advspeech.core.torchutil import set_threads
from advspeech.pipeline.runtime import rule_logging, training_run

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    inp = snakemake.input
    meta = fit_recognizer(
        arch=snakemake.params.arch,
        model_cfg=snakemake.params.model,
        train_cfg=snakemake.params.train,
        train_manifests={
            "clean_path": [inp.train_clean],
            "noisy_path": [inp.train_noisy],
            # ds_advt: adversarial examples of train utterances, labelled with their true text
            **({"adv_path": list(inp.adversarial)} if "adversarial" in inp.keys() else {}),  # noqa: SIM118
        },
        dev_manifests={"clean_path": [inp.dev_clean], "noisy_path": [inp.dev_noisy]},
        rir_manifest=inp.rirs,
        **training_run(snakemake),
    )
    log.info("done: %s", meta)

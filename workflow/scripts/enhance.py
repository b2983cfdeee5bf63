"""Apply one trained enhancement model to one test set (overlap-add, length kept)."""

from advspeech.core.io import write_csv
from advspeech.core.torchutil import resolve_device, set_threads
from advspeech.pipeline.runtime import rule_logging
from advspeech.se.enhance import enhance_manifest, load_enhancer

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    device = resolve_device(snakemake.params.device)
    model = load_enhancer(snakemake.input.model, device)
    manifest = enhance_manifest(
        model,
        snakemake.input.testset,
        snakemake.params.audio_column,
        snakemake.output.wavs,
        segment=snakemake.params.segment,
        device=device,
    )
    write_csv(snakemake.output.manifest, manifest)
    log.info(
        "enhanced %d files; %d scaled to avoid clipping",
        len(manifest),
        int((manifest["peak_gain"] < 1).sum()),
    )

"""Per-item WER of a recogniser on a benign test set, through a defence or not."""

from advspeech.asr.evaluate import load_recognizer, transcribe_manifest
from advspeech.core.io import write_csv
from advspeech.core.torchutil import resolve_device, set_threads
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    p = snakemake.params
    recognizer = load_recognizer(
        snakemake.input.model, resolve_device(p.device), batch_size=p.batch_size
    )
    items = transcribe_manifest(recognizer, snakemake.input.manifest, p.audio_column)
    write_csv(snakemake.output[0], items)
    log.info("%d items, mean WER %.2f %%", len(items), items["wer"].mean())

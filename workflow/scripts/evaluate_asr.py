"""WER/CER of a recogniser on the clean test set and each noisy test SNR."""

from advspeech.asr.evaluate import evaluate_recognizer, load_recognizer
from advspeech.core.io import write_csv
from advspeech.core.torchutil import resolve_device, set_threads
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    recognizer = load_recognizer(
        snakemake.input.model,
        resolve_device(snakemake.params.device),
        batch_size=snakemake.params.batch_size,
    )
    table, transcripts = evaluate_recognizer(
        recognizer, snakemake.input.test_clean, snakemake.input.test_noisy
    )
    write_csv(snakemake.output.transcripts, transcripts)
    write_csv(snakemake.output.wer, table)
    log.info("\n%s", table.to_string(index=False))

"""Synthesise the embedded multi-speaker corpus in the LibriSpeech layout."""

from advspeech.core.io import write_csv
from advspeech.data.corpus import embedded_corpus_config, synthesize_corpus
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    cfg = embedded_corpus_config(snakemake.params.embedded, snakemake.params.test_salt)
    speakers = synthesize_corpus(
        snakemake.output.corpus,
        cfg,
        seed=snakemake.params.seed,
        forbidden_sentences=snakemake.params.forbidden,
        processes=snakemake.threads,
    )
    write_csv(snakemake.output.speakers, speakers)
    log.info("synthesised %d speakers", len(speakers))

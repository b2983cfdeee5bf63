"""Synthesise the embedded multi-speaker corpus in the LibriSpeech layout."""

from advspeech.core.io import write_csv
from advspeech.data.corpus import EmbeddedCorpusConfig, synthesize_corpus
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    emb = snakemake.params.embedded
    cfg = EmbeddedCorpusConfig(
        speakers=emb["speakers"],
        utterances_per_speaker=emb["utterances_per_speaker"],
        languages=tuple(emb["languages"]),
        exclude_variants=tuple(emb["exclude_variants"]),
        words_per_minute=tuple(emb["words_per_minute"]),
        pitch=tuple(emb["pitch"]),
        pitch_range=tuple(emb["pitch_range"]),
        test_salt=snakemake.params.test_salt,
    )
    speakers = synthesize_corpus(
        snakemake.output.corpus,
        cfg,
        seed=snakemake.params.seed,
        forbidden_sentences=snakemake.params.forbidden,
        processes=snakemake.threads,
    )
    write_csv(snakemake.output.speakers, speakers)
    log.info("synthesised %d speakers", len(speakers))

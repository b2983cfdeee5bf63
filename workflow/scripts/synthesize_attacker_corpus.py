"""Synthesise the attacker's own corpus (voices and sentences the victim never saw)."""

from advspeech.core.io import write_csv
from advspeech.data.attacker import (
    AttackerCorpusConfig,
    synthesize_attacker_corpus,
    victim_sentences,
)
from advspeech.data.corpus import embedded_corpus_config
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    own = snakemake.params.attacker
    victim = embedded_corpus_config(snakemake.params.embedded, snakemake.params.test_salt)
    cfg = AttackerCorpusConfig(
        speakers=own["speakers"],
        utterances_per_speaker=own["utterances_per_speaker"],
        seed=snakemake.params.attacker_seed,
    )
    forbidden = sorted(victim_sentences(snakemake.input.victim)) + list(snakemake.params.forbidden)
    speakers = synthesize_attacker_corpus(
        snakemake.output.corpus,
        victim,
        snakemake.params.seed,
        cfg,
        forbidden_sentences=forbidden,
        processes=snakemake.threads,
    )
    write_csv(snakemake.output.speakers, speakers)
    log.info("synthesised %d attacker speakers", len(speakers))

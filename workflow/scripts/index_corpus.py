"""Index a LibriSpeech-layout tree (real or embedded) into results/data/corpus.csv."""

from advspeech.core.io import write_csv
from advspeech.data.corpus import index_librispeech
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    index = index_librispeech(snakemake.params.root, snakemake.params.subsets)
    write_csv(snakemake.output[0], index)
    log.info("indexed %d utterances: %s", len(index), index["split"].value_counts().to_dict())

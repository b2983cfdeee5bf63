"""Simulate one set (train, attack, dev, test or shifted) of shoebox room impulse
responses."""

from advspeech.core.io import write_csv
from advspeech.data.rooms import RoomRanges, simulate_room_set
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    ranges = RoomRanges(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in dict(p.ranges).items()}
    )
    manifest = simulate_room_set(
        snakemake.wildcards.rirset,
        p.n_rooms,
        ranges,
        snakemake.output.wavs,
        seed=p.seed,
        salt=p.salt,
    )
    write_csv(snakemake.output.manifest, manifest)
    log.info("%d rooms, median RT60 %.3f s", len(manifest), manifest["rt60_s"].median())

"""Simulate one set (train, attack, dev or test) of shoebox room impulse responses."""

from advspeech.core.io import write_csv
from advspeech.data.rooms import RoomRanges, simulate_room_set
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    ranges = RoomRanges(
        width=tuple(p.width),
        length=tuple(p.length),
        height=tuple(p.height),
        absorption=tuple(p.absorption),
        max_order=p.max_order,
        max_seconds=p.max_seconds,
        wall_margin=p.wall_margin,
        min_distance=p.min_distance,
    )
    manifest = simulate_room_set(
        snakemake.wildcards.rirset, p.n_rooms, ranges, snakemake.output.wavs, seed=p.seed
    )
    write_csv(snakemake.output.manifest, manifest)
    log.info("%d rooms, median RT60 %.3f s", len(manifest), manifest["rt60_s"].median())

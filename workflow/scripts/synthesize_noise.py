"""Generate the embedded noises in the DEMAND layout."""

from advspeech.data.noise import synthesize_noise
from advspeech.io import read_csv
from advspeech.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    babble = []
    if "babble" in snakemake.input.keys():  # noqa: SIM118 (Namedlist "in" checks values)
        babble = list(read_csv(snakemake.input.babble, required=["clean_path"])["clean_path"])
    synthesize_noise(
        snakemake.output[0],
        snakemake.params.environments,
        seconds=snakemake.params.seconds,
        seed=snakemake.params.seed,
        babble_paths=babble,
        rms_dbfs=snakemake.params.rms_dbfs,
    )
    log.info("generated %d environments", len(snakemake.params.environments))

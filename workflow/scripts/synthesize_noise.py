"""Generate the embedded noises in the DEMAND layout."""

from advspeech.core.io import read_csv
from advspeech.data.noise import synthesize_noise
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    # babble_<split>: the clean manifest of a corpus split that babble noises are built from
    babble = {
        name.removeprefix("babble_"): list(read_csv(path, required=["clean_path"])["clean_path"])
        for name, path in snakemake.input.items()
        if name.startswith("babble_")
    }
    synthesize_noise(
        snakemake.output[0],
        snakemake.params.environments,
        seconds=snakemake.params.seconds,
        seed=snakemake.params.seed,
        babble_paths=babble,
        rms_dbfs=snakemake.params.rms_dbfs,
        salts=snakemake.params.salts,
    )
    log.info("generated %d environments", len(snakemake.params.environments))

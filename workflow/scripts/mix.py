"""Mix one split's clean utterances with its noises at the configured SNRs."""

from advspeech.core.io import read_csv, write_csv
from advspeech.data.mix import make_mixtures
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    clean = read_csv(snakemake.input.clean, required=["utt_id", "clean_path", "text"])
    noise = read_csv(snakemake.input.noise, required=["noise_id", "split", "path"])
    manifest = make_mixtures(
        clean,
        noise,
        split=snakemake.wildcards.split,
        noise_split=p.noise_split,
        snrs_db=p.snrs_db,
        per_utterance=p.per_utterance,
        out_dir=snakemake.output.wavs,
        seed=p.seed,
    )
    write_csv(snakemake.output.manifest, manifest)
    err = (manifest["measured_snr_db"] - manifest["snr_db"]).abs().max()
    log.info("%d mixtures; largest SNR deviation %.2e dB", len(manifest), err)

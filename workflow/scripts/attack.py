"""Generate adversarial examples of one split against one recogniser (any registered attack)."""

from advspeech.asr.evaluate import load_recognizer
from advspeech.attacks.runner import run_attack, select_utterances
from advspeech.core.io import read_csv, write_csv
from advspeech.core.torchutil import resolve_device, set_threads
from advspeech.data.rooms import load_rirs
from advspeech.pipeline.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    p = snakemake.params
    device = resolve_device(p.device)
    clean = select_utterances(
        read_csv(snakemake.input.clean, required=["utt_id", "clean_path", "text", "n_samples"]),
        p.utterances,
    )
    surrogate, priors = None, None
    if "surrogate" in snakemake.input.keys():  # noqa: SIM118 (a Snakemake namedlist)
        surrogate = load_recognizer(snakemake.input.surrogate, device)
        starts = read_csv(snakemake.input.priors, required=["utt_id", "adv_path"])
        priors = dict(zip(starts["utt_id"], starts["adv_path"], strict=True))
        log.info("prior: the surrogate and its examples of %d utterances", len(priors))
    manifest = run_attack(
        snakemake.wildcards.attack,
        load_recognizer(snakemake.input.model, device),
        clean,
        p.target,
        load_rirs(snakemake.input.rirs),
        p.settings,
        snakemake.output.wavs,
        seed=p.seed,
        batch_size=p.batch_size,
        device=device,
        surrogate=surrogate,
        priors=priors,
    )
    done = manifest[manifest["skipped"].fillna("") == ""]
    if done.empty:
        log.warning("every utterance was skipped: the adversarial test set is empty")
    write_csv(snakemake.output.testset, done)
    write_csv(snakemake.output.manifest, manifest)
    log.info(
        "%d attacked (%d skipped): success in attack rooms %.0f%%, digital %.0f%%, "
        "mean SNR %.1f dB, %.1f s and %.0f queries per example",
        len(done),
        len(manifest) - len(done),
        100 * done["success"].mean(),
        100 * done["success_digital"].mean(),
        done["snr_db"].mean(),
        done["seconds"].mean(),
        done["queries"].mean(),
    )

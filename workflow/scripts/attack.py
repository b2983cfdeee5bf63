"""Generate robust over-the-air adversarial examples of one split against one recogniser."""

from advspeech.asr_train import load_recognizer, load_rirs
from advspeech.attacks import (
    OverTheAirConfig,
    RobustAttackConfig,
    run_attack,
    select_utterances,
)
from advspeech.io import read_csv, write_csv
from advspeech.runtime import rule_logging
from advspeech.torchutil import resolve_device, set_threads

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    p = snakemake.params
    device = resolve_device(p.device)
    a = p.attack
    cfg = RobustAttackConfig(
        steps=a["steps"],
        lr=a["lr"],
        linf=a["linf"],
        l2_weight=a["l2_weight"],
        check_every=a["check_every"],
        ota=OverTheAirConfig(
            band_hz=tuple(a["band_hz"]),
            rooms_per_step=a["rooms_per_step"],
            noise_std=tuple(a["noise_std"]),
        ),
    )
    clean = select_utterances(
        read_csv(snakemake.input.clean, required=["utt_id", "clean_path", "text", "n_samples"]),
        p.utterances,
    )
    manifest = run_attack(
        load_recognizer(snakemake.input.model, device),
        clean,
        p.target,
        load_rirs(snakemake.input.rirs),
        cfg,
        snakemake.output.wavs,
        seed=p.seed,
        batch_size=p.batch_size,
        device=device,
    )
    write_csv(snakemake.output.manifest, manifest)
    done = manifest[manifest["skipped"].fillna("") == ""]
    log.info(
        "%d attacked (%d skipped): success in train rooms %.0f%%, digital %.0f%%, mean SNR %.1f dB, %.1f s per example",
        len(done),
        len(manifest) - len(done),
        100 * done["success"].mean(),
        100 * done["success_digital"].mean(),
        done["snr_db"].mean(),
        done["seconds"].mean(),
    )

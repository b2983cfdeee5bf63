"""The adaptive attacker (Fig. 3): per utterance, the quietest SNR budget at which one
attack succeeds against the recogniser alone (defence 'none'), through an enhancement
model, or through an input transformation (beyond the paper)."""

from advspeech.asr.evaluate import load_recognizer
from advspeech.attacks.adaptive import DefendedRecognizer, EnhancedRecognizer
from advspeech.attacks.budget_search import quietest_success_search
from advspeech.attacks.runner import select_utterances
from advspeech.core.io import read_audio, read_csv, write_csv
from advspeech.core.seeding import stable_seed
from advspeech.core.torchutil import resolve_device, set_threads
from advspeech.defences import build_transform
from advspeech.evaluation.quietest import quietest_success
from advspeech.pipeline.runtime import rule_logging
from advspeech.se.enhance import load_enhancer

with rule_logging(snakemake.log[0]) as log:
    set_threads(snakemake.threads)
    p = snakemake.params
    device = resolve_device(p.device)
    victim = load_recognizer(snakemake.input.model, device)
    if "se" in snakemake.input.keys():  # noqa: SIM118 (Namedlist)
        victim = EnhancedRecognizer(
            load_enhancer(snakemake.input.se, device), victim, device, p.segment
        )
    elif p.transform:  # an input transformation: BPDA or EOT where it needs them
        transform = build_transform(snakemake.wildcards.defence, p.transform)
        samples = p.eot_samples if transform.randomised else 1
        victim = DefendedRecognizer(transform, victim, device, samples=samples, seed=p.seed)
    clean = select_utterances(
        read_csv(snakemake.input.clean, required=["utt_id", "clean_path", "n_samples"]),
        p.utterances,
    )
    trials = quietest_success_search(
        snakemake.wildcards.attack,
        victim,
        [read_audio(path)[0][0] for path in clean["clean_path"]],
        list(clean["utt_id"]),
        p.target,
        p.snr_range,
        p.bisection_steps,
        p.settings,
        [stable_seed(p.seed, "adaptive", u) for u in clean["utt_id"]],
        device,
    )
    write_csv(snakemake.output[0], trials)
    log.info("\n%s", quietest_success(trials).to_string(index=False))

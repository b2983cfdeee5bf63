"""Spectrograms and audio of a few test utterances, their adversarial examples and the
perturbations, for every attack: what the SNR budget looks and sounds like."""

from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.budget import perturbation_panels
from advspeech.reporting.figures import audio_page, spectrogram_figure

with rule_logging(snakemake.log[0]) as log:
    manifests = {attack: snakemake.input[attack] for attack in snakemake.params.attacks}
    panels = perturbation_panels(manifests, snakemake.params.per_attack)
    title = f"Adversarial examples against ds at an SNR budget of {snakemake.params.snr_db} dB"
    spectrogram_figure(panels, snakemake.output.figure, title)
    audio_page(panels, snakemake.output.audio, title)
    log.info("drew %d panels: %s", len(panels), list(panels))

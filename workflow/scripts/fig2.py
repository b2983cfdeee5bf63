"""Render Fig. 2 (log-power spectrograms) and the audio page of one attacked test utterance."""

from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.figures import audio_page, example_panels, spectrogram_figure

with rule_logging(snakemake.log[0]) as log:
    inp = snakemake.input
    row, panels = example_panels(
        inp.adversarial,
        inp.noisy,
        {label: inp[system] for label, system in snakemake.params.panels.items()},
        snakemake.params.noisy_snr_db,
    )
    title = f"{row['utt_id']} \u201c{row['text']}\u201d (target \u201c{row['target']}\u201d)"
    spectrogram_figure(panels, snakemake.output.figure, f"Fig. 2: {title}")
    audio_page(panels, snakemake.output.audio, f"Audio examples: {title}")
    log.info("drew %s with panels %s", row["utt_id"], list(panels))

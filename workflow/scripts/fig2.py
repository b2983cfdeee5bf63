"""Render Fig. 2: log-power spectrograms of one attacked test utterance."""

import pandas as pd

from advspeech.io import DataError, read_audio
from advspeech.render import spectrogram_figure
from advspeech.runtime import rule_logging

with rule_logging(snakemake.log[0]) as log:
    inp = snakemake.input
    adversarial = pd.read_csv(inp.adversarial, keep_default_na=False)
    if adversarial.empty:
        raise DataError(f"{inp.adversarial}: no attacked utterance to draw")
    # prefer an example whose attack succeeded
    row = adversarial.sort_values(["success_digital", "utt_id"], ascending=[False, True]).iloc[0]
    noisy = pd.read_csv(inp.noisy)
    mixes = noisy[noisy["utt_id"] == row["utt_id"]]
    if mixes.empty:
        raise DataError(f"{row['utt_id']} has no noisy mixture in {inp.noisy}")
    mix = mixes.iloc[(mixes["snr_db"] - snakemake.params.noisy_snr_db).abs().argmin()]
    panels = {
        "(a) clean": read_audio(row["clean_path"])[0][0],
        f"(b) noisy ({mix['snr_db']:g} dB)": read_audio(mix["noisy_path"])[0][0],
        "(c) adversarial": read_audio(row["adv_path"])[0][0],
    }
    for label, system in snakemake.params.panels.items():
        enhanced = pd.read_csv(inp[system])
        path = enhanced.loc[enhanced["utt_id"] == row["utt_id"], "enhanced_path"].iloc[0]
        panels[label] = read_audio(path)[0][0]
    spectrogram_figure(
        panels,
        snakemake.output[0],
        f"Fig. 2: {row['utt_id']} \u201c{row['text']}\u201d (target \u201c{row['target']}\u201d)",
    )
    log.info("drew %s with panels %s", row["utt_id"], list(panels))

"""Figures and listening pages: spectrogram panels (Fig. 2, perturbation examples), the
adaptive attacker's TASR curves (Fig. 3) and HTML pages that play the audio."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from advspeech.core.io import DataError, atomic_path, read_audio, write_text


def log_power_spectrogram(wave: np.ndarray, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    """10 log10 |STFT|^2 (dB), frequencies x frames."""
    import torch

    spec = torch.stft(
        torch.as_tensor(wave, dtype=torch.float32),
        n_fft,
        hop,
        window=torch.hann_window(n_fft),
        return_complex=True,
    )
    return 10 * np.log10(spec.abs().pow(2).numpy() + 1e-10)


def spectrogram_figure(panels: Mapping[str, np.ndarray], path: str | Path, title: str) -> None:
    """The paper's Fig. 2: one log-power spectrogram per panel, shared colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from advspeech import SAMPLE_RATE

    specs = {label: log_power_spectrogram(w) for label, w in panels.items()}
    vmax = max(float(s.max()) for s in specs.values())
    cols = 3
    rows = int(np.ceil(len(specs) / cols))
    # constrained layout keeps a row's titles clear of the x labels of the row above
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False, layout="constrained"
    )
    for ax in axes.flat[len(specs) :]:
        ax.remove()
    for ax, (label, s) in zip(axes.flat, specs.items(), strict=False):
        seconds = s.shape[1] * 128 / SAMPLE_RATE
        image = ax.imshow(
            s,
            origin="lower",
            aspect="auto",
            extent=(0, seconds, 0, SAMPLE_RATE / 2000),
            vmin=vmax - 80,
            vmax=vmax,
            cmap="magma",
        )
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (kHz)")
    fig.colorbar(image, ax=list(axes.flat[: len(specs)]), label="log power (dB)")
    fig.suptitle(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def tasr_figure(curves: pd.DataFrame, marks: pd.DataFrame, path: str | Path, title: str) -> None:
    """The paper's Fig. 3: TASR against the SNR budget per attack, without and with the
    defence (the share of utterances whose quietest success is at least that quiet). Each
    curve's legend entry counts the utterances that never succeeded within the search
    range and those that succeeded only at its ceiling (``never``, ``censored_above`` of
    ``marks``); a dotted line marks the quietest budget at which every utterance
    succeeds, and a curve that never reaches 100 % says "never 100 %". The labels of one
    panel are stacked, so they do not overlap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    attacks = list(dict.fromkeys(curves["attack"]))
    fig, axes = plt.subplots(1, len(attacks), figsize=(5.5 * len(attacks), 4), squeeze=False)
    for ax, attack in zip(axes[0], attacks, strict=True):
        groups = curves[curves["attack"] == attack].groupby("defence", sort=False)
        for i, (defence, part) in enumerate(groups):
            part = part.sort_values("snr_db_budget")
            mark = marks[(marks["attack"] == attack) & (marks["defence"] == defence)]
            label, full = defence, float("nan")
            if not mark.empty:
                m = mark.iloc[0]
                label = (
                    f"{defence}: never {int(m['never'])}/{int(m['n'])}, "
                    f"ceiling only {int(m['censored_above'])}/{int(m['n'])}"
                )
                full = float(m["snr_db_full_success"]) if int(m["never"]) == 0 else full
            (line,) = ax.step(part["snr_db_budget"], part["tasr"], where="post", label=label)
            text = "never 100 %" if not np.isfinite(full) else f"100 % up to {full:.1f} dB"
            if np.isfinite(full):
                ax.axvline(full, color=line.get_color(), linestyle=":", alpha=0.8)
            # one line of text per curve, stacked down from the panel's top left
            ax.annotate(f"{defence}: {text}", (0.02, 0.97), xycoords="axes fraction",
                        xytext=(0, -14 * i), textcoords="offset points", va="top",
                        color=line.get_color(), fontsize=8)  # fmt: skip
        ax.set_title(attack)
        ax.set_xlabel("SNR budget (dB; higher is quieter)")
        ax.set_ylabel("targeted attack success rate (%)")
        ax.set_ylim(-5, 128)  # room above 100 % for the stacked labels
        ax.set_yticks(range(0, 101, 20))
        ax.grid(alpha=0.3)
        ax.legend(title="defence (utterances)", fontsize=7, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


# --- the example utterance of Fig. 2 and the audio page ------------------------------------


def example_panels(
    adversarial_manifest: str,
    noisy_manifest: str,
    enhanced_manifests: Mapping[str, str],
    noisy_snr_db: float,
) -> tuple[pd.Series, dict[str, np.ndarray]]:
    """One attacked test utterance (a successful one if any, then by id) and its
    versions: clean, noisy mixture (closest to ``noisy_snr_db``), adversarial, and each
    enhancement model's output on the adversarial example (label -> manifest)."""
    adversarial = pd.read_csv(adversarial_manifest, keep_default_na=False)
    if adversarial.empty:
        raise DataError(f"{adversarial_manifest}: no attacked utterance to show")
    row = adversarial.sort_values(["success_digital", "utt_id"], ascending=[False, True]).iloc[0]
    noisy = pd.read_csv(noisy_manifest)
    mixes = noisy[noisy["utt_id"] == row["utt_id"]]
    if mixes.empty:
        raise DataError(f"{row['utt_id']} has no noisy mixture in {noisy_manifest}")
    mix = mixes.iloc[int((mixes["snr_db"] - noisy_snr_db).abs().argmin())]
    panels = {
        "(a) clean": read_audio(row["clean_path"])[0][0],
        f"(b) noisy ({mix['snr_db']:g} dB)": read_audio(mix["noisy_path"])[0][0],
        "(c) adversarial": read_audio(row["adv_path"])[0][0],
    }
    for label, manifest in enhanced_manifests.items():
        enhanced = pd.read_csv(manifest)
        match = enhanced.loc[enhanced["utt_id"] == row["utt_id"], "enhanced_path"]
        if match.empty:
            raise DataError(f"{manifest} has no enhanced version of {row['utt_id']}")
        panels[label] = read_audio(match.iloc[0])[0][0]
    return row, panels


def audio_page(panels: Mapping[str, np.ndarray], path: str | Path, title: str) -> None:
    """A self-contained HTML page (WAV embedded as base64) with one player per version."""
    import base64
    import html
    import io

    import soundfile as sf

    from advspeech import SAMPLE_RATE

    items = []
    for label, wave in panels.items():
        buf = io.BytesIO()
        sf.write(buf, np.clip(wave, -1, 1), SAMPLE_RATE, format="WAV", subtype="PCM_16")
        data = base64.b64encode(buf.getvalue()).decode()
        items.append(
            f"<li><p>{html.escape(label)}</p>"
            f'<audio controls preload="none" src="data:audio/wav;base64,{data}"></audio></li>'
        )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><ul>{''.join(items)}</ul></body></html>\n"
    )
    write_text(path, page)


# --- benign controls ------------------------------------------------------------------------

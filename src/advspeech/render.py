"""Per-utterance scoring of a system on a test set, and the paper's tables.

Tables are written in three shapes (tools read them, keep them exact):

- ``tableN.csv``: the paper's wide shape, numeric means, first column ``metric``;
- ``tableN_ci.csv``: long form ``system,metric,mean,ci_low,ci_high,n,n_missing,
  n_utterances``;
- ``tableN.md``: mean [95 % CI] in the paper's layout, with n and missing counts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from advspeech.io import DataError, atomic_path, read_audio, read_csv
from advspeech.metrics import cluster_bootstrap_ci, pesq_many, snr, sti, stoi

log = logging.getLogger(__name__)

METRICS = ("PESQ", "STI", "STOI", "SNR")
SCORE_COLUMNS = ["utt_id", "item_id", "pesq", "stoi", "sti", "snr", "missing"]


def score_system(
    manifest: str, degraded_column: str, clean_column: str = "clean_path", processes: int = 1
) -> pd.DataFrame:
    """PESQ, STOI, STI and SNR of every item of a system's output manifest.

    Unscorable items keep NaN in that metric and the reason in ``missing``.
    """
    frame = read_csv(manifest, required=["utt_id", degraded_column, clean_column])
    item = frame["mix_id"] if "mix_id" in frame.columns else frame["utt_id"]
    pairs = []
    for clean_path, deg_path in zip(frame[clean_column], frame[degraded_column], strict=True):
        clean = read_audio(clean_path)[0][0]
        degraded = read_audio(deg_path)[0][0]
        if len(clean) != len(degraded):
            raise DataError(
                f"{deg_path} has {len(degraded)} samples, its reference {clean_path} {len(clean)}"
            )
        pairs.append((clean, degraded))
    pesq_scores = pesq_many(pairs, processes=processes)
    rows = []
    for (clean, degraded), p, utt, key in tqdm(
        zip(pairs, pesq_scores, frame["utt_id"], item, strict=True),
        total=len(pairs),
        desc="score",
        mininterval=10,
    ):
        s_stoi, s_sti, s_snr = stoi(clean, degraded), sti(clean, degraded), snr(clean, degraded)
        reasons = [
            f"{name}: {s.reason}"
            for name, s in (("PESQ", p), ("STOI", s_stoi), ("STI", s_sti), ("SNR", s_snr))
            if s.reason
        ]
        rows.append(
            {
                "utt_id": utt,
                "item_id": key,
                "pesq": p.value,
                "stoi": s_stoi.value,
                "sti": s_sti.value,
                "snr": s_snr.value,
                "missing": "; ".join(reasons),
            }
        )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def quality_table(
    score_files: Mapping[str, str], n_boot: int = 2000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 1-3: rows PESQ/STI/STOI/SNR, one column per system (label -> scores CSV).

    Intervals resample utterances (a mixture's noise and SNR variants stay together).
    Returns (wide table of means, long table with bootstrap CIs and counts).
    """
    long_rows = []
    for label, path in score_files.items():
        scores = pd.read_csv(path)
        for metric in METRICS:
            values = scores[metric.lower()].to_numpy(dtype=float)
            ci = cluster_bootstrap_ci(values, scores["utt_id"], n_boot=n_boot, seed=seed)
            long_rows.append(
                {
                    "system": label,
                    "metric": metric,
                    "mean": ci.mean,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "n": ci.n,
                    "n_missing": int(len(values) - ci.n),
                    "n_utterances": ci.clusters,
                }
            )
    long = pd.DataFrame(long_rows)
    wide = long.pivot(index="metric", columns="system", values="mean")
    wide = wide.loc[list(METRICS), list(score_files)].reset_index()
    wide.columns.name = None
    return wide, long


def markdown_table(long: pd.DataFrame, systems: Sequence[str], title: str, note: str = "") -> str:
    """mean [CI] per cell in the paper's layout, plus n per system."""
    lines = [
        f"# {title}",
        "",
        "| metric | " + " | ".join(systems) + " |",
        "|---" * (len(systems) + 1) + "|",
    ]
    for metric in long["metric"].unique():
        cells = []
        for system in systems:
            row = long[(long["system"] == system) & (long["metric"] == metric)].iloc[0]
            cells.append(f"{row['mean']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]")
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    lines.append(
        "| n | " + " | ".join(n_cell(long[long["system"] == system]) for system in systems) + " |"
    )
    lines += ["", "Cells: mean [95 % CI, bootstrap over utterances]. " + note]
    return "\n".join(lines) + "\n"


def n_cell(rows: pd.DataFrame) -> str:
    """Items of one system, then each metric that could not score all of them:
    "16; STI 8 (8 unscorable)". Metrics differ (STI needs >= 1 s, PESQ refuses silence),
    so one n for the column would misstate the others."""
    items = int((rows["n"] + rows["n_missing"]).max())
    partial = [
        f"{r.metric} {int(r.n)} ({int(r.n_missing)} unscorable)"
        for r in rows.itertuples()
        if r.n_missing
    ]
    return "; ".join([str(items), *partial])


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def table_values_finite(wide: pd.DataFrame) -> None:
    """Refuse to write a table whose cells are NaN (a silently wrong table)."""
    numeric = wide.drop(columns=[wide.columns[0]]).to_numpy(dtype=float)
    if not np.isfinite(numeric).all():
        raise DataError(f"table has empty cells (no scorable item for a system):\n{wide}")


# --- Table 4: over-the-air robustness -------------------------------------------------------

TABLE4_ROWS = ("RoSA_ASR", "RoSA_ASR+AdvT", "WER_ASR", "WER_ASR+AdvT")


def robustness_table(
    trial_files: Mapping[tuple[str, str, str], str], n_boot: int = 2000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 4 from over-the-air trial files keyed by (attack label, victim label,
    defence label), victim labels ``ASR``/``ASR+AdvT``. RoSA = % of trials decoded exactly
    as the target; WER = mean per-trial WER (%). Intervals resample utterances with all
    their room trials (a cluster bootstrap). Returns (wide, long with CIs)."""
    long_rows = []
    for (attack, victim, defence), path in trial_files.items():
        trials = pd.read_csv(path)
        for measure, values in (
            ("RoSA", 100.0 * trials["success"].astype(float)),
            ("WER", trials["wer"].astype(float)),
        ):
            ci = cluster_bootstrap_ci(values.to_numpy(), trials["utt_id"], n_boot=n_boot, seed=seed)
            long_rows.append(
                {
                    "attack": attack,
                    "row": f"{measure}_{victim}",
                    "system": defence,
                    "mean": ci.mean,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "n": ci.n,
                    "n_utterances": ci.clusters,
                }
            )
    long = pd.DataFrame(long_rows)
    defences = list(dict.fromkeys(d for _, _, d in trial_files))
    attacks = list(dict.fromkeys(a for a, _, _ in trial_files))
    wide = long.pivot_table(index=["attack", "row"], columns="system", values="mean", sort=False)
    order = [(a, r) for a in attacks for r in TABLE4_ROWS]
    wide = wide.reindex(pd.MultiIndex.from_tuples(order, names=["attack", "row"]))[defences]
    wide = wide.reset_index()
    wide.columns.name = None
    return wide, long


def robustness_markdown(long: pd.DataFrame, defences: Sequence[str], title: str) -> str:
    lines = [f"# {title}", ""]
    for attack in long["attack"].unique():
        lines += [
            f"| {attack} | " + " | ".join(defences) + " |",
            "|---" * (len(defences) + 1) + "|",
        ]
        part = long[long["attack"] == attack]
        for row in TABLE4_ROWS:
            cells = []
            for d in defences:
                r = part[(part["row"] == row) & (part["system"] == d)].iloc[0]
                cells.append(f"{r['mean']:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}]")
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
        n, utts = int(part["n"].min()), int(part["n_utterances"].min())
        lines += [
            "",
            f"n = {n} over-the-air trials of at least {utts} utterances per cell",
            "",
        ]
    lines.append("Cells: percent, mean [95 % CI, bootstrap over utterances].")
    return "\n".join(lines) + "\n"


# --- figures -----------------------------------------------------------------------------------


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
    """The paper's Fig. 3: TASR against perturbation SNR per attack, without and with
    the defence; a marker where TASR first reaches 100 % (or its maximum)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    attacks = list(dict.fromkeys(curves["attack"]))
    fig, axes = plt.subplots(1, len(attacks), figsize=(5.5 * len(attacks), 4), squeeze=False)
    for ax, attack in zip(axes[0], attacks, strict=True):
        for defence, part in curves[curves["attack"] == attack].groupby("defence", sort=False):
            part = part.sort_values("snr_db")
            (line,) = ax.plot(part["snr_db"], part["tasr"], marker="o", label=defence)
            mark = marks[(marks["attack"] == attack) & (marks["defence"] == defence)]
            if not mark.empty and np.isfinite(mark["snr_db"].iloc[0]):
                m = mark.iloc[0]
                ax.axvline(m["snr_db"], color=line.get_color(), linestyle=":", alpha=0.8)
                ax.annotate(
                    f"{m['snr_db']:.1f} dB ({m['tasr']:.0f} %)",
                    (m["snr_db"], m["tasr"]),
                    textcoords="offset points",
                    xytext=(4, -12),
                    color=line.get_color(),
                )
        ax.set_title(attack)
        ax.set_xlabel("perturbation SNR (dB)")
        ax.set_ylabel("targeted attack success rate (%)")
        ax.set_ylim(-5, 105)
        ax.grid(alpha=0.3)
        ax.legend(title="defence")
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

CONTROLS_COLUMNS = ["asr", "defence", "testset", "wer", "ci_low", "ci_high", "n", "n_utterances"]


def benign_controls_table(
    items: Mapping[tuple[str, str, str], pd.DataFrame], n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Corpus WER (%) per (asr, defence, testset) from per-item WERs
    (``utt_id,words,wer``), with an interval from a bootstrap over utterances."""
    rows = []
    for (asr, defence, testset), frame in items.items():
        ci = cluster_bootstrap_ci(
            frame["wer"].astype(float),
            frame["utt_id"],
            n_boot=n_boot,
            seed=seed,
            weights=frame["words"].astype(float),
        )
        rows.append(
            {
                "asr": asr,
                "defence": defence,
                "testset": testset,
                "wer": ci.mean,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "n": ci.n,
                "n_utterances": ci.clusters,
            }
        )
    return pd.DataFrame(rows, columns=CONTROLS_COLUMNS)


def controls_markdown(table: pd.DataFrame) -> str:
    """One row per defence, one column per (recogniser, test set)."""
    cols = list(dict.fromkeys(zip(table["asr"], table["testset"], strict=True)))
    lines = [
        "# Benign controls: WER (%) on clean and noisy test speech through each defence",
        "",
        "| defence | " + " | ".join(f"{a} {t}" for a, t in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for defence, part in table.groupby("defence", sort=False):
        cells = []
        for asr, testset in cols:
            r = part[(part["asr"] == asr) & (part["testset"] == testset)].iloc[0]
            cells.append(f"{r['wer']:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}]")
        lines.append(f"| {defence} | " + " | ".join(cells) + " |")
    n = table.groupby("testset")["n"].max().to_dict()
    lines += [
        "",
        "Cells: corpus WER, [95 % CI, bootstrap over utterances]; items: "
        + ", ".join(f"{t} {k}" for t, k in n.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"

"""How much of an enhancement model's gain survives a noise type it was not trained on
(dev only).

The workflow's dev mixtures draw from the *train* noises (the same 60 s recordings the
training mixtures come from), while the test mixtures use other noise types: a dev
selection measures in-domain enhancement, the test tables measure generalisation to
new noise. This bench measures the gap without touching the test split:

1. every dev utterance is mixed with every train noise type (one SNR of ``mix.snrs_db``
   each, drawn per utterance and type), written under ``--out``/mixtures;
2. for each fold of held-out types (default: the six train types in three pairs), the
   model is trained exactly as the ``train_se`` rule would, on the train mixtures
   *without* those types (early stopping on the dev mixtures without them too), and a
   reference is trained on all types (for the ``default`` variant: the workdir's own
   ``results/models/se/<model>_noisy.pt``);
3. each dev mixture is enhanced by the reference (its noise type *seen* in training) and
   by the fold model that never saw its type (*unseen*); PESQ, STOI and SNR gains over
   the noisy input, per type and overall, with the paired unseen - seen difference and
   a 95 % cluster-bootstrap interval over utterances.

``--variant NAME key=value ...`` (as in ``experiments/se_selection_dev.py``) trains every fold
and the reference with overrides, so a training change can be selected on what it does
to unseen noise; each variant's unseen and seen PESQ, STOI and SNR are compared,
paired, with the first variant's, and its reference's clean dev speech through the model is scored
against the clean-speech control (lower bound over dev speakers >= 3.5 PESQ / 0.95
STOI). Trained models and scores are reused when their settings are unchanged. A tuning
tool: reads train and dev data only.

``--compare OUT`` pairs this run with another one's ``--out`` made in another workdir
(e.g. a config with other train noise types): for each variant in both, the fold models'
(unseen) and the all-types models' (seen) PESQ, STOI and SNR on the same cross-type
mixtures (matched by ``mix_id``: same dev utterances, noise recordings and seed),
this run minus the other, with 95 % cluster-bootstrap intervals over utterances.

    .venv/bin/python experiments/se_noise_generalisation.py --workdir DIR --model unet_at \\
        --variant default --jobs 3 --out results/experiments/noise_gen_unet_at
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from se_selection_dev import CLEAN_CONTROL, TRAIN_KEYS, score_variant, train_variant
from tuning import METRICS, default_config, noisy_scores, tuning_args, tuning_parser

from advspeech import SAMPLE_RATE
from advspeech.core.dsp import scale_noise_to_snr, take_segment
from advspeech.core.io import read_audio, read_csv, write_audio
from advspeech.core.seeding import rng_for
from advspeech.core.torchutil import set_threads
from advspeech.evaluation.statistics import cluster_bootstrap_ci, paired_difference_ci
from advspeech.pipeline.config import se_train_settings

DEFAULT_FOLDS = ["WHITE,DOOR", "BROWN,MODULATED", "HUM,FAN"]


def cross_type_mixtures(config: dict, out: Path) -> pd.DataFrame:
    """Every dev utterance mixed with every train noise type (written once, reused)."""
    manifest = out / "mixtures.csv"
    if manifest.exists():
        return pd.read_csv(manifest)
    clean = read_csv("results/data/clean/dev.csv", required=["clean_path", "speaker"])
    noise = read_csv("results/data/noise/manifest.csv", required=["noise_env", "path"])
    noise = noise[noise["split"] == "train"]
    signals = {r.noise_env: read_audio(r.path)[0][0] for r in noise.itertuples(index=False)}
    snrs = config["mix"]["snrs_db"]
    (out / "mixtures").mkdir(parents=True, exist_ok=True)
    rows = []
    for utt in clean.itertuples(index=False):
        x = read_audio(utt.clean_path)[0][0]
        for env in sorted(signals):
            rng = rng_for(config["seed"], "noise-generalisation", utt.utt_id, env)
            snr = float(snrs[int(rng.integers(len(snrs)))])
            for _ in range(10):  # redraw a segment that would clip, as the mix rule does
                noisy = x + scale_noise_to_snr(x, take_segment(signals[env], len(x), rng), snr)
                if np.max(np.abs(noisy)) < 0.999:
                    break
            else:
                print(f"skipped {utt.utt_id} x {env}: clips at {snr} dB in every draw")
                continue
            path = out / "mixtures" / f"{utt.utt_id}_{env}.wav"
            write_audio(path, noisy, SAMPLE_RATE)
            rows.append(
                {
                    "mix_id": f"{utt.utt_id}_{env}",
                    "utt_id": utt.utt_id,
                    "speaker": utt.speaker,
                    "split": "dev",
                    "clean_path": utt.clean_path,
                    "noisy_path": str(path),
                    "noise_env": env,
                    "snr_db": snr,
                }
            )
    frame = pd.DataFrame(rows)
    frame.to_csv(manifest, index=False)
    return frame


def without_types(manifest: str, types: list[str], dest: Path) -> str:
    """``manifest`` less the mixtures of the held-out noise ``types``, written to ``dest``
    (``manifest`` itself when there are none)."""
    if not types:
        return manifest
    frame = pd.read_csv(manifest, keep_default_na=False)
    frame[~frame["noise_env"].isin(types)].to_csv(dest, index=False)
    return str(dest)


def compare_runs(out: Path, other: Path, names: list[str], folds: list[list[str]]) -> pd.DataFrame:
    """This run's per-mixture scores minus ``other``'s on the mixtures both scored."""
    mixtures = pd.read_csv(out / "mixtures.csv")
    held_out = mixtures[mixtures["noise_env"].isin({e for f in folds for e in f})]
    stems = {"seen": ["all"], "unseen": ["minus_" + "_".join(f) for f in folds]}
    rows = []
    for name in names:
        if not (other / name).is_dir():
            print(f"--compare: {other} has no variant {name!r}; skipped")
            continue
        for kind, tags in stems.items():
            mine = pd.concat(pd.read_csv(out / name / f"{t}.scores.csv") for t in tags)
            theirs = pd.concat(pd.read_csv(other / name / f"{t}.scores.csv") for t in tags)
            both = held_out[["mix_id", "utt_id"]].merge(mine, on="mix_id")
            both = both.merge(theirs, on="mix_id", suffixes=("", "_other"))
            row = {"variant": name, "models": kind, "mixtures": len(both)}
            for m in METRICS:
                diff = paired_difference_ci(both[m], both[f"{m}_other"], both["utt_id"])
                row |= {f"{m}_diff": diff.mean, f"{m}_low": diff.low, f"{m}_high": diff.high}
            rows.append(row)
    return pd.DataFrame(rows)


def training_jobs(config: dict, model: str, variants: list, folds: list, out: Path) -> list:
    """One ``train_variant`` job per variant: its all-types reference (for ``default``
    the workdir's own model, copied) and a model per fold without the fold's types."""
    jobs = []
    for name, *settings in variants:
        overrides = {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in settings)}
        model_cfg = {**config["se"]["models"][model]}
        train_cfg = se_train_settings(config, model, "noisy")
        for key, value in overrides.items():
            (train_cfg if key in TRAIN_KEYS else model_cfg)[key] = value
        (out / name).mkdir(exist_ok=True)
        reference = out / name / "all.pt"
        if not overrides and not reference.exists():
            # the workflow's own model: trained by the same code on the same data and seed
            shutil.copy(f"results/models/se/{model}_noisy.pt", reference)
            shutil.copy(
                f"results/models/se/{model}_noisy.history.json",
                str(reference).replace(".pt", ".history.json"),
            )
        common = (model, model_cfg, train_cfg)
        train, dev = "results/data/mix/train.csv", "results/data/mix/dev.csv"
        jobs.append((f"{name}/all", *common, str(reference), config["seed"], None, [], train, dev))
        for fold in folds:
            tag = "minus_" + "_".join(fold)
            jobs.append(
                (
                    f"{name}/{tag}",
                    *common,
                    str(out / name / f"{tag}.pt"),
                    config["seed"],
                    None,
                    [],
                    without_types(train, fold, out / f"train_{tag}.csv"),
                    without_types(dev, fold, out / f"dev_{tag}.csv"),
                )
            )
    return jobs


def seen_and_unseen(
    name: str, mixtures: pd.DataFrame, pairs: list, folds: list, out: Path, segment: int, jobs: int
) -> dict:
    """Scores of every mixture through the all-types model (``seen``) and through the
    fold model that never heard its type (``unseen``)."""
    seen = score_variant(str(out / name / "all"), mixtures, pairs, segment, jobs)
    unseen = {m: np.full(len(mixtures), np.nan) for m in METRICS}
    for fold in folds:
        part = mixtures["noise_env"].isin(fold).to_numpy()
        scored = score_variant(
            str(out / name / ("minus_" + "_".join(fold))),
            mixtures[part].reset_index(drop=True),
            [p for p, keep in zip(pairs, part, strict=True) if keep],
            segment,
            jobs,
        )
        for m in METRICS:
            unseen[m][part] = scored[m]
    return {"seen": seen, "unseen": unseen}


def generalisation_rows(
    name: str, result: dict, mixtures: pd.DataFrame, noisy: dict, folds: list
) -> list[dict]:
    """Per held-out type and over all of them: noisy, seen and unseen means and the
    paired unseen - seen gap; the "all" row adds the clean-speech control."""
    seen, unseen = result["seen"], result["unseen"]
    utts = mixtures["utt_id"].to_numpy()
    first_of_utt = ~mixtures["utt_id"].duplicated().to_numpy()  # one clean pass each
    speakers = mixtures["speaker"].to_numpy()[first_of_utt]
    clean_low = {
        m: cluster_bootstrap_ci(seen[m][first_of_utt], speakers).low for m in CLEAN_CONTROL
    }
    # the held-out types only (the folds need not cover every train type), then all of them
    held_out = sorted({env for fold in folds for env in fold})
    rows = []
    for env in [*held_out, "all"]:
        part = mixtures["noise_env"].isin(held_out if env == "all" else [env]).to_numpy()
        row = {"variant": name, "noise_env": env, "mixtures": int(part.sum())}
        for m in METRICS:
            gap = paired_difference_ci(unseen[m][part], seen[m][part], utts[part])
            row |= {
                f"noisy_{m}": float(np.nanmean(noisy[m][part])),
                f"seen_{m}": float(np.nanmean(seen[m][part])),
                f"unseen_{m}": float(np.nanmean(unseen[m][part])),
                f"{m}_unseen_minus_seen": gap.mean,
                f"{m}_low": gap.low,
                f"{m}_high": gap.high,
            }
        if env == "all":
            row |= {f"{m}_speaker_low": v for m, v in clean_low.items()}
            row |= {m: float(np.nanmean(seen[m][first_of_utt])) for m in CLEAN_CONTROL}
        rows.append(row)
    return rows


def print_variant(frame: pd.DataFrame, name: str) -> None:
    print(
        f"\n{name}: PESQ (STOI, SNR dB) gain over the noisy input on the held-out types; "
        "unseen - seen [95 % CI]; 'all': every held-out type"
    )
    for row in frame[frame["variant"] == name].itertuples(index=False):
        print(
            f"  {row.noise_env:>10} ({row.mixtures:3d}): noisy {row.noisy_pesq:.3f}  "
            f"seen {row.seen_pesq - row.noisy_pesq:+.3f}  unseen {row.unseen_pesq - row.noisy_pesq:+.3f}  "
            f"gap {row.pesq_unseen_minus_seen:+.3f} [{row.pesq_low:+.3f}, {row.pesq_high:+.3f}]  "
            f"STOI {row.seen_stoi - row.noisy_stoi:+.3f}/{row.unseen_stoi - row.noisy_stoi:+.3f}  "
            f"SNR {row.seen_snr - row.noisy_snr:+.2f}/{row.unseen_snr - row.noisy_snr:+.2f}"
        )
    last = frame[(frame["variant"] == name) & (frame["noise_env"] == "all")].iloc[0]
    print(
        "  clean speech through the all-types model: PESQ/STOI "
        f"{last['clean_pesq']:.3f}/{last['clean_stoi']:.3f}, speaker low "
        f"{last['clean_pesq_speaker_low']:.3f}/{last['clean_stoi_speaker_low']:.3f}"
    )


def print_against_first(results: dict, names: list[str], mixtures: pd.DataFrame, folds: list):
    """Each later variant minus the first, seen and unseen, paired over utterances."""
    utts = mixtures["utt_id"].to_numpy()
    covered = mixtures["noise_env"].isin({env for fold in folds for env in fold}).to_numpy()
    first = names[0]
    for name in names[1:]:
        for kind in ("seen", "unseen"):
            diffs = {
                m: paired_difference_ci(
                    results[name][kind][m][covered], results[first][kind][m][covered], utts[covered]
                )
                for m in METRICS
            }
            print(
                f"{name} - {first}, {kind}: "
                + "  ".join(
                    f"{m.upper()} {d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
                    for m, d in diffs.items()
                )
            )


def print_comparison(out: Path, other: Path, names: list[str], folds: list) -> None:
    compared = compare_runs(out, other, names, folds)
    compared.to_csv(out / "compared.csv", index=False)
    print(f"\nthis run - {other}, on the held-out types' mixtures scored by both [95 % CI]:")
    for row in compared.itertuples(index=False):
        print(
            f"  {row.variant} {row.models:>6} ({row.mixtures}): "
            + "  ".join(
                f"{m.upper()} {getattr(row, m + '_diff'):+.3f} "
                f"[{getattr(row, m + '_low'):+.3f}, {getattr(row, m + '_high'):+.3f}]"
                for m in METRICS
            )
        )
    print(f"wrote {out}/compared.csv")


def main() -> None:
    parser = tuning_parser(__doc__, "results/experiments/se_noise_generalisation", split=False)
    parser.add_argument("--workdir", default=".", help="a finished workflow run")
    parser.add_argument("--model", default="unet_at")
    parser.add_argument("--variant", nargs="+", action="append", default=None)
    parser.add_argument(
        "--folds", nargs="+", default=DEFAULT_FOLDS, help="held-out types, comma-separated"
    )
    parser.add_argument("--compare", help="another run's --out (absolute path) to pair with")
    args = tuning_args(parser, "experiments/se_noise_generalisation.py")
    variants = args.variant or [["default"]]
    names = [name for name, *_ in variants]
    config = default_config()
    os.chdir(args.workdir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_types = set(config["noise"]["environments"]["train"])
    folds = [f.split(",") for f in args.folds]
    for fold in folds:
        if not set(fold) <= train_types:
            parser.error(f"--folds {','.join(fold)}: hold out train noise types {train_types}")
    mixtures = cross_type_mixtures(config, out)
    with ProcessPoolExecutor(args.jobs) as pool:
        for done in pool.map(
            train_variant, training_jobs(config, args.model, variants, folds, out)
        ):
            print(f"trained {done}", flush=True)
    set_threads(args.jobs)
    pairs = [
        (read_audio(c)[0][0], read_audio(n)[0][0])
        for c, n in zip(mixtures["clean_path"], mixtures["noisy_path"], strict=True)
    ]
    noisy = noisy_scores(mixtures, pairs, out / "noisy.scores.csv", args.jobs)
    segment = config["se"]["segment"]
    results = {
        n: seen_and_unseen(n, mixtures, pairs, folds, out, segment, args.jobs) for n in names
    }
    frame = pd.DataFrame(
        [row for n in names for row in generalisation_rows(n, results[n], mixtures, noisy, folds)]
    )
    frame.to_csv(out / "generalisation.csv", index=False)
    for name in names:
        print_variant(frame, name)
    print_against_first(results, names, mixtures, folds)
    print(f"wrote {out}/generalisation.csv")
    if args.compare:
        print_comparison(out, Path(args.compare), names, folds)


if __name__ == "__main__":
    main()

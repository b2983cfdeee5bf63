"""Compare trained enhancement models on one set of dev mixtures, paired by mixture.

For a question about *training data* (which noise types, how much of it), where each
candidate is a model trained in its own workflow run: every ``--model NAME=PATH`` is
applied to the same mixtures (a manifest written by the ``mix`` rule, e.g. a workdir
whose ``noise.environments.dev`` lists noise types none of the models trained on), and
to each mixture's clean utterance (the benign control). Printed and saved per group of
noise types (all mixtures, each type, and each ``--group NAME=ENV,ENV``): each model's
PESQ, STOI and SNR gain over the noisy input, and its paired difference to the first
model, with 95 % cluster-bootstrap intervals over utterances; and whether each model
meets the clean-speech control (lower 95 % bound over speakers of its clean PESQ and
STOI at least 3.5 and 0.95, as ``se_selection_dev.py``). Scores are cached beside the
links to the models in ``--out`` (``NAME.scores.csv``, while newer than the model).
A tuning tool: it refuses a manifest that holds test mixtures.

    .venv/bin/python experiments/se_compare_models.py --mixtures RUN/results/data/mix/dev.csv \\
        --model six=RUN_A/results/models/se/unet_at_noisy.pt \\
        --model seven=RUN_B/results/models/se/unet_at_noisy.pt --group unseen=MUSIC,ENGINE
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from se_selection_dev import CLEAN_CONTROL, score_variant
from tuning import (
    METRICS,
    default_config,
    noisy_scores,
    refuse_test_rows,
    tuning_args,
    tuning_parser,
)

from advspeech.core.io import read_audio, read_csv
from advspeech.core.torchutil import set_threads
from advspeech.evaluation.statistics import cluster_bootstrap_ci, paired_difference_ci


def compare(
    mixtures: pd.DataFrame, noisy: dict, results: dict, groups: dict[str, list[str]]
) -> pd.DataFrame:
    """One row per (group, model): gains over the noisy input and paired differences to
    the first model, with intervals over utterances, and the clean-speech control."""
    first = next(iter(results))
    rows = []
    for group, envs in groups.items():
        keep = mixtures["noise_env"].isin(envs).to_numpy()
        utts = mixtures["utt_id"].to_numpy()[keep]
        speakers = mixtures["speaker"].to_numpy()[keep]
        for name, scores in results.items():
            row = {"group": group, "model": name, "mixtures": int(keep.sum())}
            for m in METRICS:
                gain = paired_difference_ci(scores[m][keep], noisy[m][keep], utts)
                diff = paired_difference_ci(scores[m][keep], results[first][m][keep], utts)
                row |= {
                    f"{m}_gain": gain.mean,
                    f"{m}_gain_low": gain.low,
                    f"{m}_gain_high": gain.high,
                    f"{m}_vs_{first}": diff.mean,
                    f"{m}_vs_{first}_low": diff.low,
                    f"{m}_vs_{first}_high": diff.high,
                }
            for m in CLEAN_CONTROL:
                bound = cluster_bootstrap_ci(scores[m][keep], speakers)
                row |= {m: bound.mean, f"{m}_speaker_low": bound.low}
            row["meets_clean_control"] = all(
                row[f"{m}_speaker_low"] >= line for m, line in CLEAN_CONTROL.items()
            )
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = tuning_parser(__doc__, "results/experiments/se_compare_models", split=False)
    parser.add_argument("--mixtures", required=True, help="a mix rule's manifest (not test)")
    parser.add_argument("--model", action="append", required=True, help="NAME=PATH of a .pt")
    parser.add_argument("--group", action="append", default=[], help="NAME=ENV,ENV,...")
    args = tuning_args(parser, "experiments/se_compare_models.py")
    mixtures = read_csv(
        args.mixtures,
        required=["mix_id", "utt_id", "speaker", "split", "noise_env", "clean_path", "noisy_path"],
    )
    refuse_test_rows(parser, mixtures, args.mixtures, "experiments/se_compare_models.py")
    models = dict(spec.split("=", 1) for spec in args.model)
    groups = {"all": sorted(set(mixtures["noise_env"]))}
    groups |= {env: [env] for env in groups["all"]}
    groups |= {name: envs.split(",") for name, envs in (g.split("=", 1) for g in args.group)}
    config = default_config()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    # the manifest's paths are relative to the workdir that wrote it
    os.chdir(Path(args.mixtures).resolve().parents[3])
    set_threads(args.jobs)
    pairs = [
        (read_audio(c)[0][0], read_audio(n)[0][0])
        for c, n in zip(mixtures["clean_path"], mixtures["noisy_path"], strict=True)
    ]
    noisy = noisy_scores(mixtures, pairs, out / "noisy.scores.csv", args.jobs)
    results = {}
    for name, path in models.items():
        link = out / f"{name}.pt"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path(path).resolve())
        results[name] = score_variant(
            str(out / name), mixtures, pairs, config["se"]["segment"], args.jobs
        )
        print(f"scored {name} ({path})", flush=True)
    table = compare(mixtures, noisy, results, groups)
    first = next(iter(models))
    for row in table.itertuples(index=False):
        r = row._asdict()
        print(
            f"{r['group']:>10} {r['model']:>12} ({r['mixtures']:3d}): "
            + "  ".join(
                f"{m.upper()} {r[f'{m}_gain']:+.3f} [{r[f'{m}_gain_low']:+.3f}, "
                f"{r[f'{m}_gain_high']:+.3f}] vs {first} {r[f'{m}_vs_{first}']:+.3f} "
                f"[{r[f'{m}_vs_{first}_low']:+.3f}, {r[f'{m}_vs_{first}_high']:+.3f}]"
                for m in METRICS
            )
            + "  clean speaker low "
            + "/".join(f"{r[f'{m}_speaker_low']:.3f}" for m in CLEAN_CONTROL)
        )
    table.to_csv(out / "comparison.csv", index=False)
    print(f"wrote {out / 'comparison.csv'}")


if __name__ == "__main__":
    main()

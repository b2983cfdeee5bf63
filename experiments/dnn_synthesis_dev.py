"""Select the DNN's synthesis-only settings (``variance_scale``, ``gain_cap``) on dev.

Both act at resynthesis only (the training loss is untouched), so one trained DNN of a
finished workflow run is re-synthesised on every *dev* mixture under each setting and
scored (PESQ, STOI, the paper's SNR). Printed side by side, one row per setting: means
and the paired difference to the unprocessed mixture with a 95 % interval over
utterances. A tuning tool: it reads dev data only and refuses ``--split test``.

    .venv/bin/python experiments/dnn_synthesis_dev.py --workdir DIR [--scales 1.0 1.2 1.4 1.6]
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd
import torch
from tuning import tuning_args, tuning_parser

from advspeech.core.io import read_audio, read_csv
from advspeech.core.torchutil import load_checkpoint, set_threads
from advspeech.evaluation.metrics import pesq_stoi_snr
from advspeech.evaluation.statistics import paired_difference_ci
from advspeech.se import build_se
from advspeech.se.enhance import enhance_signal


def main() -> None:
    parser = tuning_parser(__doc__, "results/experiments/dnn_synthesis_dev.csv")
    parser.add_argument("--workdir", default=".", help="a finished workflow run")
    parser.add_argument("--model", default="results/models/se/dnn_noisy.pt")
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 1.2, 1.4, 1.6])
    args = tuning_args(parser, "experiments/dnn_synthesis_dev.py")
    set_threads(args.jobs)
    os.chdir(args.workdir)
    payload = load_checkpoint(args.model)
    mixtures = read_csv(f"results/data/mix/{args.split}.csv", required=["noisy_path", "clean_path"])
    pairs = [
        (read_audio(c)[0][0], read_audio(n)[0][0])
        for c, n in zip(mixtures["clean_path"], mixtures["noisy_path"], strict=True)
    ]
    utts = mixtures["utt_id"].to_numpy()
    cleans = [c for c, _ in pairs]
    base = pesq_stoi_snr(cleans, [n for _, n in pairs], args.jobs)
    rows = []
    for scale, cap in itertools.product(args.scales, (False, True)):
        model = build_se(
            "dnn", {**payload["meta"]["model"], "variance_scale": scale, "gain_cap": cap}
        )
        model.load_state_dict(payload["state_dict"])
        model.eval()
        outputs = [
            enhance_signal(model, torch.from_numpy(n), 16384, torch.device("cpu")).numpy()
            for _, n in pairs
        ]
        scores = pesq_stoi_snr(cleans, outputs, args.jobs)
        row = {"variance_scale": scale, "gain_cap": cap, "mixtures": len(pairs)}
        for metric in ("pesq", "stoi", "snr"):
            diff = paired_difference_ci(scores[metric], base[metric], utts)
            row |= {
                metric: float(np.nanmean(scores[metric])),
                f"{metric}_gain": diff.mean,
                f"{metric}_gain_low": diff.low,
                f"{metric}_gain_high": diff.high,
            }
        rows.append(row)
        print(
            f"scale {scale:4.2f} cap {cap!s:5}: "
            + "  ".join(
                f"{m.upper()} {row[m]:.3f} ({row[m + '_gain']:+.3f} "
                f"[{row[m + '_gain_low']:+.3f}, {row[m + '_gain_high']:+.3f}])"
                for m in ("pesq", "stoi", "snr")
            ),
            flush=True,
        )
    print(
        f"unprocessed {args.split}: PESQ {np.nanmean(base['pesq']):.3f}  "
        f"STOI {np.nanmean(base['stoi']):.3f}  SNR {np.nanmean(base['snr']):.2f} dB"
    )
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Two attack variants' over-the-air trials on the same utterances and rooms, paired:
RoSA of each and the difference B - A with a 95 % interval over voices, then
utterances (the trials files ``experiments/attack_budget_curve.py`` writes per
milestone). Dev only: trials of test rooms are refused.

    .venv/bin/python experiments/compare_trials.py A/400/trials.csv B/400/trials.csv
"""

from __future__ import annotations

import pandas as pd
from tuning import tuning_args, tuning_parser

from advspeech.evaluation.claims.base import compare


def main() -> None:
    parser = tuning_parser(__doc__, "-", split=False)
    parser.add_argument("a", help="trials of the default")
    parser.add_argument("b", help="trials of the alternative")
    args = tuning_args(parser, "experiments/compare_trials.py")
    a, b = pd.read_csv(args.a), pd.read_csv(args.b)
    for frame, path in ((a, args.a), (b, args.b)):
        if frame["room_id"].astype(str).str.startswith(("test", "shifted")).any():
            parser.error(f"{path}: trials in test rooms (tuning reads dev rooms only)")
    rosa = {k: f.assign(v=100.0 * f["success"].astype(float)) for k, f in (("a", a), ("b", b))}
    diff = compare(rosa["b"], rosa["a"], "v", ["utt_id", "room_id"], "B - A")
    print(f"A {rosa['a']['v'].mean():.1f} %  B {rosa['b']['v'].mean():.1f} %  {diff}")


if __name__ == "__main__":
    main()

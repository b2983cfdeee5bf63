"""Claims of Table 4 (over-the-air success and WER through each defence, and of the
adversarially trained recogniser) and Fig. 3 (the adaptive attacker)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from advspeech.evaluation.claims.base import TRIAL_KEYS, Claims, Comparison, compare
from advspeech.evaluation.quietest import quietest_success
from advspeech.reporting.paper import ASR_LABELS, NO_DEFENCE, PAPER, se_label

NOT_IN_PAPER = "not in the paper"
Trials = Mapping[tuple[str, str, str], pd.DataFrame]  # (attack, victim, defence) labels
UNET_AT_COLUMN = f"SE_{se_label('unet_at')}"


def table4_claims(claims: Claims, trials: Trials, seed: int) -> None:
    """Per attack of the trials (the paper's and any registered one that runs): every
    AdvT SE model lowers RoSA (T4-*-SE-ROSA), U-Net_At lowest (T4-*-UNETAT-LOWEST, when
    it runs), the AdvT recogniser lowers RoSA and WER (T4-*-ADVT-*). The paper's values
    are quoted for the paper's attacks and columns only."""
    victim, victim_advt = ASR_LABELS["ds"], ASR_LABELS["ds_advt"]
    plain, twin = (victim, victim), (victim, victim_advt)
    columns = list(dict.fromkeys(d for _, _, d in trials))
    with_se = [c for c in columns if c != NO_DEFENCE]
    for attack in dict.fromkeys(a for a, _, _ in trials):
        paper = PAPER["table4"].get(attack)

        def t4(victims, a, b, measure, attack=attack):
            return _trial_comparison(trials, attack, victims, a, b, measure, seed)

        claims.add(
            f"T4-{attack}-SE-ROSA",
            "table4",
            f"{attack}: every AdvT SE model lowers RoSA of the undefended recogniser",
            _paper_row(paper, f"RoSA_{victim}", columns),
            [t4(plain, NO_DEFENCE, s, "RoSA") for s in with_se],
        )
        claims.add(
            f"T4-{attack}-SE-WER",
            "table4",
            f"{attack}: every AdvT SE model lowers the WER of the undefended recogniser "
            "under attack",
            _paper_row(paper, f"WER_{victim}", columns),
            [t4(plain, NO_DEFENCE, s, "WER") for s in with_se],
        )
        if UNET_AT_COLUMN in with_se and len(with_se) > 1:
            claims.add(
                f"T4-{attack}-UNETAT-LOWEST",
                "table4",
                f"{attack}: U-Net_At gives the lowest RoSA of the SE models",
                _paper_row(paper, f"RoSA_{victim}", columns),
                [t4(plain, s, UNET_AT_COLUMN, "RoSA") for s in with_se if s != UNET_AT_COLUMN],
            )
        for measure in ("RoSA", "WER"):
            claims.add(
                f"T4-{attack}-ADVT-{measure}",
                "table4",
                f"{attack}: adversarial training of the recogniser lowers {measure} (w/o SE)",
                f"{paper[f'{measure}_{victim}'][NO_DEFENCE]:.2f} -> "
                f"{paper[f'{measure}_{victim_advt}'][NO_DEFENCE]:.2f}"
                if paper
                else NOT_IN_PAPER,
                [t4(twin, NO_DEFENCE, NO_DEFENCE, measure)],
            )


def _trial_comparison(
    trials: Trials, attack: str, victims: tuple[str, str], a: str, b: str, measure: str, seed: int
) -> Comparison:
    """RoSA (percent) or WER of (victims[0], defence a) - (victims[1], defence b),
    paired on utterance and room."""
    column = "success" if measure == "RoSA" else "wer"
    scale = 100.0 if measure == "RoSA" else 1.0
    fa = trials[(attack, victims[0], a)].assign(v=lambda d: scale * d[column].astype(float))
    fb = trials[(attack, victims[1], b)].assign(v=lambda d: scale * d[column].astype(float))
    label = f"{a} - {b}" if victims[0] == victims[1] else f"{victims[0]} - {victims[1]}"
    # WER by reference words, as Table 4 reports it
    weights = "words" if measure == "WER" and "words" in fa else None
    return compare(fa, fb, "v", TRIAL_KEYS, label, seed, weights=weights)


def adaptive_claims(
    claims: Claims,
    adaptive: Mapping[tuple[str, str], pd.DataFrame],
    seed: int,
    step_db: float | None = None,
) -> None:
    """F3-<attack>: the adaptive attacker must be louder through the defence than
    against the bare recogniser: per utterance, the quietest successful SNR budget
    without the defence minus with it, > 0 dB (paired on utterances; ``step_db``: the
    search's resolution, where a never-successful utterance is counted)."""
    for attack in dict.fromkeys(a for a, _ in adaptive):
        paper = PAPER["fig3"].get(attack)
        sweeps = {d: f for (a, d), f in adaptive.items() if a == attack}
        if "none" not in sweeps or len(sweeps) < 2:
            continue
        defended = next(d for d in sweeps if d != "none")
        none = quietest_success(sweeps["none"], step_db)
        through = quietest_success(sweeps[defended], step_db)
        label = f"quietest dB none - {defended}"
        comparison = compare(none, through, "quietest_db", ["utt_id"], label, seed)
        claims.add(
            f"F3-{attack.upper()}",
            "fig3",
            f"{attack}: through {defended} the adaptive attacker needs a louder perturbation "
            "than against the bare recogniser (quietest successful SNR budget, paired)",
            f"100 % TASR at {paper['none']:.2f} dB without, {paper['defended']:.2f} dB with"
            if paper
            else NOT_IN_PAPER,
            [comparison],
        )


def _paper_row(paper: Mapping | None, row: str, columns: list[str]) -> str:
    """The paper's values of a Table 4 row in the columns that run and the paper has."""
    if not paper:
        return NOT_IN_PAPER
    return "; ".join(f"{c} {paper[row][c]:.2f}" for c in columns if c in paper[row])

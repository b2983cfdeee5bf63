"""The paper's claims, checked against our tables and Fig. 3.

Each claim compares cells of our tables. A comparison "a > b" holds when the means are
in that order *and* the bootstrap 95 % intervals do not overlap (where they overlap the
data do not decide it, and the claim is reported as not holding). A claim over several
cells holds when every comparison does. Output columns:
``claim_id,artifact,claim,paper_value,our_value,holds``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Cell:
    mean: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.mean:.2f} [{self.low:.2f}, {self.high:.2f}]"


def greater(a: Cell, b: Cell) -> bool:
    """a > b, decided by the confidence intervals."""
    return bool(a.mean > b.mean and a.low > b.high)


def cells(long: pd.DataFrame, *keys: str) -> Callable[..., Cell]:
    """Lookup of a table's long form by the values of ``keys`` (in that order) -> Cell:
    ``cells(t, "system", "metric")`` for Tables 1-3, ``cells(t, "attack", "row",
    "system")`` for Table 4."""
    indexed = long.set_index(list(keys))

    def get(*values: str) -> Cell:
        if values not in indexed.index:
            raise KeyError(f"no cell {'/'.join(values)}")
        r = indexed.loc[values]
        r = r.iloc[0] if isinstance(r, pd.DataFrame) else r
        return Cell(float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]))

    return get


PAPER = {
    "table1": {
        "Noisy_D": {"PESQ": 1.97, "STI": 0.65, "STOI": 0.82, "SNR": -1.63},
        "DNN": {"PESQ": 2.62, "STI": 0.73, "STOI": 0.90, "SNR": 7.67},
        "U-Net_W": {"PESQ": 2.86, "STI": 0.81, "STOI": 0.93, "SNR": 9.83},
        "U-Net_At": {"PESQ": 2.88, "STI": 0.81, "STOI": 0.92, "SNR": 9.85},
    },
    "table2": {
        "Noisy_adv": {"PESQ": 1.31, "STI": 0.67, "STOI": 0.84, "SNR": -1.52},
        "DNN": {"PESQ": 1.21, "STI": 0.66, "STOI": 0.81, "SNR": 7.23},
        "U-Net_W": {"PESQ": 1.16, "STI": 0.62, "STOI": 0.80, "SNR": 7.43},
        "U-Net_At": {"PESQ": 1.18, "STI": 0.64, "STOI": 0.81, "SNR": 7.68},
    },
    "table3": {
        "Noisy_adv": {"PESQ": 1.31, "STI": 0.67, "STOI": 0.84, "SNR": -1.52},
        "DNN_T": {"PESQ": 2.55, "STI": 0.69, "STOI": 0.86, "SNR": 7.45},
        "U-Net_T_W": {"PESQ": 2.72, "STI": 0.72, "STOI": 0.88, "SNR": 7.67},
        "U-Net_T_At": {"PESQ": 2.78, "STI": 0.75, "STOI": 0.90, "SNR": 7.92},
    },
    # RoSA / WER (%), columns w/o SE, SE_DNN, SE_U-Net_W, SE_U-Net_At
    "table4": {
        "Grad_adv": {
            "RoSA_ASR": [90.23, 84.86, 83.43, 83.11],
            "RoSA_ASR+AdvT": [27.34, 22.21, 19.29, 18.23],
            "WER_ASR": [85.90, 72.97, 67.46, 66.12],
            "WER_ASR+AdvT": [19.37, 18.92, 17.64, 17.15],
        },
        "Evo_adv": {
            "RoSA_ASR": [91.21, 85.67, 82.03, 79.35],
            "RoSA_ASR+AdvT": [20.47, 18.45, 17.81, 16.14],
            "WER_ASR": [87.90, 83.12, 79.20, 71.12],
            "WER_ASR+AdvT": [19.45, 19.42, 18.44, 17.42],
        },
    },
    # SNR (dB) at which the adaptive attacker reaches 100 % TASR
    "fig3": {"grad": {"none": 7.63, "defended": -2.23}, "evo": {"none": 7.82, "defended": -3.21}},
}
SE_COLUMNS = ["w/o SE", "SE_DNN", "SE_U-Net_W", "SE_U-Net_At"]


def check_claims(
    table1: pd.DataFrame,
    table2: pd.DataFrame,
    table3: pd.DataFrame,
    table4: pd.DataFrame,
    fig3: pd.DataFrame,
) -> pd.DataFrame:
    """All claims; inputs are the long (``_ci``) tables and Fig. 3's SNR summary
    (``attack,defence,snr_db,tasr``, the defended row's defence not ``none``)."""
    rows: list[dict] = []

    def add(claim_id, artifact, claim, paper_value, our_value, holds):
        rows.append(
            {
                "claim_id": claim_id,
                "artifact": artifact,
                "claim": claim,
                "paper_value": paper_value,
                "our_value": our_value,
                "holds": bool(holds),
            }
        )

    t1, t2, t3 = (cells(t, "system", "metric") for t in (table1, table2, table3))
    se1 = ["DNN", "U-Net_W", "U-Net_At"]
    for metric in ("PESQ", "STI", "STOI", "SNR"):
        add(
            f"T1-{metric}",
            "table1",
            f"every SE model raises {metric} over the noisy input (Noisy_D)",
            _paper_quality("table1", "Noisy_D", se1, metric),
            _ours(t1, "Noisy_D", se1, metric),
            all(greater(t1(s, metric), t1("Noisy_D", metric)) for s in se1),
        )
    add(
        "T1-UNET-PESQ",
        "table1",
        "both U-Nets score higher PESQ than the DNN on noisy speech",
        _paper_quality("table1", "DNN", ["U-Net_W", "U-Net_At"], "PESQ"),
        _ours(t1, "DNN", ["U-Net_W", "U-Net_At"], "PESQ"),
        all(greater(t1(s, "PESQ"), t1("DNN", "PESQ")) for s in ("U-Net_W", "U-Net_At")),
    )
    add(
        "T2-SNR",
        "table2",
        "noisy-trained SE raises the SNR of adversarial examples",
        _paper_quality("table2", "Noisy_adv", se1, "SNR"),
        _ours(t2, "Noisy_adv", se1, "SNR"),
        all(greater(t2(s, "SNR"), t2("Noisy_adv", "SNR")) for s in se1),
    )
    for metric in ("PESQ", "STOI", "STI"):
        add(
            f"T2-{metric}",
            "table2",
            f"noisy-trained SE lowers {metric} of adversarial examples",
            _paper_quality("table2", "Noisy_adv", se1, metric),
            _ours(t2, "Noisy_adv", se1, metric),
            all(greater(t2("Noisy_adv", metric), t2(s, metric)) for s in se1),
        )
    twins = {"DNN_T": "DNN", "U-Net_T_W": "U-Net_W", "U-Net_T_At": "U-Net_At"}
    for metric in ("PESQ", "STOI"):
        add(
            f"T3-TWIN-{metric}",
            "table3",
            f"each adversarially trained SE model beats its noisy-trained twin on {metric} "
            "of adversarial examples",
            "; ".join(
                f"{t}: {PAPER['table3'][t][metric]:.2f} vs {PAPER['table2'][n][metric]:.2f}"
                for t, n in twins.items()
            ),
            "; ".join(f"{t}: {t3(t, metric)} vs {t2(n, metric)}" for t, n in twins.items()),
            all(greater(t3(t, metric), t2(n, metric)) for t, n in twins.items()),
        )
    add(
        "T3-PESQ",
        "table3",
        "adversarially trained SE raises PESQ of adversarial examples over Noisy_adv",
        _paper_quality("table3", "Noisy_adv", list(twins), "PESQ"),
        _ours(t3, "Noisy_adv", list(twins), "PESQ"),
        all(greater(t3(t, "PESQ"), t3("Noisy_adv", "PESQ")) for t in twins),
    )
    t4 = cells(table4, "attack", "row", "system")
    for attack, paper in PAPER["table4"].items():
        no_se, with_se = SE_COLUMNS[0], SE_COLUMNS[1:]
        add(
            f"T4-{attack}-SE-ROSA",
            "table4",
            f"{attack}: every AdvT SE model lowers RoSA of the undefended recogniser",
            _paper_row(paper["RoSA_ASR"]),
            _ours_row(t4, attack, "RoSA_ASR"),
            all(greater(t4(attack, "RoSA_ASR", no_se), t4(attack, "RoSA_ASR", s)) for s in with_se),
        )
        at = t4(attack, "RoSA_ASR", "SE_U-Net_At")
        add(
            f"T4-{attack}-UNETAT-LOWEST",
            "table4",
            f"{attack}: U-Net_At gives the lowest RoSA of the SE models",
            _paper_row(paper["RoSA_ASR"]),
            _ours_row(t4, attack, "RoSA_ASR"),
            all(greater(t4(attack, "RoSA_ASR", s), at) for s in ("SE_DNN", "SE_U-Net_W")),
        )
        for measure in ("RoSA", "WER"):
            add(
                f"T4-{attack}-ADVT-{measure}",
                "table4",
                f"{attack}: adversarial training of the recogniser lowers {measure} (w/o SE)",
                f"{paper[measure + '_ASR'][0]:.2f} -> {paper[measure + '_ASR+AdvT'][0]:.2f}",
                f"{t4(attack, measure + '_ASR', no_se)} -> {t4(attack, measure + '_ASR+AdvT', no_se)}",
                greater(
                    t4(attack, f"{measure}_ASR", no_se), t4(attack, f"{measure}_ASR+AdvT", no_se)
                ),
            )
    for attack, paper in PAPER["fig3"].items():
        part = fig3[fig3["attack"] == attack]
        if part.empty:
            continue
        none = part[part["defence"] == "none"].iloc[0]
        defended = part[part["defence"] != "none"].iloc[0]
        add(
            f"F3-{attack.upper()}",
            "fig3",
            f"{attack}: the defence forces the adaptive attacker to a lower SNR for 100 % TASR",
            f"{paper['none']:.2f} dB -> {paper['defended']:.2f} dB",
            f"{none['snr_db']:.2f} dB (TASR {none['tasr']:.0f} %) -> "
            f"{defended['snr_db']:.2f} dB (TASR {defended['tasr']:.0f} %)",
            # a lower SNR at full success, or a lower success rate at the best budget;
            # an attacker who never succeeds, defence or not, cannot show it (its SNR is
            # then just the largest budget's)
            none["tasr"] > 0
            and (
                (defended["tasr"] < none["tasr"])
                or (defended["tasr"] == none["tasr"] and defended["snr_db"] < none["snr_db"])
            ),
        )
    return pd.DataFrame(
        rows, columns=["claim_id", "artifact", "claim", "paper_value", "our_value", "holds"]
    )


def _paper_quality(table: str, base: str, systems: list[str], metric: str) -> str:
    p = PAPER[table]
    return f"{base} {p[base][metric]:.2f}; " + "; ".join(f"{s} {p[s][metric]:.2f}" for s in systems)


def _ours(get, base: str, systems: list[str], metric: str) -> str:
    return f"{base} {get(base, metric)}; " + "; ".join(f"{s} {get(s, metric)}" for s in systems)


def _paper_row(values: list[float]) -> str:
    return "; ".join(f"{c} {v:.2f}" for c, v in zip(SE_COLUMNS, values, strict=True))


def _ours_row(get, attack: str, row: str) -> str:
    return "; ".join(f"{c} {get(attack, row, c)}" for c in SE_COLUMNS)

"""The paper's names and numbers, defined once (Yang et al., "Characterizing speech
adversarial examples using self-attention U-Net enhancement", ICASSP 2020).

Model and attack *names* are the registries' keys (:data:`advspeech.se.SE_MODELS`,
:data:`advspeech.attacks.ATTACKS`) and the recognisers' names below; this module gives
them the paper's *labels* and lays out the paper's tables and figures. The workflow
(``common.smk``), the tables and the claims check all read them from here. It does not
import the registries (rules that render tables must not depend on the models' code);
:func:`check_labels` checks that every registered name has its label.
"""

from __future__ import annotations

from collections.abc import Iterable

# --- names ---------------------------------------------------------------------------------

ASR_LABELS = {"ds": "ASR", "ds_advt": "ASR+AdvT"}
"""Recogniser name -> label: the victim and its adversarially trained twin (Sec. 4.1)."""
ASR_MODELS = tuple(ASR_LABELS)

SE_TRAININGS = ("noisy", "advt")
"""How an enhancement model is trained: on noisy mixtures, or fine-tuned from the
noisy-trained model with Eq. 6 on adversarial examples."""

SE_LABELS = {
    "noisy": {"dnn": "DNN", "waveunet": "U-Net_W", "unet_at": "U-Net_At"},
    "advt": {"dnn": "DNN_T", "waveunet": "U-Net_T_W", "unet_at": "U-Net_T_At"},
}
"""Training -> enhancement model name -> label in Tables 1-3."""

ATTACK_LABELS = {"grad": "Grad_adv", "evo": "Evo_adv"}
"""Attack name -> label in Table 4."""

NOISY_INPUT = "Noisy_D"  # Table 1's unprocessed noisy mixtures
ADVERSARIAL_INPUT = "Noisy_adv"  # Tables 2-3's unprocessed adversarial examples
NO_DEFENCE = "w/o SE"  # Table 4's column without enhancement

SE_MODEL_NAMES = tuple(SE_LABELS["noisy"])
ATTACK_NAMES = tuple(ATTACK_LABELS)


def check_labels(se_models: Iterable[str], attacks: Iterable[str]) -> None:
    """Raise ValueError unless every model and attack the paper's tables name is
    registered (names registered beyond the paper's run through every rule and take
    their registered name as label: :func:`se_label`, :func:`attack_label`)."""
    se_models, attacks = set(se_models), set(attacks)
    problems = []
    missing_se = [se for se in SE_MODEL_NAMES if se not in se_models]
    if missing_se:
        problems.append(
            f"the paper's enhancement models {missing_se} are not registered "
            "(advspeech.se.SE_MODELS)"
        )
    missing_attacks = [a for a in ATTACK_NAMES if a not in attacks]
    if missing_attacks:
        problems.append(
            f"the paper's attacks {missing_attacks} are not registered (advspeech.attacks.ATTACKS)"
        )
    if problems:
        raise ValueError("advspeech.reporting.paper: " + "; ".join(problems))


def se_system(se: str, training: str) -> str:
    """The workflow's name of a trained enhancement model (paths, wildcards)."""
    return f"{se}_{training}"


def se_systems(se_models: Iterable[str] = SE_MODEL_NAMES) -> list[str]:
    """Every trained enhancement model of ``se_models``, in each training."""
    return [se_system(se, t) for se in se_models for t in SE_TRAININGS]


SE_SYSTEMS = tuple(se_systems())


def se_label(se: str, training: str = "noisy") -> str:
    """The paper's label of an enhancement model; a model the paper lacks is labelled by
    its registered name (``_T`` appended when adversarially trained, as the paper does)."""
    if se in SE_LABELS[training]:
        return SE_LABELS[training][se]
    return se if training == "noisy" else f"{se}_T"


def attack_label(attack: str) -> str:
    """The paper's label of an attack, or its registered name."""
    return ATTACK_LABELS.get(attack, attack)


# --- tables --------------------------------------------------------------------------------

QUALITY_TITLES = {
    "table1": "Table 1: enhancement of the noisy test set (noisy-trained models)",
    "table2": "Table 2: enhancement of adversarial examples (noisy-trained models)",
    "table3": "Table 3: enhancement of adversarial examples (adversarially trained models)",
    "se_clean": "Enhancement of clean test speech (each SE model; reference: the input)",
}


def quality_tables(
    adversarial_testset: str, se_models: Iterable[str] = SE_MODEL_NAMES
) -> dict[str, dict]:
    """The speech-quality tables: name -> title and column label -> (system, test set).
    ``adversarial_testset`` is the attacked test set Tables 2-3 enhance; ``se_models``
    the enhancement models that run (config ``se.run``), each a column labelled by
    :func:`se_label`."""
    se_models = list(se_models)

    def models(training: str, testset: str) -> dict[str, tuple[str, str]]:
        return {se_label(se, training): (se_system(se, training), testset) for se in se_models}

    systems = {
        "table1": {NOISY_INPUT: ("unprocessed", "noisy"), **models("noisy", "noisy")},
        "table2": {
            ADVERSARIAL_INPUT: ("unprocessed", adversarial_testset),
            **models("noisy", adversarial_testset),
        },
        "table3": {
            ADVERSARIAL_INPUT: ("unprocessed", adversarial_testset),
            **models("advt", adversarial_testset),
        },
        # beyond the paper: what each defence does to clean speech (PESQ/STOI against
        # the clean input itself); a defence that damages all speech must show it
        "se_clean": {**models("noisy", "clean"), **models("advt", "clean")},
    }
    return {t: {"title": QUALITY_TITLES[t], "systems": systems[t]} for t in QUALITY_TITLES}


QUALITY_METRICS = ("PESQ", "STI", "STOI", "SNR", "SI-SDR")
"""Rows of Tables 1-3; SI-SDR is beyond the paper (scale-invariant, unlike its SNR)."""


def metric_column(metric: str) -> str:
    """The per-item score column of a table metric (``SI-SDR`` -> ``si_sdr``)."""
    return metric.lower().replace("-", "_")


TABLE4_TITLE = "Table 4: over-the-air attack success (RoSA) and WER"


def table4_attacks(attacks: Iterable[str] = ATTACK_NAMES) -> dict[str, str]:
    """Table 4's row groups: label -> attack, for the attacks that run (``attacks.run``)."""
    return {attack_label(a): a for a in attacks}


def table4_defences(se_models: Iterable[str] = SE_MODEL_NAMES) -> dict[str, str]:
    """Table 4's columns: no defence, then the adversarially trained SE models of
    ``se_models`` (labelled as in the paper by their architecture) in front of each
    recogniser: label -> defence."""
    return {NO_DEFENCE: "none", **{f"SE_{se_label(se)}": se_system(se, "advt") for se in se_models}}


TABLE4_ATTACKS = table4_attacks()
TABLE4_VICTIMS = {ASR_LABELS[asr]: asr for asr in ASR_MODELS}
TABLE4_DEFENCES = table4_defences()
"""The paper's Table 4 columns (its three SE models)."""
TABLE4_MEASURES = ("RoSA", "WER")
TABLE4_ROWS = tuple(f"{m}_{v}" for m in TABLE4_MEASURES for v in TABLE4_VICTIMS)

# --- figures -------------------------------------------------------------------------------

FIG2_PANELS = {
    "(d) U-Net_At (noisy-trained)": se_system("unet_at", "noisy"),
    "(e) DNN_T": se_system("dnn", "advt"),
    "(f) U-Net_T,At": se_system("unet_at", "advt"),
}
"""Fig. 2's enhanced panels: label -> system (the first panels are the clean, noisy and
adversarial inputs)."""

FIG3_TITLE = "Fig. 3: adaptive attacks without and with the enhancement front end"

# --- the paper's numbers -------------------------------------------------------------------


def _table4_row(*values: float) -> dict[str, float]:
    """A row of the paper's Table 4, in the order of its columns."""
    return dict(zip(TABLE4_DEFENCES, values, strict=True))


# Tables 2 and 3 share their unprocessed column
_PAPER_NOISY_ADV = {"PESQ": 1.31, "STI": 0.67, "STOI": 0.84, "SNR": -1.52}

PAPER = {
    "table1": {
        "Noisy_D": {"PESQ": 1.97, "STI": 0.65, "STOI": 0.82, "SNR": -1.63},
        "DNN": {"PESQ": 2.62, "STI": 0.73, "STOI": 0.90, "SNR": 7.67},
        "U-Net_W": {"PESQ": 2.86, "STI": 0.81, "STOI": 0.93, "SNR": 9.83},
        "U-Net_At": {"PESQ": 2.88, "STI": 0.81, "STOI": 0.92, "SNR": 9.85},
    },
    "table2": {
        ADVERSARIAL_INPUT: _PAPER_NOISY_ADV,
        "DNN": {"PESQ": 1.21, "STI": 0.66, "STOI": 0.81, "SNR": 7.23},
        "U-Net_W": {"PESQ": 1.16, "STI": 0.62, "STOI": 0.80, "SNR": 7.43},
        "U-Net_At": {"PESQ": 1.18, "STI": 0.64, "STOI": 0.81, "SNR": 7.68},
    },
    "table3": {
        ADVERSARIAL_INPUT: _PAPER_NOISY_ADV,
        "DNN_T": {"PESQ": 2.55, "STI": 0.69, "STOI": 0.86, "SNR": 7.45},
        "U-Net_T_W": {"PESQ": 2.72, "STI": 0.72, "STOI": 0.88, "SNR": 7.67},
        "U-Net_T_At": {"PESQ": 2.78, "STI": 0.75, "STOI": 0.90, "SNR": 7.92},
    },
    # RoSA / WER (%): row -> column label of TABLE4_DEFENCES -> value
    "table4": {
        "Grad_adv": {
            "RoSA_ASR": _table4_row(90.23, 84.86, 83.43, 83.11),
            "RoSA_ASR+AdvT": _table4_row(27.34, 22.21, 19.29, 18.23),
            "WER_ASR": _table4_row(85.90, 72.97, 67.46, 66.12),
            "WER_ASR+AdvT": _table4_row(19.37, 18.92, 17.64, 17.15),
        },
        "Evo_adv": {
            "RoSA_ASR": _table4_row(91.21, 85.67, 82.03, 79.35),
            "RoSA_ASR+AdvT": _table4_row(20.47, 18.45, 17.81, 16.14),
            "WER_ASR": _table4_row(87.90, 83.12, 79.20, 71.12),
            "WER_ASR+AdvT": _table4_row(19.45, 19.42, 18.44, 17.42),
        },
    },
    # SNR (dB) at which the adaptive attacker reaches 100 % TASR
    "fig3": {"grad": {"none": 7.63, "defended": -2.23}, "evo": {"none": 7.82, "defended": -3.21}},
}
"""The paper's reported values, keyed by the labels above (the claims check quotes them)."""

"""The paper's layout (advspeech.reporting.paper) over what runs: the speech-quality
tables (Tables 1-3 and the clean-speech control), label -> (system, test set); Table 4's
attacks, victims and defences, label -> name; Fig. 2's enhanced panels; Fig. 3; the
claims' sources; and the targets of rule all. A registered model or attack that runs
(se.run, attacks.run) is a column or row of every table of its kind."""

QUALITY_TABLES = paper.quality_tables(ADVERSARIAL_TESTSET, RUN_SE_MODELS)
TABLE4_ATTACKS = paper.table4_attacks(RUN_ATTACKS)
TABLE4_VICTIMS = paper.TABLE4_VICTIMS
TABLE4_DEFENCES = paper.table4_defences(RUN_SE_MODELS)
FIG2_PANELS = {
    label: system for label, system in paper.FIG2_PANELS.items() if system in SE_SYSTEMS
}


# Over-the-air trials in the held-out test rooms (results/ota, Table 4) and in the
# shifted test rooms the attacker never modelled (results/ota_shifted, its twin):
# trials folder -> room set
OTA_ROOMS = {"ota": "test", "ota_shifted": "shifted"}
TABLE4_TRIALS = {"table4": "ota", "table4_shifted": "ota_shifted"}


def ota_noise_std(trials):
    ota = config["attacks"]["ota"]
    return ota["shifted_noise_std"] if trials == "ota_shifted" else ota["noise_std"]


def table4_inputs(wildcards):
    trials = TABLE4_TRIALS[wildcards.table4]
    return {
        f"{attack}__{asr}__{defence}": f"results/{trials}/{attack}/{asr}/{defence}.csv"
        for attack in TABLE4_ATTACKS.values()
        for asr in TABLE4_VICTIMS.values()
        for defence in TABLE4_DEFENCES.values()
    }


def table4_title(wildcards):
    if wildcards.table4 == "table4_shifted":
        return (
            "Table 4 (shifted rooms): over-the-air RoSA and WER in test rooms outside "
            "the attack rooms' sizes, absorption, distances and noise"
        )
    return "Table 4: over-the-air attack success (RoSA) and WER"


# Fig. 3: the adaptive attacker without and with the defence; the resolution of its
# quietest search (an utterance that never succeeds counts one step below the floor)
ADAPTIVE_STEP_DB = search_step_db(
    config["attacks"]["adaptive"]["snr_range"],
    config["attacks"]["adaptive"]["bisection_steps"],
)

ADAPTIVE_DEFENCES = ["none", config["attacks"]["adaptive"]["se"]]


def fig2_inputs(wildcards):
    return {
        "noisy": "results/data/mix/test.csv",
        "adversarial": TESTSETS[ADVERSARIAL_TESTSET][0],
        **{
            system: f"results/enhanced/{system}/{ADVERSARIAL_TESTSET}.csv"
            for system in FIG2_PANELS.values()
        },
    }


def claims_sources():
    """Per-item results behind every claim (claims are paired tests on the same items),
    input key -> (kind, *paper labels): Tables 1-3's scores, Table 4's trials, Fig. 3's
    sweeps and the benign controls. Keys are identifiers; labels carry the paper's names.
    """
    sources = {}
    for table, spec in QUALITY_TABLES.items():
        for i, (label, (system, testset)) in enumerate(spec["systems"].items()):
            sources[f"{table}_{i}"] = (
                f"results/scores/{system}/{testset}.csv",
                ["quality", table, label],
            )
    for a, attack in TABLE4_ATTACKS.items():
        for v, asr in TABLE4_VICTIMS.items():
            for d, defence in TABLE4_DEFENCES.items():
                sources[f"ota_{attack}_{asr}_{defence}"] = (
                    f"results/ota/{attack}/{asr}/{defence}.csv",
                    ["trials", a, v, d],
                )
    for attack in RUN_ATTACKS:
        for defence in ADAPTIVE_DEFENCES:
            sources[f"adaptive_{attack}_{defence}"] = (
                f"results/adaptive/{attack}/{defence}.csv",
                ["adaptive", attack, defence],
            )
    for asr in ASR_MODELS:
        for defence in CONTROL_DEFENCES:
            for testset in BENIGN_TESTSETS:
                sources[f"controls_{asr}_{defence}_{testset}"] = (
                    f"results/controls/{asr}/{defence}/{testset}.csv",
                    ["controls", asr, defence, testset],
                )
    return sources


def claims_inputs(wildcards):
    return {key: path for key, (path, _) in claims_sources().items()}


def quality_table_inputs(wildcards):
    systems = QUALITY_TABLES[wildcards.table]["systems"]
    return {
        label.replace("-", "_"): f"results/scores/{system}/{testset}.csv"
        for label, (system, testset) in systems.items()
    }


def data_targets():
    return [
        "results/data/summary.csv",
        *expand("results/data/mix/{split}.csv", split=mix_splits()),
        *expand("results/data/rirs/{rirset}.csv", rirset=RIR_SETS),
    ]


def asr_targets():
    return expand("results/asr/{asr}/wer.csv", asr=ASR_MODELS)


def se_targets():
    """The noisy test set through the noisy-trained models (Table 1); the adversarially
    trained ones are scored on adversarial input only (Table 3), as in the paper."""
    return expand("results/enhanced/{se}_noisy/noisy.csv", se=RUN_SE_MODELS)


PAPER_ARTIFACTS = [
    "results/table1.csv",
    "results/table2.csv",
    "results/table3.csv",
    "results/se_clean.csv",
    "results/table4.csv",
    "results/table4_shifted.csv",
    "results/fig2.png",
    "results/audio_examples.html",
    "results/fig3.png",
    "results/controls.csv",
    "results/claims.csv",
    "results/fig_perturbations.png",
]


def all_targets():
    """Every artifact of the paper, plus the per-stage summaries."""
    return data_targets() + asr_targets() + se_targets() + PAPER_ARTIFACTS

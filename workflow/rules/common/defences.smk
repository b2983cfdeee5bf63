"""Test sets and defences: what an enhancement model or a transformation can be applied
to, and the audio a recogniser (or a metric) hears through a defence. One wildcard,
``{defence}``, names whatever stands in front of the recogniser: ``none``, a trained SE
model (``{se}_{training}``) or a transformation; the quality scores call the undefended
input ``unprocessed`` (the paper's Noisy_D / Noisy_adv columns)."""

# Test sets an enhancement model can be applied to: name -> (manifest, audio column).
# adv_<attack>: the attacked test utterances (crafted against ds), skipped ones left out.
TESTSETS = {
    "clean": ("results/data/clean/test.csv", "clean_path"),
    "noisy": ("results/data/mix/test.csv", "noisy_path"),
    **{
        f"adv_{attack}": (f"results/attacks/{attack}/ds/test/testset.csv", "adv_path")
        for attack in REGISTERED_ATTACKS
    },
}
ADVERSARIAL_TESTSET = f"adv_{config['attacks']['quality_tables_attack']}"


# Benign controls: every recogniser's WER on clean and noisy test speech, without a
# defence and through every enhancement model that runs.
BENIGN_TESTSETS = ["clean", "noisy"]
SE_SYSTEMS = paper.se_systems(RUN_SE_MODELS)
CONTROL_DEFENCES = ["none", *SE_SYSTEMS]
# input transformations as defences (beyond the paper): the configured ones; any defence
# is none, a trained SE model or a transformation
TRANSFORM_NAMES = list(config["defences"]["transforms"])
# the names of the undefended input: in front of a recogniser, and as a scored system
UNDEFENDED = ("none", "unprocessed")
# every trained SE model can be a defence, the paper's and any registered one
DEFENCE_PATTERN = "|".join([*UNDEFENDED, *registered_se_systems(), *TRANSFORM_NAMES])


def defended_manifest(wildcards):
    """A test set as it leaves a defence: the set itself (undefended) or its enhanced or
    transformed version."""
    if wildcards.defence in UNDEFENDED:
        return TESTSETS[wildcards.testset][0]
    return f"results/enhanced/{wildcards.defence}/{wildcards.testset}.csv"


def defended_audio_column(wildcards):
    if wildcards.defence in UNDEFENDED:
        return TESTSETS[wildcards.testset][1]
    return "enhanced_path"


def testset_manifest(wildcards):
    return TESTSETS[wildcards.testset][0]


def testset_audio_column(wildcards):
    return TESTSETS[wildcards.testset][1]


def defence_model_input(wildcards):
    """The enhancement model a defence runs (none for no defence or a transformation)."""
    if defence_kind(wildcards.defence) != "se":
        return {}
    return {"se": f"results/models/se/{wildcards.defence}.pt"}


def transform_settings(name):
    """``defences.transforms.<name>``, or None for a defence that is not one."""
    return config["defences"]["transforms"].get(name)


def defence_kind(defence):
    if defence in UNDEFENDED:
        return "none"
    return "transform" if defence in TRANSFORM_NAMES else "se"


def defences_inputs(wildcards):
    """Per-item results behind results/defences.csv: every attack's over-the-air trials
    through each defence of defences.table, ds's benign WER through it, the quality of
    the defended clean and noisy speech, and the adaptive sweeps of
    defences.adaptive.defences."""
    inputs = {}
    for d in config["defences"]["table"]:
        system = "unprocessed" if d == "none" else d
        for attack in RUN_ATTACKS:
            inputs[f"ota__{attack}__{d}"] = f"results/ota/{attack}/ds/{d}.csv"
        for testset in BENIGN_TESTSETS:
            inputs[f"controls__{d}__{testset}"] = (
                f"results/controls/ds/{d}/{testset}.csv"
            )
            inputs[f"scores__{d}__{testset}"] = f"results/scores/{system}/{testset}.csv"
    for d in config["defences"]["adaptive"]["defences"]:
        inputs[f"adaptive__{d}"] = f"results/adaptive/grad/{d}.csv"
    return inputs

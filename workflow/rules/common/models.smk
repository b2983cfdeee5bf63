"""Training and attack settings: each recogniser's and enhancement model's training
inputs and settings, each attack's settings and its prior (advspeech.pipeline.config
assembles the settings from the config)."""


def asr_train_params(asr):
    return asr_train_settings(config, asr)


def asr_seed(asr):
    """The surrogate is trained from the attacker's seed, the victims from the run's."""
    return config["surrogate"]["seed"] if asr == "surrogate" else config["seed"]


def adversarial_training_examples():
    """Adversarial examples of train utterances (crafted against ds) that the
    adversarially trained recogniser and enhancement models learn from."""
    return expand(
        "results/attacks/{attack}/ds/train/manifest.csv",
        attack=config["attacks"]["adversarial_training"],
    )


def attack_prior_input(wildcards):
    """A black-box attack with ``prior: surrogate`` gets the attacker's own recogniser
    and its white-box examples of the same utterances as starting points."""
    settings = config["attacks"].get(wildcards.attack, {})
    if settings.get("prior", "none") != "surrogate" or wildcards.asr == "surrogate":
        return {}
    return {
        "surrogate": "results/models/asr/surrogate.pt",
        "priors": f"results/attacks/grad/surrogate/{wildcards.split}/manifest.csv",
    }


def asr_training_inputs(wildcards):
    """ds learns from the train split and early-stops on dev; ds_advt starts from the
    trained ds and adds adversarial train examples; the surrogate learns from the
    attacker's own corpus and rooms only."""
    if wildcards.asr == "surrogate":
        train, dev, rooms = "attacker", "attacker_dev", "attack"
    else:
        train, dev, rooms = "train", "dev", "train"
    inputs = {
        "train_clean": f"results/data/clean/{train}.csv",
        "train_noisy": f"results/data/mix/{train}.csv",
        "dev_clean": f"results/data/clean/{dev}.csv",
        "dev_noisy": f"results/data/mix/{dev}.csv",
        "rirs": f"results/data/rirs/{rooms}.csv",
    }
    if wildcards.asr == "ds_advt":
        inputs["init"] = "results/models/asr/ds.pt"
        inputs["adversarial"] = adversarial_training_examples()
    return inputs


def se_train_params(se, training):
    return se_train_settings(config, se, training)


def se_training_inputs(wildcards):
    """advt starts from the noisy-trained model of the same architecture."""
    if wildcards.training == "advt":
        return {
            "init": f"results/models/se/{wildcards.se}_noisy.pt",
            "adversarial": adversarial_training_examples(),
        }
    return {}


def adaptive_settings(wildcards):
    return _adaptive_settings(config, wildcards.attack)


def attack_settings(attack):
    return _attack_settings(config, attack)

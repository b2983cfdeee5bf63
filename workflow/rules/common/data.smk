"""Data sources: the corpus (embedded or LibriSpeech), the attacker's own corpus and the
noises (embedded or DEMAND), as folders and the inputs of the data rules."""


def corpus_splits():
    """Splits the corpus provides (babble only when requested)."""
    if config["corpus"]["source"] == "embedded":
        counts = config["corpus"]["embedded"]["speakers"]
        return [s for s in SPLITS if counts.get(s, 0) > 0]
    subsets = config["corpus"]["librispeech"]["subsets"]
    return [s for s in SPLITS if subsets.get(s)]


def mix_splits():
    return [s for s in MIX_SPLITS if s in corpus_splits()]


def corpus_root():
    if config["corpus"]["source"] == "embedded":
        return EMBEDDED_CORPUS
    return config["corpus"]["librispeech"]["root"]


def corpus_subsets():
    """Split -> subset folders of the LibriSpeech-layout root."""
    if config["corpus"]["source"] == "embedded":
        return {s: [s] for s in corpus_splits()}
    subsets = config["corpus"]["librispeech"]["subsets"]
    return {s: list(subsets[s]) for s in corpus_splits()}


def attacker_corpus_root():
    if config["corpus"]["source"] == "embedded":
        return ATTACKER_CORPUS
    return config["corpus"]["librispeech"]["root"]


def attacker_corpus_subsets(wildcards):
    """Attacker split -> subset folders: the embedded attacker corpus, or LibriSpeech
    subsets the victim does not use (``corpus.librispeech.subsets.attacker`` and
    ``attacker_dev``, e.g. train-clean-360)."""
    if config["corpus"]["source"] == "embedded":
        return {s: [s] for s in ATTACKER_SPLITS}
    subsets = config["corpus"]["librispeech"]["subsets"]
    missing = [s for s in ATTACKER_SPLITS if not subsets.get(s)]
    if missing:
        raise WorkflowError(
            f"the surrogate needs corpus.librispeech.subsets.{missing[0]}: LibriSpeech "
            "subsets of the attacker's own, which the victim's splits do not use"
        )
    return {s: list(subsets[s]) for s in ATTACKER_SPLITS}


def attacker_corpus_input(wildcards):
    if config["corpus"]["source"] == "embedded":
        return {"corpus": ATTACKER_CORPUS}
    return {}


def clean_corpus_index(wildcards):
    """The index a split is prepared from: the attacker's own or the victim's."""
    if wildcards.split in ATTACKER_SPLITS:
        return "results/data/attacker_corpus.csv"
    return "results/data/corpus.csv"


def mix_per_utterance(split):
    """Mixtures per utterance of a split; the attacker's splits mix like train and dev."""
    per = config["mix"]["per_utterance"]
    return per.get(split, per["train" if split == "attacker" else "dev"])


def corpus_input(wildcards):
    """The embedded corpus is a workflow output; a real LibriSpeech root is not."""
    if config["corpus"]["source"] == "embedded":
        return {"corpus": EMBEDDED_CORPUS}
    return {}


def noise_root():
    if config["noise"]["source"] == "embedded":
        return EMBEDDED_NOISE
    return config["noise"]["demand_root"]


def noise_input(wildcards):
    if config["noise"]["source"] == "embedded":
        return {"noise": EMBEDDED_NOISE}
    return {}


def noise_environments():
    """Split -> environments (a dev entry only when noise.environments.dev is set)."""
    envs = config["noise"]["environments"]
    return {
        split: list(envs[split]) for split in ("train", "dev", "test") if split in envs
    }


def all_noise_environments():
    return [env for envs in noise_environments().values() for env in envs]


def noise_split_of(split):
    """The noise split a mixture split draws from: dev uses the train noises unless
    noise.environments.dev lists its own."""
    if split == "dev" and "dev" in config["noise"]["environments"]:
        return "dev"
    return "test" if split == "test" else "train"


def embedded_noise_babble_input(wildcards):
    """The clean manifests of the corpus splits whose speech the babble noises listed
    are built from (advspeech.data.noise.BABBLE_POOLS), as babble_<split>."""
    pools = {BABBLE_POOLS[e] for e in all_noise_environments() if e in BABBLE_POOLS}
    return {
        f"babble_{pool}": f"results/data/clean/{pool}.csv" for pool in sorted(pools)
    }

"""Helpers shared by every stage: config validation, paths, inputs."""

import ast
import functools
import os
import sys
from pathlib import Path

from snakemake.utils import validate

# Workflow scripts import the library from src/ even without `pip install -e .`
# (e.g. inside a --sdm conda environment): put it on the scripts' PYTHONPATH.
# This sets a variable for the jobs, it does not require one from the user, so it is
# not an `envvars:` entry.
SRC = os.path.join(workflow.basedir, "src")
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
)
if SRC not in sys.path:
    sys.path.insert(0, SRC)


validate(config, "../schemas/config.schema.yaml")


class ConfigError(ValueError):
    """A config value the schema cannot judge alone (names the key)."""


def check_config(cfg):
    """Cross-key checks that JSON schema cannot express; each message names the key."""
    from advspeech.noise import ALL_ENVIRONMENTS

    for key in ("words_per_minute", "pitch", "pitch_range"):
        lo, hi = cfg["corpus"]["embedded"][key]
        if lo > hi:
            raise ConfigError(
                f"config key corpus.embedded.{key}: minimum {lo} > maximum {hi}"
            )
    for key in ("width", "length", "height", "absorption"):
        lo, hi = cfg["rirs"][key]
        if lo > hi or lo <= 0:
            raise ConfigError(
                f"config key rirs.{key}: need 0 < min <= max, got [{lo}, {hi}]"
            )
    if cfg["rirs"]["absorption"][1] > 1:
        raise ConfigError("config key rirs.absorption: energy absorption must be <= 1")
    if cfg["data"]["min_seconds"] >= cfg["data"]["max_seconds"]:
        raise ConfigError("config keys data.min_seconds must be below data.max_seconds")
    envs = cfg["noise"]["environments"]
    both = sorted(set(envs["train"]) & set(envs["test"]))
    if both:
        raise ConfigError(
            f"config key noise.environments: {both} listed for both train and test; "
            "train and test noises must be disjoint"
        )
    if cfg["corpus"]["source"] == "librispeech":
        root = cfg["corpus"]["librispeech"]["root"]
        if not root or not Path(root).is_dir():
            raise ConfigError(
                f"config key corpus.librispeech.root: {root!r} is not a folder "
                "(required when corpus.source is librispeech)"
            )
    else:
        emb = cfg["corpus"]["embedded"]
        for split in ("train", "test"):
            if (
                emb["speakers"].get(split, 0) < 1
                or emb["utterances_per_speaker"].get(split, 0) < 1
            ):
                raise ConfigError(
                    f"config keys corpus.embedded.speakers.{split} and "
                    f"corpus.embedded.utterances_per_speaker.{split} must be >= 1"
                )
    if cfg["noise"]["source"] == "demand":
        root = cfg["noise"]["demand_root"]
        if not root or not Path(root).is_dir():
            raise ConfigError(
                f"config key noise.demand_root: {root!r} is not a folder "
                "(required when noise.source is demand)"
            )
    else:
        unknown = sorted(set(envs["train"] + envs["test"]) - set(ALL_ENVIRONMENTS))
        if unknown:
            raise ConfigError(
                f"config key noise.environments: unknown embedded noises {unknown}; "
                f"known: {list(ALL_ENVIRONMENTS)}"
            )
        if "BABBLE" in envs["train"] + envs["test"] and babble_split_size() == 0:
            raise ConfigError(
                "config key noise.environments lists BABBLE but the corpus has no babble "
                "speakers (corpus.embedded.speakers.babble / corpus.librispeech.subsets.babble)"
            )


def babble_split_size():
    if config["corpus"]["source"] == "embedded":
        emb = config["corpus"]["embedded"]
        return emb["speakers"].get("babble", 0) * emb["utterances_per_speaker"].get(
            "babble", 0
        )
    return len(config["corpus"]["librispeech"]["subsets"].get("babble", []))


check_config(config)


# --- scheduling ----------------------------------------------------------------------------


from advspeech.runtime import local_gpu_per_job

# 1 where jobs run on a CUDA device (profiles/default's limit gpu=1 makes them take turns
# on a single-GPU workstation), 0 on CPU-only machines so jobs run side by side there.
# Cluster profiles set `gpu` per rule themselves (profiles/slurm).
GPU_PER_JOB = local_gpu_per_job(config["device"])
# torch threads of each job (and PESQ processes of `score`): small models scale poorly
# past one thread, so on few cores two one-thread jobs side by side beat one two-thread
# job (ASR training: 2.3 vs 1.7 steps/s on 2 cores)
THREADS = config["threads_per_job"]


# Scheduling priorities (among ready jobs, higher goes first). On a few cores the run's
# wall time is the summed job time over the cores plus the tail: the longest chain
# (recognisers' training and the train-split attacks that feed ds_advt) goes first, then
# the other long jobs (SE training, test-split and adaptive attacks), so the many short
# enhance/score/over-the-air jobs fill the gaps instead of a long job starting last.
LONG_JOB_PRIORITY = 5


def critical_path_priority(wildcards):
    """10 for the recognisers' training, the train-split attacks (they feed ds_advt) and
    the test-split attacks on the AdvT twin (ready last, with Table 4 waiting on them);
    LONG_JOB_PRIORITY for the other test-split attacks."""
    on_chain = wildcards.get("split", "train") == "train" or wildcards.get(
        "asr", ""
    ).endswith("_advt")
    return 10 if on_chain else LONG_JOB_PRIORITY


# --- constants and paths -----------------------------------------------------------------

MIX_SPLITS = ["train", "dev", "test"]
RIR_SETS = ["train", "attack", "dev", "test"]
EMBEDDED_CORPUS = "resources/embedded/corpus"
EMBEDDED_NOISE = "resources/embedded/noise"


wildcard_constraints:
    split="train|dev|test|babble",
    rirset="|".join(RIR_SETS),


@functools.cache  # every rule's lib() walks the same modules
def _advspeech_imports(name):
    """Names of the advspeech modules that module ``name`` imports anywhere in its
    source (function-level imports included)."""
    tree = ast.parse(Path(SRC, "advspeech", f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "advspeech":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "advspeech."
        ):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[1]
                for a in node.names
                if a.name.startswith("advspeech.")
            )
    return {m for m in found if Path(SRC, "advspeech", f"{m}.py").is_file()}


def lib(*modules):
    """Library modules a rule's script imports, and every advspeech module those import
    in turn, declared as inputs so that editing one re-runs the rules that depend on it
    (Snakemake does not track imports itself)."""
    todo = ["__init__", "io", "runtime", "seeding", *modules]
    seen = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_advspeech_imports(name))
    return [os.path.join(SRC, "advspeech", f"{m}.py") for m in sorted(seen)]


def corpus_splits():
    """Splits the corpus provides (babble only when requested)."""
    if config["corpus"]["source"] == "embedded":
        counts = config["corpus"]["embedded"]["speakers"]
        return [s for s in ("train", "dev", "test", "babble") if counts.get(s, 0) > 0]
    subsets = config["corpus"]["librispeech"]["subsets"]
    return [s for s in ("train", "dev", "test", "babble") if subsets.get(s)]


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
    """Split -> environments; dev mixtures draw from the train noises."""
    envs = config["noise"]["environments"]
    return {"train": list(envs["train"]), "test": list(envs["test"])}


def embedded_noise_babble_input(wildcards):
    envs = config["noise"]["environments"]
    if "BABBLE" in envs["train"] + envs["test"]:
        return {"babble": "results/data/clean/babble.csv"}
    return {}


ASR_MODELS = ["ds", "ds_advt"]
ATTACK_NAMES = ["grad", "evo"]


def asr_train_params(asr):
    """Training settings of one recogniser: ds from asr.train, ds_advt from asr.advt."""
    if asr == "ds":
        return {**config["asr"]["train"], "alpha": 1.0, "eps": 0.0}
    advt = config["asr"]["advt"]
    return {**config["asr"]["train"], **advt, "patience": advt["epochs"]}


def adversarial_training_examples():
    """Adversarial examples of train utterances (crafted against ds) that the
    adversarially trained recogniser and enhancement models learn from."""
    return expand(
        "results/attacks/{attack}/ds/train/manifest.csv",
        attack=config["attacks"]["adversarial_training"],
    )


def asr_training_inputs(wildcards):
    """ds_advt starts from the trained ds and adds adversarial train examples."""
    if wildcards.asr == "ds_advt":
        return {
            "init": "results/models/asr/ds.pt",
            "adversarial": adversarial_training_examples(),
        }
    return {}


SE_MODELS = ["dnn", "waveunet", "unet_at"]


def se_train_params(se, training):
    """noisy: plain training (se.train, with se.train.per_model[se] over it); advt: Eq. 6
    fine-tuning from the noisy model (se.advt)."""
    if training == "noisy":
        train = {k: v for k, v in config["se"]["train"].items() if k != "per_model"}
        return {
            **train,
            **config["se"]["train"].get("per_model", {}).get(se, {}),
            "segment": config["se"]["segment"],
            "alpha": 1.0,
            "eps": 0.0,
        }
    return {**config["se"]["advt"], "segment": config["se"]["segment"]}


def se_training_inputs(wildcards):
    """advt starts from the noisy-trained model of the same architecture."""
    if wildcards.training == "advt":
        return {
            "init": f"results/models/se/{wildcards.se}_noisy.pt",
            "adversarial": adversarial_training_examples(),
        }
    return {}


# Test sets an enhancement model can be applied to: name -> (manifest, audio column).
# adv_<attack>: the attacked test utterances (crafted against ds), skipped ones left out.
TESTSETS = {
    "clean": ("results/data/clean/test.csv", "clean_path"),
    "noisy": ("results/data/mix/test.csv", "noisy_path"),
    **{
        f"adv_{attack}": (f"results/attacks/{attack}/ds/test/testset.csv", "adv_path")
        for attack in ATTACK_NAMES
    },
}
ADVERSARIAL_TESTSET = f"adv_{config['attacks']['quality_tables_attack']}"


# Benign controls: every recogniser's WER on clean and noisy test speech, without a
# defence and through every enhancement model.
BENIGN_TESTSETS = ["clean", "noisy"]
SE_SYSTEMS = [f"{se}_{training}" for se in SE_MODELS for training in ("noisy", "advt")]
CONTROL_DEFENCES = ["none", *SE_SYSTEMS]
DEFENCE_PATTERN = "|".join(CONTROL_DEFENCES)


def defended_manifest(wildcards):
    """A benign test set as the recogniser hears it: the set itself (defence 'none') or
    its enhanced version."""
    if wildcards.defence == "none":
        return TESTSETS[wildcards.testset][0]
    return f"results/enhanced/{wildcards.defence}/{wildcards.testset}.csv"


def defended_audio_column(wildcards):
    if wildcards.defence == "none":
        return TESTSETS[wildcards.testset][1]
    return "enhanced_path"


def testset_manifest(wildcards):
    return TESTSETS[wildcards.testset][0]


def testset_audio_column(wildcards):
    return TESTSETS[wildcards.testset][1]


def score_manifest(wildcards):
    """Output manifest of a system on a test set ('unprocessed' = the test set itself)."""
    if wildcards.system == "unprocessed":
        return TESTSETS[wildcards.testset][0]
    return f"results/enhanced/{wildcards.system}/{wildcards.testset}.csv"


def score_column(wildcards):
    if wildcards.system == "unprocessed":
        return TESTSETS[wildcards.testset][1]
    return "enhanced_path"


# Paper tables of speech quality: column label -> (system, test set).
QUALITY_TABLES = {
    "table1": {
        "title": "Table 1: enhancement of the noisy test set (noisy-trained models)",
        "systems": {
            "Noisy_D": ("unprocessed", "noisy"),
            "DNN": ("dnn_noisy", "noisy"),
            "U-Net_W": ("waveunet_noisy", "noisy"),
            "U-Net_At": ("unet_at_noisy", "noisy"),
        },
    },
    "table2": {
        "title": "Table 2: enhancement of adversarial examples (noisy-trained models)",
        "systems": {
            "Noisy_adv": ("unprocessed", ADVERSARIAL_TESTSET),
            "DNN": ("dnn_noisy", ADVERSARIAL_TESTSET),
            "U-Net_W": ("waveunet_noisy", ADVERSARIAL_TESTSET),
            "U-Net_At": ("unet_at_noisy", ADVERSARIAL_TESTSET),
        },
    },
    "table3": {
        "title": "Table 3: enhancement of adversarial examples (adversarially trained models)",
        "systems": {
            "Noisy_adv": ("unprocessed", ADVERSARIAL_TESTSET),
            "DNN_T": ("dnn_advt", ADVERSARIAL_TESTSET),
            "U-Net_T_W": ("waveunet_advt", ADVERSARIAL_TESTSET),
            "U-Net_T_At": ("unet_at_advt", ADVERSARIAL_TESTSET),
        },
    },
    # beyond the paper: what each defence does to clean speech (PESQ/STOI against the
    # clean input itself); a defence that damages all speech must show it
    "se_clean": {
        "title": "Enhancement of clean test speech (each SE model; reference: the input)",
        "systems": {
            "DNN": ("dnn_noisy", "clean"),
            "U-Net_W": ("waveunet_noisy", "clean"),
            "U-Net_At": ("unet_at_noisy", "clean"),
            "DNN_T": ("dnn_advt", "clean"),
            "U-Net_T_W": ("waveunet_advt", "clean"),
            "U-Net_T_At": ("unet_at_advt", "clean"),
        },
    },
}

# Table 4: over-the-air RoSA/WER per attack, victim and (adversarially trained) SE model.
TABLE4_ATTACKS = {"Grad_adv": "grad", "Evo_adv": "evo"}
TABLE4_VICTIMS = {"ASR": "ds", "ASR+AdvT": "ds_advt"}
TABLE4_DEFENCES = {
    "w/o SE": "none",
    "SE_DNN": "dnn_advt",
    "SE_U-Net_W": "waveunet_advt",
    "SE_U-Net_At": "unet_at_advt",
}


def table4_inputs(wildcards):
    return {
        f"{attack}__{asr}__{se}": f"results/ota/{attack}/{asr}/{se}.csv"
        for attack in TABLE4_ATTACKS.values()
        for asr in TABLE4_VICTIMS.values()
        for se in TABLE4_DEFENCES.values()
    }


# Fig. 3: the adaptive attacker without and with the defence.
ADAPTIVE_DEFENCES = ["none", config["attacks"]["adaptive"]["se"]]


def adaptive_se_input(wildcards):
    if wildcards.defence == "none":
        return {}
    return {"se": f"results/models/se/{wildcards.defence}.pt"}


def adaptive_settings(wildcards):
    """The attack's own settings with the adaptive sweep's overrides on top."""
    return {
        **attack_settings(wildcards.attack),
        **config["attacks"]["adaptive"][wildcards.attack],
    }


def attack_settings(attack):
    """``attacks.<attack>`` with the shared SNR budget ``attacks.snr_db``."""
    return {**config["attacks"][attack], "snr_db": config["attacks"]["snr_db"]}


# Fig. 2 panels: label -> (system, test set); "noisy" is the noisy mixture.
FIG2_PANELS = {
    "(d) U-Net_At (noisy-trained)": "unet_at_noisy",
    "(e) DNN_T": "dnn_advt",
    "(f) U-Net_T,At": "unet_at_advt",
}


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
            for d, se in TABLE4_DEFENCES.items():
                sources[f"ota_{attack}_{asr}_{se}"] = (
                    f"results/ota/{attack}/{asr}/{se}.csv",
                    ["trials", a, v, d],
                )
    for attack in ATTACK_NAMES:
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


# The budget sweep (rules budget_attack/budget_trials/budget): snr labels as in paths
BUDGET_SNRS = [f"{float(b):g}" for b in config["attacks"]["budget"]["snr_db"]]
BUDGET_PATTERN = "|".join(s.replace(".", r"\.") for s in BUDGET_SNRS)
BUDGET_DEFENCES = ["none", *(f"{se}_noisy" for se in SE_MODELS)]


def budget_cells():
    """Every (attack, defence, budget) point of results/budget.csv, in table order."""
    return [
        {"attack": attack, "defence": defence, "snr_db_budget": float(snr), "snr": snr}
        for attack in ATTACK_NAMES
        for defence in BUDGET_DEFENCES
        for snr in BUDGET_SNRS
    ]


def budget_inputs(wildcards):
    inputs = {}
    for i, c in enumerate(budget_cells()):
        where = f"results/budget/{c['attack']}/snr{c['snr']}"
        inputs[f"manifest{i}"] = f"{where}/manifest.csv"
        inputs[f"trials{i}"] = f"{where}/ota_{c['defence']}.csv"
    return inputs


def ota_se_input(wildcards):
    """Over-the-air trials pass through an enhancement model unless se is 'none'."""
    if wildcards.se == "none":
        return {}
    return {"se": f"results/models/se/{wildcards.se}.pt"}


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
    return expand("results/enhanced/{se}_noisy/noisy.csv", se=SE_MODELS)


PAPER_ARTIFACTS = [
    "results/table1.csv",
    "results/table2.csv",
    "results/table3.csv",
    "results/se_clean.csv",
    "results/table4.csv",
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

"""Helpers shared by every stage: config validation, names, paths, inputs. The names
come from the library (registries and advspeech.reporting.paper), the cross-key config checks
and rule settings from advspeech.pipeline.config."""

import json
import os
import sys
from pathlib import Path

from snakemake.utils import validate
from snakemake.exceptions import WorkflowError

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


from advspeech.reporting import paper
from advspeech.attacks import ATTACKS
from advspeech.pipeline.config import (
    adaptive_settings as _adaptive_settings,
    asr_train_settings,
    attack_settings as _attack_settings,
    check_config,
    registered_se_systems,
    room_ranges,
    se_train_settings,
)
from advspeech.data import MIX_SPLITS, SPLITS
from advspeech.data.attacker import ATTACKER_SPLITS
from advspeech.data.noise import BABBLE_POOLS
from advspeech.data.rooms import RIR_SETS
from advspeech.core.registry import REGISTRY_ENV
from advspeech.evaluation.quietest import search_step_db
from advspeech.pipeline.code_deps import library_files, registry_files
from advspeech.pipeline.replicates import replicate_config, replicate_root
from advspeech.pipeline.runtime import local_gpu_per_job
from advspeech.se import SE_MODELS as SE_REGISTRY

validate(config, "../schemas/config.schema.yaml")

# Implementations registered in config (registry.*) join the built-in registries, here
# and in every job: the section travels to the jobs as JSON in the environment, and its
# python_path folders on PYTHONPATH (like SRC above).
REGISTRY = {k: v for k, v in config["registry"].items() if k != "python_path"}
REGISTRY_PATH = [os.path.abspath(p) for p in config["registry"]["python_path"]]
os.environ.update(
    {
        REGISTRY_ENV: json.dumps(REGISTRY, sort_keys=True),
        "PYTHONPATH": os.pathsep.join(
            [*REGISTRY_PATH, os.environ.get("PYTHONPATH", "")]
        ),
    }
)
sys.path[1:1] = [p for p in REGISTRY_PATH if p not in sys.path]
check_config(config)


# --- scheduling ----------------------------------------------------------------------------

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

EMBEDDED_CORPUS = "resources/embedded/corpus"
EMBEDDED_NOISE = "resources/embedded/noise"
# the black-box attacker's own speech (advspeech.data.attacker)
ATTACKER_CORPUS = "resources/embedded/attacker_corpus"


wildcard_constraints:
    split="|".join(SPLITS + ATTACKER_SPLITS),
    rirset="|".join(RIR_SETS),


def lib(script):
    """The library files workflow/scripts/<script>.py imports, directly or in turn, and
    the files of the registered implementations (registry.*) its registries can load,
    declared as inputs so that editing one re-runs the rules that depend on it
    (Snakemake does not track imports itself; advspeech.pipeline.code_deps reads them).
    """
    path = Path(workflow.basedir, "workflow", "scripts", f"{script}.py")
    files = library_files(path, Path(SRC))
    return [str(p) for p in files + registry_files(files, REGISTRY, Path(SRC))]


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


# Names of recognisers, attacks and enhancement models: the registries' keys (built-in
# and registry.*), labelled for the paper's tables by advspeech.reporting.paper
paper.check_labels(SE_REGISTRY, ATTACKS)
ASR_MODELS = list(paper.ASR_MODELS)
ATTACK_NAMES = list(ATTACKS)
SE_MODELS = list(SE_REGISTRY)
SE_TRAININGS = list(paper.SE_TRAININGS)


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
SE_SYSTEMS = list(paper.SE_SYSTEMS)
CONTROL_DEFENCES = ["none", *SE_SYSTEMS]
# input transformations as defences (beyond the paper): the configured ones; any defence
# is none, a trained SE model or a transformation
TRANSFORM_NAMES = list(config["defences"]["transforms"])
# every trained SE model can be a defence, the paper's and any registered one
DEFENCE_PATTERN = "|".join(["none", *registered_se_systems(), *TRANSFORM_NAMES])


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


# The paper's tables and figures (advspeech.reporting.paper): speech quality (Tables 1-3 and the
# clean-speech control), label -> (system, test set); Table 4's attacks, victims and
# defences, label -> name; Fig. 2's enhanced panels
QUALITY_TABLES = paper.quality_tables(ADVERSARIAL_TESTSET)
TABLE4_ATTACKS = paper.TABLE4_ATTACKS
TABLE4_VICTIMS = paper.TABLE4_VICTIMS
TABLE4_DEFENCES = paper.TABLE4_DEFENCES
FIG2_PANELS = paper.FIG2_PANELS


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
        f"{attack}__{asr}__{se}": f"results/{trials}/{attack}/{asr}/{se}.csv"
        for attack in TABLE4_ATTACKS.values()
        for asr in TABLE4_VICTIMS.values()
        for se in TABLE4_DEFENCES.values()
    }


def table4_title(wildcards):
    if wildcards.table4 == "table4_shifted":
        return (
            "Table 4 (shifted rooms): over-the-air RoSA and WER in test rooms outside "
            "the attack rooms' sizes, absorption, distances and noise"
        )
    return "Table 4: over-the-air attack success (RoSA) and WER"


# Fig. 3: the adaptive attacker without and with the defence; the resolution of its
# budget search (an utterance that never succeeds counts one step below the floor)
ADAPTIVE_STEP_DB = search_step_db(
    config["attacks"]["adaptive"]["snr_range"],
    config["attacks"]["adaptive"]["bisection_steps"],
)

ADAPTIVE_DEFENCES = ["none", config["attacks"]["adaptive"]["se"]]


def adaptive_se_input(wildcards):
    if wildcards.defence == "none" or wildcards.defence in TRANSFORM_NAMES:
        return {}
    return {"se": f"results/models/se/{wildcards.defence}.pt"}


def adaptive_settings(wildcards):
    return _adaptive_settings(config, wildcards.attack)


def attack_settings(attack):
    return _attack_settings(config, attack)


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
BUDGET_DEFENCES = ["none", *(paper.se_system(se, "noisy") for se in SE_MODELS)]


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


def evo_query_cells():
    """Every point of results/evo_queries.csv: the transfer example (0 queries), then
    the waveform search without and with the surrogate prior at each budget."""
    budgets = config["attacks"]["evo_queries"]["budgets"]
    return [{"variant": "transfer", "queries": 0}] + [
        {"variant": variant, "queries": int(q)}
        for variant in ("noprior", "prior")
        for q in budgets
    ]


def evo_queries_inputs(wildcards):
    inputs = {}
    for i, c in enumerate(evo_query_cells()):
        where = f"results/evo_queries/evo/{c['variant']}/q{c['queries']}"
        inputs[f"manifest{i}"] = evo_queries_manifest_path(c["variant"], c["queries"])
        inputs[f"trials{i}"] = f"{where}/ota.csv"
    return inputs


def evo_queries_manifest_path(variant, queries):
    """The examples a query-sweep point plays: the surrogate's own (transfer) or the
    search's at that budget."""
    if variant == "transfer":
        return "results/attacks/grad/surrogate/test/manifest.csv"
    return f"results/evo_queries/evo/{variant}/q{queries}/manifest.csv"


def evo_queries_manifest(wildcards):
    return evo_queries_manifest_path(wildcards.variant, wildcards.queries)


def evo_queries_prior_input(wildcards):
    if wildcards.variant != "prior":
        return {}
    return {
        "surrogate": "results/models/asr/surrogate.pt",
        "priors": "results/attacks/grad/surrogate/test/manifest.csv",
    }


def evo_query_settings(variant, queries):
    """attacks.evo with the waveform search at a budget, with or without the prior."""
    settings = attack_settings("evo")
    prior = "surrogate" if variant == "prior" else "none"
    return {**settings, "search": "waveform", "queries": int(queries), "prior": prior}


def ota_se_input(wildcards):
    """Over-the-air trials pass through an enhancement model unless se is 'none' or an
    input transformation."""
    if wildcards.se == "none" or wildcards.se in TRANSFORM_NAMES:
        return {}
    return {"se": f"results/models/se/{wildcards.se}.pt"}


def transform_settings(name):
    """``defences.transforms.<name>``, or None for a defence that is not one."""
    return config["defences"]["transforms"].get(name)


def defence_kind(defence):
    if defence == "none":
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
        for attack in ATTACK_NAMES:
            inputs[f"ota__{attack}__{d}"] = f"results/ota/{attack}/ds/{d}.csv"
        for testset in BENIGN_TESTSETS:
            inputs[f"controls__{d}__{testset}"] = (
                f"results/controls/ds/{d}/{testset}.csv"
            )
            inputs[f"scores__{d}__{testset}"] = f"results/scores/{system}/{testset}.csv"
    for d in config["defences"]["adaptive"]["defences"]:
        inputs[f"adaptive__{d}"] = f"results/adaptive/grad/{d}.csv"
    return inputs


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


# --- replicates across seeds (workflow/rules/replicates.smk) -------------------------------

# the tables aggregated over seeds -> their label columns and the value columns averaged
# (None: every other column)
REPLICATE_TABLES = {
    **{table: {"labels": ["metric"], "values": None} for table in QUALITY_TABLES},
    **{table: {"labels": ["attack", "row"], "values": None} for table in TABLE4_TRIALS},
    "controls": {"labels": ["asr", "defence", "testset"], "values": ["wer"]},
}
# the Python whose Snakemake runs each replicate: this run's environment's, by a path that
# does not depend on how it was started (python or python3), so that a later start does
# not see a changed parameter and re-run every replicate
REPLICATE_PYTHON = os.path.join(sys.prefix, "bin", "python")
# what a replicate's own run builds (its rule all) and the aggregate reads
REPLICATE_OUTPUTS = [f"results/{t}.csv" for t in [*REPLICATE_TABLES, "claims"]]


def replicates_inputs(wildcards):
    """Every seed's tables and claims: the main run's for the configured seed, the
    replicate's own working directory's for the others."""
    return {
        f"{Path(path).stem}__{seed}": replicate_root(seed, config["seed"]) + path
        for seed in config["replicates"]["seeds"]
        for path in REPLICATE_OUTPUTS
    }


def workflow_code_files():
    """Every file of the workflow and the library (and the registered modules): a
    replicate's run is brought up to date when any of them changes (its own Snakemake
    then re-runs only what the change touches)."""
    base = Path(workflow.basedir)
    library = sorted(Path(SRC).rglob("*.py"))
    files = [base / "Snakefile", *sorted((base / "workflow").rglob("*")), *library]
    files += registry_files(library, REGISTRY, Path(SRC))
    return [str(f) for f in files if f.is_file() and "__pycache__" not in f.parts]

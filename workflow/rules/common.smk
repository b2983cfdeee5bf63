"""What every stage shares: the library on the path, config validation (schema, then the
cross-key and registry checks of advspeech.pipeline.config), the registries, the names
that run, scheduling and the code inputs of each rule. The helpers of one concern each
live in common/*.smk, included at the end."""

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
    registered,
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


# --- names: what is registered and what runs -------------------------------------------

# Registered names (built-in and registry.*) are what a rule's wildcards accept, so any
# registered attack or model can be built as a target; the names that run (attacks.run,
# se.run; the paper's sets by default) are what rule all, the tables, Fig. 3 and the
# claims use. Labels come from advspeech.reporting.paper (a registered name is its own).
paper.check_labels(SE_REGISTRY, ATTACKS)
ASR_MODELS = list(paper.ASR_MODELS)
REGISTERED_ATTACKS = registered(ATTACKS)
REGISTERED_SE_MODELS = registered(SE_REGISTRY)
SE_TRAININGS = list(paper.SE_TRAININGS)
RUN_ATTACKS = list(config["attacks"]["run"])
RUN_SE_MODELS = list(config["se"]["run"])

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


include: "common/data.smk"
include: "common/models.smk"
include: "common/defences.smk"
include: "common/paper.smk"
include: "common/sweeps.smk"
include: "common/replicates.smk"

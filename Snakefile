# Adversarial speech enhancement workflow (Yang et al., ICASSP 2020), as a cached DAG.
# Run: snakemake --cores all            (every artifact that exists so far)
#      snakemake --cores 8 results/data/summary.csv
# Stages live in workflow/rules/*.smk; helpers in workflow/rules/common.smk.
from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/corpus.smk"
include: "workflow/rules/noise.smk"
include: "workflow/rules/mix.smk"
include: "workflow/rules/rirs.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/asr.smk"
include: "workflow/rules/se.smk"
include: "workflow/rules/attacks.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/render.smk"
include: "workflow/rules/budget.smk"
include: "workflow/rules/evo_queries.smk"
include: "workflow/rules/defences.smk"
include: "workflow/rules/replicates.smk"


rule all:
    default_target: True
    input:
        all_targets(),

"""Replicates across seeds (workflow/rules/replicates.smk): the whole DAG per seed in its
own working directory, and the tables the aggregate reads."""

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

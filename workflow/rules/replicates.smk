"""Replicates across seeds (opt-in target results/replicates/claims.csv): the whole
paper DAG once per seed of replicates.seeds, each in its own working directory
results/replicates/seed_<S>/ run by a Snakemake of its own (its cache is its own, so a
replicate built once is not re-run, and a seed added to the list runs only its DAG),
then the tables and claims of every seed side by side."""


rule replicate_config:
    output:
        "results/replicates/seed_{seed}/config.yaml",
    log:
        "logs/replicates/seed_{seed}/config.log",
    benchmark:
        "benchmarks/replicates/seed_{seed}/config.tsv"
    wildcard_constraints:
        seed=r"\d+",
    conda:
        "../../envs/render.yaml"
    params:
        config=lambda wc: replicate_config(config, int(wc.seed), os.getcwd()),
    script:
        "../scripts/replicate_config.py"


rule replicate:
    input:
        config="results/replicates/seed_{seed}/config.yaml",
        code=workflow_code_files(),
    output:
        [f"results/replicates/seed_{{seed}}/{path}" for path in REPLICATE_OUTPUTS],
    log:
        "logs/replicates/seed_{seed}/snakemake.log",
    benchmark:
        "benchmarks/replicates/seed_{seed}/snakemake.tsv"
    wildcard_constraints:
        seed=r"\d+",
    conda:
        "../../envs/render.yaml"
    # the seed's own Snakemake schedules its jobs on these cores (locally: all of them,
    # so replicates take turns; on a cluster replicates.snakemake_args sends its jobs
    # there and the replicates run side by side)
    threads: workflow.cores
    params:
        python=REPLICATE_PYTHON,
        # absolute: the replicate's Snakemake runs in its own directory (the first
        # code file is the Snakefile)
        snakefile=lambda wc, input: os.path.abspath(input.code[0]),
        directory=lambda wc, input: os.path.dirname(os.path.abspath(input.config)),
        configfile=lambda wc, input: os.path.abspath(input.config),
        extra=config["replicates"]["snakemake_args"],
    shell:
        "{params.python} -m snakemake --snakefile {params.snakefile:q}"
        " --directory {params.directory:q} --configfile {params.configfile:q}"
        " --cores {threads} --rerun-incomplete {params.extra} all > {log:q} 2>&1"


rule replicates:
    input:
        unpack(replicates_inputs),
        code=lib("replicates"),
    output:
        tables=expand(
            "results/replicates/{table}.csv", table=list(REPLICATE_TABLES) + ["claims"]
        ),
        figure=report(
            "results/replicates/fig_replicates.png",
            caption="../report/replicates.rst",
            category="Replicates",
        ),
        markdown=report(
            "results/replicates/summary.md",
            caption="../report/replicates.rst",
            category="Replicates",
        ),
    log:
        "logs/replicates/aggregate.log",
    benchmark:
        "benchmarks/replicates/aggregate.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        seeds=config["replicates"]["seeds"],
        tables=REPLICATE_TABLES,
    script:
        "../scripts/replicates.py"

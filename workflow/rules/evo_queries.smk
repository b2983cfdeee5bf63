"""Success of the black-box attack against its query budget (beyond the paper, opt-in
target results/evo_queries.csv): the surrogate's transfer example, the waveform search
without and with the surrogate prior at each budget, played to ds in the test rooms."""


rule evo_queries_attack:
    input:
        unpack(evo_queries_prior_input),
        model="results/models/asr/ds.pt",
        clean="results/data/clean/test.csv",
        rirs="results/data/rirs/attack.csv",
        code=lib("attack"),
    output:
        manifest="results/evo_queries/{attack}/{variant}/q{queries}/manifest.csv",
        testset="results/evo_queries/{attack}/{variant}/q{queries}/testset.csv",
        wavs=directory("results/evo_queries/{attack}/{variant}/q{queries}/wav"),
    log:
        "logs/evo_queries_attack/{attack}/{variant}/q{queries}.log",
    benchmark:
        "benchmarks/evo_queries_attack/{attack}/{variant}/q{queries}.tsv"
    wildcard_constraints:
        attack="evo",
        variant="noprior|prior",
        queries="[0-9]+",
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        settings=lambda wc: evo_query_settings(wc.variant, wc.queries),
        utterances=config["attacks"]["utterances"]["test"],
        batch_size=config["attacks"]["batch_size"],
        target=config["target_phrase"],
        device=config["device"],
        seed=config["seed"],
    script:
        "../scripts/attack.py"


rule evo_queries_trials:
    input:
        model="results/models/asr/ds.pt",
        attack=evo_queries_manifest,
        rirs="results/data/rirs/test.csv",
        code=lib("over_the_air"),
    output:
        "results/evo_queries/{attack}/{variant}/q{queries}/ota.csv",
    log:
        "logs/evo_queries_trials/{attack}/{variant}/q{queries}.log",
    benchmark:
        "benchmarks/evo_queries_trials/{attack}/{variant}/q{queries}.tsv"
    wildcard_constraints:
        attack="evo",
        variant="transfer|noprior|prior",
        queries="[0-9]+",
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        rooms=config["attacks"]["ota"]["rooms"],
        noise_std=config["attacks"]["ota"]["noise_std"],
        segment=config["se"]["segment"],
        transform=None,
        device=config["device"],
        seed=config["seed"],
    script:
        "../scripts/over_the_air.py"


rule evo_queries:
    input:
        unpack(evo_queries_inputs),
        code=lib("evo_queries"),
    output:
        table=report(
            "results/evo_queries.csv",
            caption="../report/evo_queries.rst",
            category="Beyond the paper",
        ),
        figure=report(
            "results/fig_evo_queries.png",
            caption="../report/evo_queries.rst",
            category="Beyond the paper",
        ),
    log:
        "logs/evo_queries.log",
    benchmark:
        "benchmarks/evo_queries.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        cells=evo_query_cells(),
        seed=config["seed"],
    script:
        "../scripts/evo_queries.py"

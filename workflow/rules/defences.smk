"""Beyond the paper: input transformations as defences beside the SE models (rule
transform), every defence in one table with its benign cost, and the adaptive
attacker through each (rule defences). Opt-in: results/defences.csv."""


rule transform:
    input:
        testset=testset_manifest,
        code=lib("transform"),
    output:
        manifest="results/enhanced/{transform}/{testset}.csv",
        wavs=directory("results/enhanced/{transform}/{testset}"),
    log:
        "logs/transform/{transform}/{testset}.log",
    benchmark:
        "benchmarks/transform/{transform}/{testset}.tsv"
    wildcard_constraints:
        transform="|".join(TRANSFORM_NAMES) or "(?!)",
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    params:
        settings=lambda wc: transform_settings(wc.transform),
        audio_column=testset_audio_column,
        seed=config["seed"],
    script:
        "../scripts/transform.py"


rule defences:
    input:
        unpack(defences_inputs),
        code=lib("defences"),
    output:
        table=report(
            "results/defences.csv",
            caption="../report/defences.rst",
            category="Beyond the paper",
        ),
        markdown="results/defences.md",
        figure=report(
            "results/fig_defences.png",
            caption="../report/defences.rst",
            category="Beyond the paper",
        ),
        adaptive=report(
            "results/adaptive_defences.csv",
            caption="../report/adaptive_defences.rst",
            category="Beyond the paper",
        ),
        adaptive_figure=report(
            "results/fig_adaptive_defences.png",
            caption="../report/adaptive_defences.rst",
            category="Beyond the paper",
        ),
        claims=report(
            "results/defence_claims.csv",
            caption="../report/defences.rst",
            category="Beyond the paper",
        ),
    log:
        "logs/defences.log",
    benchmark:
        "benchmarks/defences.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        table=config["defences"]["table"],
        adaptive=config["defences"]["adaptive"]["defences"],
        kinds={
            d: defence_kind(d)
            for d in config["defences"]["table"]
            + config["defences"]["adaptive"]["defences"]
        },
        attacks=RUN_ATTACKS,
        seed=config["seed"],
        adaptive_step_db=ADAPTIVE_STEP_DB,
    script:
        "../scripts/defences.py"

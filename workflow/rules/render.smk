"""Stage 10, render: the paper's tables (CSV, long form with CIs, Markdown), figures
and the claims check."""


rule quality_table:
    input:
        unpack(quality_table_inputs),
        code=lib("quality_table"),
    output:
        wide=report(
            "results/{table}.csv",
            caption="../report/quality_table.rst",
            category="Tables",
        ),
        long="results/{table}_ci.csv",
        markdown="results/{table}.md",
    log:
        "logs/quality_table/{table}.log",
    benchmark:
        "benchmarks/quality_table/{table}.tsv"
    wildcard_constraints:
        table="|".join(QUALITY_TABLES),
    conda:
        "../../envs/render.yaml"
    params:
        labels=lambda wc: list(QUALITY_TABLES[wc.table]["systems"]),
        title=lambda wc: QUALITY_TABLES[wc.table]["title"],
        seed=config["seed"],
    script:
        "../scripts/quality_table.py"


rule table4:
    input:
        unpack(table4_inputs),
        code=lib("table4"),
    output:
        wide=report(
            "results/{table4}.csv",
            caption="../report/table4.rst",
            category="Tables",
        ),
        long="results/{table4}_ci.csv",
        markdown="results/{table4}.md",
    log:
        "logs/table4/{table4}.log",
    benchmark:
        "benchmarks/table4/{table4}.tsv"
    wildcard_constraints:
        table4="|".join(TABLE4_TRIALS),
    conda:
        "../../envs/render.yaml"
    params:
        attacks=TABLE4_ATTACKS,
        victims=TABLE4_VICTIMS,
        defences=TABLE4_DEFENCES,
        title=table4_title,
        seed=config["seed"],
    script:
        "../scripts/table4.py"


rule fig2:
    input:
        unpack(fig2_inputs),
        code=lib("fig2"),
    output:
        figure=report(
            "results/fig2.png", caption="../report/fig2.rst", category="Figures"
        ),
        audio=report(
            "results/audio_examples.html",
            caption="../report/audio_examples.rst",
            category="Audio examples",
        ),
    log:
        "logs/fig2.log",
    benchmark:
        "benchmarks/fig2.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        panels=FIG2_PANELS,
        noisy_snr_db=config["figures"]["fig2_noisy_snr_db"],
    script:
        "../scripts/fig2.py"


rule fig3:
    input:
        **{
            f"{attack}__{defence}": f"results/adaptive/{attack}/{defence}.csv"
            for attack in RUN_ATTACKS
            for defence in ADAPTIVE_DEFENCES
        },
        code=lib("fig3"),
    output:
        figure=report(
            "results/fig3.png", caption="../report/fig3.rst", category="Figures"
        ),
        curve="results/fig3.csv",
        snr="results/fig3_snr.csv",
    log:
        "logs/fig3.log",
    benchmark:
        "benchmarks/fig3.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        curves=[
            f"{attack}__{defence}"
            for attack in RUN_ATTACKS
            for defence in ADAPTIVE_DEFENCES
        ],
        title="Fig. 3: adaptive attacks without and with the enhancement front end",
        step_db=ADAPTIVE_STEP_DB,
    script:
        "../scripts/fig3.py"


rule claims:
    input:
        unpack(claims_inputs),
        code=lib("claims"),
    output:
        report("results/claims.csv", caption="../report/claims.rst", category="Claims"),
    log:
        "logs/claims.log",
    benchmark:
        "benchmarks/claims.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        sources={key: labels for key, (_, labels) in claims_sources().items()},
        seed=config["seed"],
        adaptive_step_db=ADAPTIVE_STEP_DB,
    script:
        "../scripts/claims.py"

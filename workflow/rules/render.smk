"""Stage 10, render: the paper's tables (CSV, long form with CIs, Markdown)."""


rule quality_table:
    input:
        unpack(quality_table_inputs),
        code=lib("metrics", "render"),
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
        table="table1",
    conda:
        "../../envs/render.yaml"
    params:
        labels=lambda wc: list(QUALITY_TABLES[wc.table]["systems"]),
        title=lambda wc: QUALITY_TABLES[wc.table]["title"],
        seed=config["seed"],
    script:
        "../scripts/quality_table.py"

"""Size of the data stages: utterances, hours, speakers, noise conditions, rooms."""


rule data_summary:
    input:
        clean=expand("results/data/clean/{split}.csv", split=corpus_splits()),
        mix=expand("results/data/mix/{split}.csv", split=mix_splits()),
        noise="results/data/noise/manifest.csv",
        rirs=expand("results/data/rirs/{rirset}.csv", rirset=RIR_SETS),
        code=lib("data_summary"),
    output:
        "results/data/summary.csv",
    log:
        "logs/data_summary.log",
    benchmark:
        "benchmarks/data_summary.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/data_summary.py"

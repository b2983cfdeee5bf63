"""Stage 9, score: PESQ, STOI, STI and SNR of every system on every test set."""


rule score:
    input:
        manifest=score_manifest,
        code=lib("metrics", "render", "dsp"),
    output:
        "results/scores/{system}/{testset}.csv",
    log:
        "logs/score/{system}/{testset}.log",
    benchmark:
        "benchmarks/score/{system}/{testset}.tsv"
    conda:
        "../../envs/metrics.yaml"
    threads: THREADS
    params:
        degraded_column=score_column,
    script:
        "../scripts/score.py"

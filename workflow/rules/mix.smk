"""Stage 3, mix: noisy mixtures at the configured SNRs, disjoint noises for train and test."""


rule mix:
    input:
        clean="results/data/clean/{split}.csv",
        noise="results/data/noise/manifest.csv",
        code=lib("mix"),
    output:
        manifest="results/data/mix/{split}.csv",
        wavs=directory("results/data/mix/{split}"),
    log:
        "logs/mix/{split}.log",
    benchmark:
        "benchmarks/mix/{split}.tsv"
    wildcard_constraints:
        split="train|dev|test|attacker|attacker_dev",
    conda:
        "../../envs/data.yaml"
    params:
        snrs_db=config["mix"]["snrs_db"],
        per_utterance=lambda wc: mix_per_utterance(wc.split),
        # test from the held-out noises; dev from the train ones or its own
        noise_split=lambda wc: noise_split_of(wc.split),
        seed=config["seed"],
    script:
        "../scripts/mix.py"

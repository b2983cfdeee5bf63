"""Stages 7-8, se and enhance: three enhancement models x two trainings, applied to test sets."""


rule train_se:
    input:
        unpack(se_training_inputs),
        train="results/data/mix/train.csv",
        dev="results/data/mix/dev.csv",
        code=lib("train_se"),
    output:
        model="results/models/se/{se}_{training}.pt",
        history="results/models/se/{se}_{training}.history.json",
    log:
        "logs/train_se/{se}_{training}.log",
    benchmark:
        "benchmarks/train_se/{se}_{training}.tsv"
    wildcard_constraints:
        se="|".join(REGISTERED_SE_MODELS),
        training="|".join(SE_TRAININGS),
    priority: LONG_JOB_PRIORITY
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        model=lambda wc: config["se"]["models"][wc.se],
        train=lambda wc: se_train_params(wc.se, wc.training),
        device=config["device"],
        seed=config["seed"],
        state="resources/train_state/se/{se}_{training}.pt",
    script:
        "../scripts/train_se.py"


rule enhance:
    input:
        model="results/models/se/{se}_{training}.pt",
        testset=testset_manifest,
        code=lib("enhance"),
    output:
        manifest="results/enhanced/{se}_{training}/{testset}.csv",
        wavs=directory("results/enhanced/{se}_{training}/{testset}"),
    log:
        "logs/enhance/{se}_{training}/{testset}.log",
    benchmark:
        "benchmarks/enhance/{se}_{training}/{testset}.tsv"
    wildcard_constraints:
        se="|".join(REGISTERED_SE_MODELS),
        training="|".join(SE_TRAININGS),
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        audio_column=testset_audio_column,
        segment=config["se"]["segment"],
        device=config["device"],
    script:
        "../scripts/enhance.py"

"""Stage 6, attacks: robust over-the-air adversarial examples and their evaluation in
held-out rooms, without and with an enhancement model (the machinery of Table 4)."""


rule attack:
    input:
        model="results/models/asr/{asr}.pt",
        clean="results/data/clean/{split}.csv",
        rirs="results/data/rirs/train.csv",
        code=lib("asr", "asr_train", "attacks", "torchutil"),
    output:
        manifest="results/attacks/{attack}/{asr}/{split}/manifest.csv",
        wavs=directory("results/attacks/{attack}/{asr}/{split}/wav"),
    log:
        "logs/attack/{attack}/{asr}/{split}.log",
    benchmark:
        "benchmarks/attack/{attack}/{asr}/{split}.tsv"
    wildcard_constraints:
        attack="grad",
        asr="ds|ds_advt",
        split="train|test",
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        attack=lambda wc: config["attacks"][wc.attack],
        utterances=lambda wc: config["attacks"]["utterances"][wc.split],
        batch_size=config["attacks"]["batch_size"],
        target=config["target_phrase"],
        device=config["device"],
        seed=config["seed"],
    script:
        "../scripts/attack.py"


rule over_the_air:
    input:
        unpack(ota_se_input),
        model="results/models/asr/{asr}.pt",
        attack="results/attacks/{attack}/{asr}/test/manifest.csv",
        rirs="results/data/rirs/test.csv",
        code=lib("asr", "asr_train", "attacks", "se", "se_train", "metrics"),
    output:
        "results/ota/{attack}/{asr}/{se}.csv",
    log:
        "logs/over_the_air/{attack}/{asr}/{se}.log",
    benchmark:
        "benchmarks/over_the_air/{attack}/{asr}/{se}.tsv"
    wildcard_constraints:
        attack="grad",
        asr="ds|ds_advt",
        se="none|(dnn|waveunet|unet_at)_(noisy|advt)",
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        rooms=config["attacks"]["ota"]["rooms"],
        noise_std=config["attacks"]["ota"]["noise_std"],
        segment=config["se"]["segment"],
        device=config["device"],
        seed=config["seed"],
    script:
        "../scripts/over_the_air.py"

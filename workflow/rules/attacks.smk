"""Stage 6, attacks: adversarial examples (grad, evo), their over-the-air evaluation in
held-out rooms without and with an enhancement model (Table 4), and the adaptive
attacker's quietest search through an enhancement model (Fig. 3)."""


rule attack:
    input:
        unpack(attack_prior_input),
        model="results/models/asr/{asr}.pt",
        clean="results/data/clean/{split}.csv",
        rirs="results/data/rirs/attack.csv",
        code=lib("attack"),
    output:
        manifest="results/attacks/{attack}/{asr}/{split}/manifest.csv",
        # the attacked rows only (skipped utterances left out): a test set to enhance and score
        testset="results/attacks/{attack}/{asr}/{split}/testset.csv",
        wavs=directory("results/attacks/{attack}/{asr}/{split}/wav"),
    log:
        "logs/attack/{attack}/{asr}/{split}.log",
    benchmark:
        "benchmarks/attack/{attack}/{asr}/{split}.tsv"
    wildcard_constraints:
        attack="|".join(REGISTERED_ATTACKS),
        # surrogate: the attacker's own white-box examples (a black-box attack's prior)
        asr="|".join(ASR_MODELS + ["surrogate"]),
        # dev: attacked dev utterances for tuning (an opt-in target, not in rule all)
        split="train|dev|test",
    # train-split attacks feed the AdvT recogniser and SE models (the longest chain)
    priority: critical_path_priority
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        settings=lambda wc: attack_settings(wc.attack),
        utterances=lambda wc: config["attacks"]["utterances"][wc.split],
        batch_size=config["attacks"]["batch_size"],
        target=config["target_phrase"],
        device=config["device"],
        seed=config["seed"],
    script:
        "../scripts/attack.py"


rule over_the_air:
    input:
        unpack(defence_model_input),
        model="results/models/asr/{asr}.pt",
        attack="results/attacks/{attack}/{asr}/test/manifest.csv",
        rirs=lambda wc: f"results/data/rirs/{OTA_ROOMS[wc.trials]}.csv",
        code=lib("over_the_air"),
    output:
        "results/{trials}/{attack}/{asr}/{defence}.csv",
    log:
        "logs/over_the_air/{trials}/{attack}/{asr}/{defence}.log",
    benchmark:
        "benchmarks/over_the_air/{trials}/{attack}/{asr}/{defence}.tsv"
    wildcard_constraints:
        trials="|".join(OTA_ROOMS),
        attack="|".join(REGISTERED_ATTACKS),
        asr="|".join(ASR_MODELS),
        defence=DEFENCE_PATTERN,
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        rooms=config["attacks"]["ota"]["rooms"],
        noise_std=lambda wc: ota_noise_std(wc.trials),
        segment=config["se"]["segment"],
        transform=lambda wc: transform_settings(wc.defence),
        device=config["device"],
        seed=config["seed"],
    script:
        "../scripts/over_the_air.py"


rule adaptive_attack:
    input:
        unpack(defence_model_input),
        model="results/models/asr/ds.pt",
        clean="results/data/clean/test.csv",
        code=lib("adaptive_attack"),
    output:
        "results/adaptive/{attack}/{defence}.csv",
    log:
        "logs/adaptive_attack/{attack}/{defence}.log",
    benchmark:
        "benchmarks/adaptive_attack/{attack}/{defence}.tsv"
    wildcard_constraints:
        attack="|".join(REGISTERED_ATTACKS),
        defence=DEFENCE_PATTERN,
    priority: LONG_JOB_PRIORITY
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        settings=adaptive_settings,
        snr_range=config["attacks"]["adaptive"]["snr_range"],
        bisection_steps=config["attacks"]["adaptive"]["bisection_steps"],
        utterances=config["attacks"]["adaptive"]["utterances"],
        segment=config["se"]["segment"],
        transform=lambda wc: transform_settings(wc.defence),
        eot_samples=config["defences"]["eot_samples"],
        target=config["target_phrase"],
        device=config["device"],
        seed=config["seed"],
    script:
        "../scripts/adaptive_attack.py"

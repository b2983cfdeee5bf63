"""Success against the perturbation budget (beyond the paper; Armory reports attacks at a
list of SNRs): grad and evo against ds at every SNR of attacks.budget.snr_db, played in
the held-out test rooms without a defence and through each noisy-trained SE model."""


rule budget_attack:
    input:
        model="results/models/asr/ds.pt",
        clean="results/data/clean/test.csv",
        rirs="results/data/rirs/attack.csv",
        code=lib("attack"),
    output:
        manifest="results/budget/{attack}/snr{snr}/manifest.csv",
        testset="results/budget/{attack}/snr{snr}/testset.csv",
        wavs=directory("results/budget/{attack}/snr{snr}/wav"),
    log:
        "logs/budget_attack/{attack}/snr{snr}.log",
    benchmark:
        "benchmarks/budget_attack/{attack}/snr{snr}.tsv"
    wildcard_constraints:
        attack="|".join(REGISTERED_ATTACKS),
        snr=SWEEP_SNR_PATTERN,
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        settings=lambda wc: {**attack_settings(wc.attack), "snr_db": float(wc.snr)},
        utterances=config["attacks"]["budget"]["utterances"],
        batch_size=config["attacks"]["batch_size"],
        target=config["target_phrase"],
        device=config["device"],
        seed=config["seed"],
    script:
        "../scripts/attack.py"


rule budget_trials:
    input:
        unpack(defence_model_input),
        model="results/models/asr/ds.pt",
        attack="results/budget/{attack}/snr{snr}/manifest.csv",
        rirs="results/data/rirs/test.csv",
        code=lib("over_the_air"),
    output:
        "results/budget/{attack}/snr{snr}/ota_{defence}.csv",
    log:
        "logs/budget_trials/{attack}/snr{snr}/{defence}.log",
    benchmark:
        "benchmarks/budget_trials/{attack}/snr{snr}/{defence}.tsv"
    wildcard_constraints:
        attack="|".join(REGISTERED_ATTACKS),
        snr=SWEEP_SNR_PATTERN,
        defence="|".join(SWEEP_DEFENCES),
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


rule budget:
    input:
        unpack(sweep_inputs),
        code=lib("budget"),
    output:
        table=report(
            "results/budget.csv",
            caption="../report/budget.rst",
            category="Beyond the paper",
        ),
        figure=report(
            "results/fig_budget.png",
            caption="../report/budget.rst",
            category="Beyond the paper",
        ),
    log:
        "logs/budget.log",
    benchmark:
        "benchmarks/budget.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        cells=sweep_cells(),
        seed=config["seed"],
    script:
        "../scripts/budget.py"


rule perturbation_examples:
    input:
        **{
            attack: f"results/attacks/{attack}/ds/test/manifest.csv"
            for attack in RUN_ATTACKS
        },
        code=lib("perturbation_examples"),
    output:
        figure=report(
            "results/fig_perturbations.png",
            caption="../report/perturbation_examples.rst",
            category="Audio examples",
        ),
        audio=report(
            "results/perturbation_examples.html",
            caption="../report/perturbation_examples.rst",
            category="Audio examples",
        ),
    log:
        "logs/perturbation_examples.log",
    benchmark:
        "benchmarks/perturbation_examples.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        attacks=RUN_ATTACKS,
        per_attack=2,
        snr_db=config["attacks"]["snr_db"],
    script:
        "../scripts/perturbation_examples.py"

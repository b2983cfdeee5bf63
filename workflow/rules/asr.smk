"""Stage 5, asr: the victim recogniser (ds), its adversarially trained twin (ds_advt)
and the black-box attacker's own recogniser (surrogate, opt-in)."""


rule train_asr:
    input:
        unpack(asr_training_inputs),
        code=lib("train_asr"),
    output:
        model="results/models/asr/{asr}.pt",
        history="results/models/asr/{asr}.history.json",
    log:
        "logs/train_asr/{asr}.log",
    benchmark:
        "benchmarks/train_asr/{asr}.tsv"
    wildcard_constraints:
        asr="ds|ds_advt|surrogate",
    priority: critical_path_priority
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        arch=config["asr"]["arch"],
        model=config["asr"]["model"],
        train=lambda wc: asr_train_params(wc.asr),
        device=config["device"],
        seed=lambda wc: asr_seed(wc.asr),
        # resumable state lives outside the outputs (Snakemake deletes those first)
        state="resources/train_state/asr/{asr}.pt",
    script:
        "../scripts/train_asr.py"


rule evaluate_asr:
    input:
        model="results/models/asr/{asr}.pt",
        test_clean="results/data/clean/test.csv",
        test_noisy="results/data/mix/test.csv",
        code=lib("evaluate_asr"),
    output:
        wer=report(
            "results/asr/{asr}/wer.csv",
            caption="../report/asr_wer.rst",
            category="Recogniser",
        ),
        transcripts="results/asr/{asr}/transcripts.csv",
    log:
        "logs/evaluate_asr/{asr}.log",
    benchmark:
        "benchmarks/evaluate_asr/{asr}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        device=config["device"],
        batch_size=config["asr"]["eval_batch_size"],
    script:
        "../scripts/evaluate_asr.py"

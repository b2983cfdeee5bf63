"""Stage 9, score: PESQ, STOI, STI and SNR of every system on every test set."""


rule score:
    input:
        manifest=defended_manifest,
        code=lib("score"),
    output:
        "results/scores/{defence}/{testset}.csv",
    log:
        "logs/score/{defence}/{testset}.log",
    benchmark:
        "benchmarks/score/{defence}/{testset}.tsv"
    conda:
        "../../envs/metrics.yaml"
    threads: THREADS
    params:
        degraded_column=defended_audio_column,
    script:
        "../scripts/score.py"


rule benign_wer:
    input:
        model="results/models/asr/{asr}.pt",
        manifest=defended_manifest,
        code=lib("benign_wer"),
    output:
        "results/controls/{asr}/{defence}/{testset}.csv",
    log:
        "logs/benign_wer/{asr}/{defence}/{testset}.log",
    benchmark:
        "benchmarks/benign_wer/{asr}/{defence}/{testset}.tsv"
    wildcard_constraints:
        asr="|".join(ASR_MODELS),
        defence=DEFENCE_PATTERN,
        testset="|".join(BENIGN_TESTSETS),
    conda:
        "../../envs/torch.yaml"
    threads: THREADS
    resources:
        gpu=GPU_PER_JOB,
    params:
        audio_column=defended_audio_column,
        device=config["device"],
        batch_size=config["asr"]["eval_batch_size"],
    script:
        "../scripts/benign_wer.py"


rule controls:
    input:
        **{
            f"{asr}__{defence}__{testset}": f"results/controls/{asr}/{defence}/{testset}.csv"
            for asr in ASR_MODELS
            for defence in CONTROL_DEFENCES
            for testset in BENIGN_TESTSETS
        },
        code=lib("controls"),
    output:
        table=report(
            "results/controls.csv", caption="../report/controls.rst", category="Tables"
        ),
        markdown="results/controls.md",
    log:
        "logs/controls.log",
    benchmark:
        "benchmarks/controls.tsv"
    conda:
        "../../envs/render.yaml"
    params:
        cells=[
            [asr, defence, testset]
            for asr in ASR_MODELS
            for defence in CONTROL_DEFENCES
            for testset in BENIGN_TESTSETS
        ],
        seed=config["seed"],
    script:
        "../scripts/controls.py"

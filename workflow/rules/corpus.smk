"""Stage 1, corpus: clean speech in the LibriSpeech layout, indexed and brought to 16 kHz."""


rule synthesize_corpus:
    input:
        code=lib("synthesize_corpus"),
    output:
        corpus=directory(EMBEDDED_CORPUS),
        speakers="resources/embedded/speakers.csv",
    log:
        "logs/synthesize_corpus.log",
    benchmark:
        "benchmarks/synthesize_corpus.tsv"
    conda:
        "../../envs/data.yaml"
    threads: max(2, THREADS)  # runs alone at the start: synthesis processes
    params:
        embedded=config["corpus"]["embedded"],
        test_salt=config["test_salt"],
        seed=config["seed"],
        forbidden=[config["target_phrase"]],
    script:
        "../scripts/synthesize_corpus.py"


rule synthesize_attacker_corpus:
    input:
        victim=EMBEDDED_CORPUS,
        code=lib("synthesize_attacker_corpus"),
    output:
        corpus=directory(ATTACKER_CORPUS),
        speakers="resources/embedded/attacker_speakers.csv",
    log:
        "logs/synthesize_attacker_corpus.log",
    benchmark:
        "benchmarks/synthesize_attacker_corpus.tsv"
    conda:
        "../../envs/data.yaml"
    threads: max(2, THREADS)
    params:
        embedded=config["corpus"]["embedded"],
        test_salt=config["test_salt"],
        seed=config["seed"],
        attacker=config["surrogate"]["corpus"],
        attacker_seed=config["surrogate"]["seed"],
        forbidden=[config["target_phrase"]],
    script:
        "../scripts/synthesize_attacker_corpus.py"


rule index_attacker_corpus:
    input:
        unpack(attacker_corpus_input),
        code=lib("index_corpus"),
    output:
        "results/data/attacker_corpus.csv",
    log:
        "logs/index_attacker_corpus.log",
    benchmark:
        "benchmarks/index_attacker_corpus.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        root=attacker_corpus_root(),
        subsets=attacker_corpus_subsets,
    script:
        "../scripts/index_corpus.py"


rule index_corpus:
    input:
        unpack(corpus_input),
        code=lib("index_corpus"),
    output:
        "results/data/corpus.csv",
    log:
        "logs/index_corpus.log",
    benchmark:
        "benchmarks/index_corpus.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        root=corpus_root(),
        subsets=corpus_subsets(),
    script:
        "../scripts/index_corpus.py"


rule prepare_clean:
    input:
        corpus=clean_corpus_index,
        code=lib("prepare_clean"),
    output:
        manifest="results/data/clean/{split}.csv",
        skipped="results/data/clean/{split}_skipped.csv",
        wavs=directory("results/data/clean/{split}"),
    log:
        "logs/prepare_clean/{split}.log",
    benchmark:
        "benchmarks/prepare_clean/{split}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        min_sample_rate=config["data"]["min_sample_rate"],
        rms_dbfs=config["data"]["rms_dbfs"],
        max_peak=config["data"]["max_peak"],
        min_seconds=config["data"]["min_seconds"],
        max_seconds=config["data"]["max_seconds"],
        max_utterances=lambda wc: config["data"]["max_utterances"].get(wc.split),
        seed=config["seed"],
    script:
        "../scripts/prepare_clean.py"

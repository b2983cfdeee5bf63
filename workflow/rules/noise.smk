"""Stage 2, noise: recordings in the DEMAND layout, brought to 16 kHz mono."""


rule synthesize_noise:
    input:
        unpack(embedded_noise_babble_input),
        code=lib("synthesize_noise"),
    output:
        directory(EMBEDDED_NOISE),
    log:
        "logs/synthesize_noise.log",
    benchmark:
        "benchmarks/synthesize_noise.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        environments=all_noise_environments(),
        seconds=config["noise"]["embedded_seconds"],
        rms_dbfs=config["noise"]["embedded_rms_dbfs"],
        # the test environments' recordings belong to the test holdout
        salts={env: config["test_salt"] for env in noise_environments().get("test", [])},
        seed=config["seed"],
    script:
        "../scripts/synthesize_noise.py"


rule prepare_noise:
    input:
        unpack(noise_input),
        code=lib("prepare_noise"),
    output:
        manifest="results/data/noise/manifest.csv",
        wavs=directory("results/data/noise/wav"),
    log:
        "logs/prepare_noise.log",
    benchmark:
        "benchmarks/prepare_noise.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        root=noise_root(),
        environments=noise_environments(),
        channels=config["noise"]["channels"],
        min_sample_rate=config["data"]["min_sample_rate"],
        min_seconds=config["noise"]["min_seconds"],
    script:
        "../scripts/prepare_noise.py"

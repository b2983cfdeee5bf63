"""Stage 4, rirs: shoebox room impulse responses. Four disjoint sets: train rooms (the
recognisers' reverberation augmentation), attack rooms (the attacker's expectation over
transformations), dev rooms (tuning attacks and defences over the air) and test rooms
(the final over-the-air tables only)."""


rule simulate_rirs:
    input:
        code=lib("simulate_rirs"),
    output:
        manifest="results/data/rirs/{rirset}.csv",
        wavs=directory("results/data/rirs/{rirset}"),
    log:
        "logs/simulate_rirs/{rirset}.log",
    benchmark:
        "benchmarks/simulate_rirs/{rirset}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        n_rooms=lambda wc: config["rirs"]["count"][wc.rirset],
        width=config["rirs"]["width"],
        length=config["rirs"]["length"],
        height=config["rirs"]["height"],
        absorption=config["rirs"]["absorption"],
        max_order=config["rirs"]["max_order"],
        max_seconds=config["rirs"]["max_seconds"],
        wall_margin=config["rirs"]["wall_margin"],
        min_distance=config["rirs"]["min_distance"],
        seed=config["seed"],
    script:
        "../scripts/simulate_rirs.py"

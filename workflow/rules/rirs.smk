"""Stage 4, rirs: shoebox room impulse responses. Five disjoint sets: train rooms (the
recognisers' reverberation augmentation), attack rooms (the attacker's expectation over
transformations), dev rooms (tuning attacks and defences over the air), test rooms
(the final over-the-air tables only) and shifted test rooms (outside every other set's
ranges: Table 4's twin over rooms the attacker never modelled)."""


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
        ranges=lambda wc: room_ranges(config["rirs"], wc.rirset),
        # the test rooms belong to the test holdout
        salt=lambda wc: config["test_salt"] if wc.rirset == "test" else "",
        seed=config["seed"],
    script:
        "../scripts/simulate_rirs.py"

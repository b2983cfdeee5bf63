"""Scoring throughput: utterances per second, PESQ serial vs parallel over cores, in one
run, and the cost of STI, STOI and PESQ per second of audio side by side.

    .venv/bin/python bench/metrics_throughput.py [--n 24] [--processes 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from advspeech.data.tts import VoiceSpec, synthesize_many
from advspeech.evaluation.metrics import pesq_many, sti, stoi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    sentences = [
        "the old man opened the wooden door in the kitchen",
        "please bring the red basket to the station",
    ]
    jobs = [
        (sentences[k % 2], VoiceSpec("en-us", ["m3", "f2", "klatt"][k % 3], 150, 50, 50), k)
        for k in range(args.n)
    ]
    clean = list(synthesize_many(jobs, processes=2))
    rng = np.random.default_rng(0)
    pairs = [(c, c + 0.02 * rng.standard_normal(len(c)).astype(np.float32)) for c in clean]
    seconds = sum(len(c) for c in clean) / 16000
    t0 = time.perf_counter()
    pesq_many(pairs, processes=1)
    serial = time.perf_counter() - t0
    t0 = time.perf_counter()
    pesq_many(pairs, processes=args.processes)
    parallel = time.perf_counter() - t0
    print(f"{args.n} utterances, {seconds:.1f} s of audio")
    print(f"PESQ serial:   {args.n / serial:6.1f} utt/s")
    print(
        f"PESQ parallel: {args.n / parallel:6.1f} utt/s ({args.processes} processes): speed-up {serial / parallel:.2f}x"
    )
    for name, fn in (("STOI", stoi), ("STI", sti)):
        t0 = time.perf_counter()
        for c, d in pairs:
            fn(c, d)
        dt = time.perf_counter() - t0
        print(f"{name:5} {1000 * dt / seconds:7.1f} ms per second of audio")
    print(f"PESQ  {1000 * serial / seconds:7.1f} ms per second of audio (serial)")


if __name__ == "__main__":
    main()

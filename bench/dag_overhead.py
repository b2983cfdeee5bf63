"""Cost of the DAG itself: a no-op re-run of a finished workflow, and how much a
one-parameter change re-runs compared with the whole DAG, printed side by side.

    .venv/bin/python bench/dag_overhead.py [--directory DIR] [--configfile extra.yaml]

DIR must hold a finished run (default: the repository, after `make run`).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CHANGES = {
    "se.train.lr (one SE hyper-parameter)": {"se": {"train": {"lr": 0.00123}}},
    "mix.snrs_db (the SNR list)": {"mix": {"snrs_db": [15, 10, 5]}},
    "asr.advt.eps (the AdvT recogniser)": {"asr": {"advt": {"eps": 0.0077}}},
}


def snakemake(directory: Path, *args: str, configfiles: list[str]) -> tuple[float, str]:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(directory),
        "--cores",
        "2",
        *args,
    ]
    if configfiles:
        cmd += ["--configfile", *configfiles]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stdout[-2000:] + proc.stderr[-2000:])
    return time.perf_counter() - t0, proc.stdout + proc.stderr


def job_count(output: str) -> int:
    if "Nothing to be done" in output:
        return 0
    match = re.search(r"\n\s*total\s+(\d+)", output)
    return int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", type=Path, default=REPO)
    parser.add_argument("--configfile", action="append", default=[])
    args = parser.parse_args()
    base = [str(Path(c).resolve()) for c in args.configfile]

    seconds, out = snakemake(args.directory, configfiles=base)
    planned = job_count(out)
    _, full = snakemake(args.directory, "-n", "--forceall", configfiles=base)
    total = job_count(full)
    print(f"no-op re-run of the finished DAG: {seconds:.1f} s wall, {planned} jobs run")
    print(f"jobs in the full DAG: {total}")
    print(f"{'one-parameter change':40} {'jobs re-run':>11} {'of DAG':>7} {'share':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, change in CHANGES.items():
            path = Path(tmp) / "change.yaml"
            path.write_text(yaml.safe_dump(change))
            _, out = snakemake(args.directory, "-n", configfiles=[*base, str(path)])
            n = job_count(out)
            print(f"{label:40} {n:>11} {total:>7} {n / total:>7.0%}")


if __name__ == "__main__":
    main()

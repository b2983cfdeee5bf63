"""Where a finished run spent its time: per stage (rule), the jobs, the summed job time,
the longest job, the wall-clock span from the first job's start to the last job's end,
and the peak memory of any one job; then the whole run's wall time.

Reads the `benchmark:` files every rule writes (benchmarks/**.tsv) and their
modification times (a benchmark file is written when its job ends).

    .venv/bin/python bench/stage_times.py [--directory DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def stage_table(directory: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((directory / "benchmarks").rglob("*.tsv")):
        bench = pd.read_csv(path, sep="\t")
        if bench.empty:
            continue
        last = bench.iloc[-1]
        end = path.stat().st_mtime
        seconds = float(last["s"])
        rss = pd.to_numeric(last.get("max_rss"), errors="coerce")
        rule = path.relative_to(directory / "benchmarks").parts[0].removesuffix(".tsv")
        rows.append(
            {"rule": rule, "seconds": seconds, "start": end - seconds, "end": end, "rss": rss}
        )
    if not rows:
        raise SystemExit(f"no benchmark files under {directory / 'benchmarks'}: run the workflow")
    jobs = pd.DataFrame(rows)
    table = jobs.groupby("rule").agg(
        jobs=("seconds", "size"),
        job_minutes=("seconds", lambda s: s.sum() / 60),
        longest_minutes=("seconds", lambda s: s.max() / 60),
        first_start=("start", "min"),
        last_end=("end", "max"),
        peak_rss_mib=("rss", "max"),
    )
    t0 = jobs["start"].min()
    table["from_minute"] = (table.pop("first_start") - t0) / 60
    table["to_minute"] = (table.pop("last_end") - t0) / 60
    table.attrs["wall_minutes"] = (jobs["end"].max() - t0) / 60
    table.attrs["job_minutes"] = jobs["seconds"].sum() / 60
    return table.sort_values("from_minute")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", default=".", help="a finished workflow run")
    args = parser.parse_args()
    table = stage_table(Path(args.directory))
    with pd.option_context("display.width", 120, "display.float_format", "{:.1f}".format):
        print(table.to_string())
    print(
        f"wall {table.attrs['wall_minutes']:.1f} min for {table.attrs['job_minutes']:.1f} "
        f"job-minutes ({table.attrs['job_minutes'] / table.attrs['wall_minutes']:.2f} jobs "
        f"at a time on average); peak job memory {table['peak_rss_mib'].max():.0f} MiB"
    )


if __name__ == "__main__":
    main()

"""Parquet export memory and speed: peak RSS stays flat from millions to 100 million points.

Run: python benchmarks/bench_parquet.py [--points 10000000] [--runs 100]

Builds a SQLite store of `runs` runs sharing `points` metric points (through the store's executemany
path), then exports it with `export-parquet` in a fresh process, and prints the points exported, the
seconds taken, the points per second and the export process's peak RSS (ru_maxrss) over its RSS before.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

BUILD = textwrap.dedent(
    """
    import sys
    from runyard import TrackingClient
    uri, runs, points = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    client = TrackingClient(uri)
    experiment = client.create_experiment("bench")
    per_run = points // runs
    for r in range(runs):
        run_id = client.create_run(experiment).info.run_id
        for start in range(0, per_run, 200_000):
            stop = min(start + 200_000, per_run)
            points = [("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(start, stop)]
            client.store.log_batch(run_id, points)
    """
)

EXPORT = textwrap.dedent(
    """
    import resource, sys, time
    from runyard import TrackingClient
    from runyard.interop.parquet import export_parquet
    client = TrackingClient(sys.argv[1])
    client.list_experiments()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    counts = export_parquet(client, sys.argv[2])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(counts["metric_history"], seconds, before // 1024, peak // 1024)
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-parquet-") as scratch:
        uri = f"sqlite:///{Path(scratch) / 'runyard.db'}"
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", BUILD, uri, str(args.runs), str(args.points)], check=True)
        built = time.perf_counter() - began
        print(f"store of {args.points:,} points in {args.runs} runs built in {built:.0f} s")
        out = subprocess.run(
            [sys.executable, "-c", EXPORT, uri, str(Path(scratch) / "out")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        points, seconds, before, peak = int(out[0]), float(out[1]), int(out[2]), int(out[3])
        print(
            f"export-parquet: {points:,} points in {seconds:.1f} s ({points / seconds:,.0f} points/s); "
            f"peak RSS {peak} MB ({peak - before:+d} MB over the {before} MB before the export)"
        )


if __name__ == "__main__":
    main()

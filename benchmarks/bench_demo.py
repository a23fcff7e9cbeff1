"""Issue 5 demo store: how long `write_demo_store` takes (the goal: a few seconds), in fresh processes.

Run: python benchmarks/bench_demo.py [--reps 5]

Each repetition spawns a fresh Python that imports runyard.demo.build and writes the demo store (seed 7,
fixed clock) into a new directory; it prints the wall time and the process CPU time of the write.
CPU time is the figure to compare on this shared machine: wall time grows with the other load.
Also printed: the number of runs and metric points written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Stat, cleanup, header, last_line_floats, row, run_python, scratch_dir  # noqa: E402

CHILD = """
import sqlite3, sys, time
from runyard.demo.build import write_demo_store
wall, cpu = time.perf_counter(), time.process_time()
write_demo_store(sys.argv[1], seed=7, now_ms=1_795_000_000_000)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
db = sqlite3.connect(sys.argv[1] + "/runyard.db")
runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
points = db.execute("SELECT count(*) FROM metrics").fetchone()[0]
print(wall, cpu, runs, points)
"""


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    header("runyard demo: write_demo_store(seed=7) in a fresh process")
    walls, cpus = [], []
    runs = points = 0.0
    for repetition in range(args.reps):
        directory = scratch_dir("demo")
        try:
            wall, cpu, runs, points = last_line_floats(
                run_python(CHILD, argv=[str(directory / f"d{repetition}")])
            )
        finally:
            cleanup(directory)
        walls.append(wall)
        cpus.append(cpu)
    row("store written", f"{int(runs)} runs, {int(points):,} metric points")
    row("write_demo_store, wall time", Stat(walls).fmt("s"))
    row("write_demo_store, process CPU time", Stat(cpus).fmt("s"), "(the figure to quote on a busy machine)")


if __name__ == "__main__":
    main()

"""Issue 2 concurrency: 4 processes logging into one SQLite file; 4 processes starting on a new store.

Run: python benchmarks/bench_concurrency.py [--points 50000] [--reps 3] [--tries 10] [--mlflow-tries 3]

1. 4 processes log at once into one existing store (each its own run, log_metric, 10 keys): every
   point must arrive (history rows and summary counts are checked); throughput = all points over
   the wall time from the first process starting to log until the last one's flush returned.
2. 4 processes start at once on a brand-new store file (schema and experiment creation race), each
   logs 1,000 points and ends its run; repeated --tries times. Counts crashed processes and checks
   the store stays usable (every surviving run's points are there; a new process can log to it).
   Target: 0 crashes. The same race with MLflow (--mlflow-tries, sqlite backend) when available.
Processes wait for a shared "go" file after their imports, so that they hit the store together.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    MLFLOW_ENV,
    Stat,
    cleanup,
    header,
    mlflow_python,
    mlflow_version,
    row,
    run_python,
    scratch_dir,
    skip_mlflow_note,
)

PROCESSES = 4

RUNYARD_LOGGER = """
import os, sys, time
uri, go, n, prestart = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
import runyard
import runyard.store.models  # SQLAlchemy/SQLModel loaded before the race, so the processes really collide
runyard.set_tracking_uri(uri)
if prestart:  # an existing store: open the run before the start line, time the logging only
    runyard.set_experiment("concurrency")
    runyard.start_run()
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
t0 = time.time()
if not prestart:
    runyard.set_experiment("race")
    runyard.start_run()
keys = [f"m{i}" for i in range(10)]
for i in range(n):
    runyard.log_metric(keys[i % 10], i * 0.5, step=i // 10)
runyard.flush()
t1 = time.time()
run_id = runyard.active_run().info.run_id
runyard.end_run()
print(run_id, t0, t1)
"""

MLFLOW_LOGGER = """
import os, sys, time
uri, go, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
import mlflow
from mlflow.entities import Metric
mlflow.set_tracking_uri(uri)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
t0 = time.time()
mlflow.set_experiment("race")
with mlflow.start_run() as run:
    now = int(time.time() * 1000)
    metrics = [Metric(f"m{i % 10}", i * 0.5, now, i // 10) for i in range(n)]
    mlflow.tracking.MlflowClient().log_batch(run.info.run_id, metrics=metrics)
print(run.info.run_id, t0, time.time())
"""


def launch(code: str, python: str, uri: str, go: Path, n: int, extra: list[str], cwd: Path) -> list[tuple]:
    """Start PROCESSES children, wait until all are ready, release them together; (rc, stdout, stderr)."""
    children = [
        subprocess.Popen(
            [python, "-c", code, uri, str(go), str(n), *extra],
            cwd=cwd,
            env={**os.environ, **MLFLOW_ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for child in children:  # each prints "ready" once imported (or dies trying)
        assert child.stdout is not None
        child.stdout.readline()
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=600)
        results.append((child.returncode, out, err))
    return results


def _points(path: Path, run_id: str) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        (pk,) = conn.execute("SELECT id FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        (rows,) = conn.execute("SELECT COUNT(*) FROM metrics WHERE run_pk = ?", (pk,)).fetchone()
        (summed,) = conn.execute("SELECT SUM(count) FROM metric_summaries WHERE run_pk = ?", (pk,)).fetchone()
    return rows, summed or 0


def logging_at_once(points: int, reps: int) -> None:
    """Figure 1: 4 processes log into one existing store; all points must arrive."""
    rates, lost = [], 0
    for _ in range(reps):
        tmp = scratch_dir("conc")
        try:
            db = tmp / "store.db"
            uri = f"sqlite:///{db}"
            run_python(
                "import runyard, sys; runyard.set_tracking_uri(sys.argv[1]); "
                "runyard.set_experiment('concurrency')",
                argv=[uri],
            )  # an existing store
            results = launch(RUNYARD_LOGGER, sys.executable, uri, tmp / "go", points, ["1"], tmp)
            starts, ends = [], []
            for rc, out, err in results:
                if rc != 0:
                    raise SystemExit(f"a logging process failed:\n{err[-2000:]}")
                run_id, t0, t1 = out.strip().splitlines()[-1].split()
                starts.append(float(t0))
                ends.append(float(t1))
                rows, summed = _points(db, run_id)
                lost += (points - rows) + (points - summed)
            rates.append(PROCESSES * points / (max(ends) - min(starts)))
        finally:
            cleanup(tmp)
    stat = Stat(rates)
    row(f"1. {PROCESSES} processes x {points:,} points into one SQLite file", stat.fmt("points/s", digits=0))
    row("   points lost (history rows + summary counts, all repetitions)", str(lost), "target 0")


USABLE = """
import sys, runyard
runyard.set_tracking_uri(sys.argv[1])
runyard.set_experiment("race")
with runyard.start_run():
    runyard.log_metric("after", 1.0)
client = runyard.TrackingClient(sys.argv[1])
exp = client.get_experiment_by_name("race")
runs = client.search_runs([exp.experiment_id])
print(len(runs))
"""

MLFLOW_USABLE = """
import sys, mlflow
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("race")
with mlflow.start_run():
    mlflow.log_metric("after", 1.0)
print(len(mlflow.search_runs(experiment_names=["race"], output_format="list")))
"""


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b")


def _error_line(stderr: str) -> str:
    """The last exception line of a traceback (SQLAlchemy appends SQL and links after it)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    exceptions = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return (exceptions or lines or [""])[-1][:150]


def race(
    label: str, logger: str, usable: str, python: str, tries: int, points: int, runyard_side: bool
) -> None:
    """Figure 2: PROCESSES processes start together on a brand-new store file, `tries` times."""
    crashed, unusable, lost, errors = 0, 0, 0, {}
    t_start = time.perf_counter()
    for attempt in range(tries):
        tmp = scratch_dir("race")
        try:
            db = tmp / "new.db"
            uri = f"sqlite:///{db}"
            extra = ["0"] if runyard_side else []
            results = launch(logger, python, uri, tmp / "go", points, extra, tmp)
            survivors = []
            for rc, out, err in results:
                if rc != 0:
                    crashed += 1
                    last = _error_line(err) or f"exit code {rc}"
                    errors[last] = errors.get(last, 0) + 1
                else:
                    survivors.append(out.strip().splitlines()[-1].split()[0])
            check = run_python(usable, python, cwd=tmp, env=MLFLOW_ENV, argv=[uri])
            ok = check.returncode == 0 and check.stdout.strip().splitlines()[-1] == str(len(survivors) + 1)
            if runyard_side and ok:
                for run_id in survivors:
                    rows, summed = _points(db, run_id)
                    lost += (points - rows) + (points - summed)
            if not ok:
                unusable += 1
                tail = _error_line(check.stderr) or "wrong run count"
                errors[f"[store check] {tail}"] = errors.get(f"[store check] {tail}", 0) + 1
        finally:
            cleanup(tmp)
        print(f"   ... {label} try {attempt + 1}/{tries}: {crashed} crashed so far", flush=True)
    seconds = time.perf_counter() - t_start
    row(
        f"2. {label}: {PROCESSES} processes start at once on a NEW store",
        f"{crashed} of {PROCESSES * tries} crashed; store unusable in {unusable} of {tries} tries",
        f"({seconds:.0f} s)",
    )
    if runyard_side:
        row("   points lost by surviving runs", str(lost), "target 0 crashes, 0 lost")
    for message, count in sorted(errors.items(), key=lambda item: -item[1])[:5]:
        print(f"      {count} x {message}")


def main() -> None:
    """Run both concurrency figures for runyard, then the race for MLflow."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=50_000, help="points per process (figure 1)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--mlflow-tries", type=int, default=3, help="0 skips the MLflow race")
    args = parser.parse_args()
    header(f"Concurrency: {PROCESSES} processes, SQLite")
    logging_at_once(args.points, args.reps)
    race("runyard", RUNYARD_LOGGER, USABLE, sys.executable, args.tries, 1_000, runyard_side=True)
    if args.mlflow_tries <= 0:
        print("   MLflow race skipped (--mlflow-tries 0).")
        return
    python = mlflow_python()
    if python is None:
        skip_mlflow_note()
        return
    print(f"   MLflow {mlflow_version(python)} (sqlite backend) via {python}:")
    race("MLflow", MLFLOW_LOGGER, MLFLOW_USABLE, python, args.mlflow_tries, 1_000, runyard_side=False)


if __name__ == "__main__":
    main()

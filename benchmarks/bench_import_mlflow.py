"""`runyard import-mlflow` of a large MLflow SQLite store: the SQL fast path, timed end to end.

    python benchmarks/bench_import_mlflow.py [--runs 20000] [--metrics 5] [--steps 5] [--client-runs 200]

The MLflow store is created by MLflow itself (its own schema, at its current revision), then filled
with sqlite3 executemany: runs with 5 params, 3 mlflow.* tags and METRICS x STEPS points each (the
default is 20,000 runs and 500,000 points), latest_metrics as MLflow keeps them. Cached under
/tmp/runyard-bench-mlflow/. The import runs in a fresh subprocess (`runyard import-mlflow` through
the CLI, as a user would); --client-runs also times the MlflowClient path (one get_metric_history
call per run and key, the path ./mlruns stores still take) on a store of that many runs, to show the
per-run cost it had.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path("/tmp/runyard-bench-mlflow")
BUILD_VERSION = 1


def build(n_runs: int, n_metrics: int, n_steps: int) -> Path:
    """A cached MLflow SQLite store: MLflow creates the schema, sqlite3 bulk-inserts the rows."""
    path = CACHE / f"mlflow-v{BUILD_VERSION}-{n_runs}x{n_metrics}x{n_steps}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{partial}")
    experiment_id = client.create_experiment("bench", artifact_location=str(CACHE / "artifacts"))
    client._tracking_client.store.engine.dispose()
    rng = random.Random(7)
    start = 1_700_000_000_000
    runs, params, tags, metrics, latest = [], [], [], [], []
    for index in range(n_runs):
        run_id = f"{index:032x}"
        began = start + index * 1000
        runs.append(
            (run_id, f"run-{index}", "LOCAL", "train.py", "", "bench", "FINISHED", began, began + 60_000,
             None, "", "active", f"{CACHE}/artifacts/{run_id}/artifacts", int(experiment_id))
        )  # fmt: skip
        params += [(f"p{k}", str(rng.choice([0.1, 0.01, 0.001])), run_id) for k in range(5)]
        tags += [
            ("mlflow.runName", f"run-{index}", run_id),
            ("mlflow.user", "bench", run_id),
            ("mlflow.source.name", "train.py", run_id),
        ]
        for m in range(n_metrics):
            value = 0.0
            for step in range(n_steps):
                value = rng.random()
                metrics.append((f"m{m}", value, began + step, run_id, step, 0))
            latest.append((f"m{m}", value, began + n_steps - 1, n_steps - 1, 0, run_id))
    with sqlite3.connect(partial) as conn:
        conn.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
            "start_time, end_time, deleted_time, source_version, lifecycle_stage, artifact_uri, "
            "experiment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            runs,
        )
        conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
        conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
        conn.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)",
            metrics,
        )
        conn.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            latest,
        )
    partial.rename(path)
    return path


def import_seconds(source: Path, client_path: bool = False) -> tuple[float, str]:
    """Wall time of one import into a fresh runyard store, in a fresh subprocess, and its last line
    (with the subprocess's CPU seconds, which a shared machine's load does not inflate)."""
    with tempfile.TemporaryDirectory(prefix="bench-import-mlflow-") as work:
        target = f"sqlite:///{work}/runyard.db"
        if client_path:
            code = (
                "import sys, runyard\n"
                "from runyard.interop import mlflow_import as m\n"
                "opened = m._open_source\n"
                "m._open_source = lambda uri, work: (opened(uri, work)[0], False)\n"
                "r = runyard.import_mlflow(sys.argv[1], sys.argv[2])\n"
                "print(r.runs_imported, r.metric_points)\n"
            )
            command = [sys.executable, "-c", code, f"sqlite:///{source}", target]
        else:
            command = [sys.executable, "-m", "runyard.cli", "import-mlflow", "--from", f"sqlite:///{source}",
                       "--store", target]  # fmt: skip
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - began
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    lines = done.stdout.strip().splitlines()
    return seconds, f"CPU {cpu:.1f} s | " + (lines[-1] if lines else "")


def main() -> None:
    """Build (or reuse) the store, import it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--client-runs", type=int, default=200, help="0 skips the MlflowClient path")
    args = parser.parse_args()
    began = time.perf_counter()
    source = build(args.runs, args.metrics, args.steps)
    points = args.runs * args.metrics * args.steps
    print(f"MLflow store: {args.runs:,} runs, {points:,} points, {source.stat().st_size / 2**20:.0f} MiB "
          f"(ready in {time.perf_counter() - began:.1f} s)")  # fmt: skip
    seconds, last = import_seconds(source)
    print(
        f"import-mlflow, SQL fast path: {seconds:.1f} s ({points / seconds / 1000:.0f} k points/s) | {last}"
    )
    if args.client_runs:
        small = build(args.client_runs, args.metrics, args.steps)
        client_seconds, _ = import_seconds(small, client_path=True)
        fast_seconds, _ = import_seconds(small)
        per_run = client_seconds / args.client_runs
        print(
            f"{args.client_runs} runs: MlflowClient path {client_seconds:.1f} s "
            f"({per_run * 1000:.0f} ms/run, "
            f"~{per_run * args.runs / 60:.0f} min for {args.runs:,} runs); SQL path {fast_seconds:.1f} s"
        )


if __name__ == "__main__":
    main()

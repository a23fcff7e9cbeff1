"""Issue 2 logging speed: log_metric call cost, end-to-end throughput vs plain sqlite3, vs MLflow.

Run: python benchmarks/bench_logging.py [--points 200000] [--reps 5] [--no-mlflow]

1. Mean cost of one `runyard.log_metric` call (target < 10 us), one process, SQLite.
2. End-to-end throughput: N points logged with log_metric and written (`runyard.flush()` returns),
   against plain `sqlite3` executemany writing the same rows into the same tables and indexes of a
   fresh runyard store (WAL, synchronous=NORMAL, the same PRAGMAs runyard's connections use, batches
   of 1,000 rows in one transaction each, one summary upsert per (run, key) of each batch).
   Target: runyard >= 0.7x of plain sqlite3, measured in the same run (repetitions alternate).
3. MLflow side by side (its sqlite backend, a separate venv): synchronous log_metric and log_batch
   of 1,000 points. Skipped with a note when MLflow is not installed.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    MLFLOW_ENV,
    Stat,
    cleanup,
    header,
    last_line_floats,
    mlflow_python,
    mlflow_version,
    ratio,
    row,
    run_python,
    scratch_dir,
    skip_mlflow_note,
)

KEYS = [f"train/metric_{i}" for i in range(10)]
BASELINE_BATCH = 1_000


def _values(n: int) -> list[float]:
    rng = random.Random(42)
    return [rng.random() for _ in range(n)]


def _new_runyard_run(path: Path) -> None:
    """A fresh store at path with an active run (set-up, not timed)."""
    import runyard

    runyard.set_tracking_uri(f"sqlite:///{path}")
    runyard.set_experiment("bench")
    runyard.start_run()
    runyard.log_metric("warm-up", 0.0)
    runyard.flush()


def runyard_log_metric(path: Path, steps: int, values: list[float]) -> tuple[float, float]:
    """Log len(KEYS) * steps points with log_metric and flush; (us per call, points per second)."""
    import runyard

    _new_runyard_run(path)
    log_metric, keys, n = runyard.log_metric, KEYS, len(KEYS) * steps
    i = 0
    t0 = time.perf_counter()
    for step in range(steps):
        for key in keys:
            log_metric(key, values[i], step=step)
            i += 1
    t1 = time.perf_counter()
    runyard.flush()
    t2 = time.perf_counter()
    runyard.end_run()
    _check_points(path, n)
    return (t1 - t0) / n * 1e6, n / (t2 - t0)


def runyard_log_metrics(path: Path, steps: int, values: list[float]) -> float:
    """Log the same points with log_metrics (one dict of 10 per step) and flush; points per second."""
    import runyard

    _new_runyard_run(path)
    log_metrics, keys, n = runyard.log_metrics, KEYS, len(KEYS) * steps
    width = len(keys)
    t0 = time.perf_counter()
    for step in range(steps):
        base = step * width
        log_metrics({key: values[base + j] for j, key in enumerate(keys)}, step=step)
    runyard.flush()
    t1 = time.perf_counter()
    runyard.end_run()
    _check_points(path, n)
    return n / (t1 - t0)


def _check_points(path: Path, expected: int) -> None:
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM metrics WHERE key != 'warm-up'").fetchone()
        (summed,) = conn.execute("SELECT SUM(count) FROM metric_summaries WHERE key != 'warm-up'").fetchone()
    if count != expected or summed != expected:
        raise SystemExit(f"lost points: {count} rows, summaries count {summed}, expected {expected}")


BASELINE_INSERT = "INSERT INTO metrics (run_pk, key, value, timestamp, step) VALUES (?, ?, ?, ?, ?)"
BASELINE_UPSERT = """
INSERT INTO metric_summaries
    (run_pk, key, latest_value, latest_step, latest_timestamp, min_value, max_value, count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_pk, key) DO UPDATE SET
    latest_value = CASE WHEN (excluded.latest_step, excluded.latest_timestamp, excluded.latest_value)
        >= (latest_step, latest_timestamp, latest_value) THEN excluded.latest_value ELSE latest_value END,
    latest_step = max(latest_step, excluded.latest_step),
    latest_timestamp = CASE WHEN excluded.latest_step >= latest_step
        THEN excluded.latest_timestamp ELSE latest_timestamp END,
    min_value = min(min_value, excluded.min_value),
    max_value = max(max_value, excluded.max_value),
    count = count + excluded.count
"""


def sqlite_baseline(path: Path, steps: int, values: list[float], blocks: bool) -> float:
    """Plain sqlite3: the same rows into a fresh runyard store's tables; points per second.

    With blocks, the per-block rows runyard keeps for charts (metric_blocks) are upserted too, folded
    by runyard's own fold_blocks: the same work runyard's writer does.
    """
    import runyard

    _new_runyard_run(path)  # the same schema, indexes and a real run row
    run_id = runyard.active_run().info.run_id  # type: ignore[union-attr]
    runyard.end_run()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("busy_timeout = 60000", "foreign_keys = ON", "synchronous = NORMAL", "journal_mode = WAL"):
        conn.execute(f"PRAGMA {pragma}")
    (run_pk,) = conn.execute("SELECT id FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if blocks:
        from runyard.store.metric_blocks import fold_blocks, upsert_blocks_sql

        blocks_sql = upsert_blocks_sql("?")
    now = int(time.time() * 1000)
    rows = []
    i = 0
    for step in range(steps):
        for key in KEYS:
            rows.append((run_pk, key, values[i], now, step))
            i += 1
    t0 = time.perf_counter()
    for start in range(0, len(rows), BASELINE_BATCH):
        batch = rows[start : start + BASELINE_BATCH]
        summaries: dict[tuple[int, str], list] = {}  # type: ignore[type-arg]
        for pk, key, value, ts, step in batch:
            s = summaries.get((pk, key))
            if s is None:
                summaries[(pk, key)] = [pk, key, value, step, ts, value, value, 1]
                continue
            if (step, ts, value) >= (s[3], s[4], s[2]):
                s[2], s[3], s[4] = value, step, ts
            if value < s[5]:
                s[5] = value
            if value > s[6]:
                s[6] = value
            s[7] += 1
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(BASELINE_INSERT, batch)
        conn.executemany(BASELINE_UPSERT, summaries.values())
        if blocks:
            conn.executemany(blocks_sql, fold_blocks(batch))
        conn.execute("COMMIT")
    t1 = time.perf_counter()
    conn.close()
    _check_points(path, len(rows))
    return len(rows) / (t1 - t0)


def _store_has_blocks() -> bool:
    """True when runyard keeps metric_blocks next to the points (then the fair baseline writes them too)."""
    try:
        from runyard.store import models

        return hasattr(models, "MetricBlockRow")
    except ImportError:
        return False


MLFLOW_CODE = r"""
import sys, time, random
import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
uri, reps, n_sync, n_batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mlflow.set_tracking_uri(uri)
client = MlflowClient()
exp_id = client.create_experiment("bench")  # creates the store (migrations): not timed
mlflow.set_experiment(experiment_id=exp_id)
rng = random.Random(42)
sync, batch = [], []
for rep in range(reps):
    with mlflow.start_run() as run:
        mlflow.log_metric("warm-up", 0.0)
        t0 = time.perf_counter()
        for step in range(n_sync):
            mlflow.log_metric("loss", rng.random(), step=step)
        sync.append(n_sync / (time.perf_counter() - t0))
        now = int(time.time() * 1000)
        points = [[Metric(f"m{j % 10}", rng.random(), now, b * 100 + j // 10) for j in range(1000)]
                  for b in range(n_batches)]
        t0 = time.perf_counter()
        for metrics in points:
            client.log_batch(run.info.run_id, metrics=metrics)
        batch.append(n_batches * 1000 / (time.perf_counter() - t0))
n = len(client.get_metric_history(run.info.run_id, "loss"))
assert n == n_sync, n
print(" ".join(f"{v:.3f}" for v in sync + batch))
"""


def mlflow_logging(python: str, reps: int, n_sync: int, n_batches: int) -> tuple[Stat, Stat]:
    """MLflow's synchronous log_metric and log_batch(1000) points/s in its own venv's process."""
    tmp = scratch_dir("mlflow")
    try:
        argv = [f"sqlite:///{tmp / 'mlflow.db'}", str(reps), str(n_sync), str(n_batches)]
        proc = run_python(MLFLOW_CODE, python, cwd=tmp, env=MLFLOW_ENV, argv=argv, timeout=600)
        values = last_line_floats(proc)
    finally:
        cleanup(tmp)
    return Stat(values[:reps]), Stat(values[reps:])


def main() -> None:
    """Run every logging figure and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000, help="points per repetition (10 keys)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-mlflow", action="store_true", help="skip the MLflow side")
    args = parser.parse_args()
    steps = args.points // len(KEYS)
    n = steps * len(KEYS)
    values = _values(n)
    header(f"Logging: {n:,} points of {len(KEYS)} keys per repetition, {args.reps} repetitions, SQLite")

    blocks = _store_has_blocks()
    tmp = scratch_dir("logging")
    calls, e2e, e2e_many, base, base_blocks = [], [], [], [], []
    try:
        for rep in range(args.reps):  # alternate, so that machine noise hits every side alike
            call_us, rate = runyard_log_metric(tmp / f"ry-{rep}.db", steps, values)
            calls.append(call_us)
            e2e.append(rate)
            base.append(sqlite_baseline(tmp / f"sq-{rep}.db", steps, values, blocks=False))
            if blocks:
                base_blocks.append(sqlite_baseline(tmp / f"sb-{rep}.db", steps, values, blocks=True))
            e2e_many.append(runyard_log_metrics(tmp / f"rm-{rep}.db", steps, values))
    finally:
        cleanup(tmp)
    call_stat, e2e_stat, base_stat, many_stat = Stat(calls), Stat(e2e), Stat(base), Stat(e2e_many)
    ok = "OK" if call_stat.median < 10 else "MISSED"
    row("1. log_metric mean call cost (writer thread running)", call_stat.fmt("us"), f"target < 10 us: {ok}")
    row("2. runyard log_metric + flush, end to end", e2e_stat.fmt("points/s", digits=0))
    row("   runyard log_metrics (dict of 10 per step) + flush", many_stat.fmt("points/s", digits=0))
    row("   plain sqlite3: metrics + summaries", base_stat.fmt("points/s", digits=0))
    r = ratio(e2e_stat, base_stat)
    row("   ratio runyard / plain sqlite3 (metrics + summaries)", r.fmt("x"))
    if blocks:
        same = Stat(base_blocks)
        row("   plain sqlite3: metrics + summaries + metric_blocks", same.fmt("points/s", digits=0))
        r = ratio(e2e_stat, same)
        ok = "OK" if r.median >= 0.7 else "MISSED"
        row("   ratio runyard / plain sqlite3 (the same tables)", r.fmt("x"), f"target >= 0.7x: {ok}")
    else:
        ok = "OK" if r.median >= 0.7 else "MISSED"
        row("   (this store has no metric_blocks: the same tables)", "", f"target >= 0.7x: {ok}")

    if args.no_mlflow:
        print("   MLflow side skipped (--no-mlflow).")
        return
    python = mlflow_python()
    if python is None:
        skip_mlflow_note()
        return
    print(f"   MLflow {mlflow_version(python)} (sqlite backend) via {python}:")
    sync, batch = mlflow_logging(python, reps=3, n_sync=200, n_batches=5)
    row("3. MLflow log_metric (synchronous)", sync.fmt("points/s", digits=0))
    row("   MLflow log_batch of 1,000 points", batch.fmt("points/s", digits=0))
    row("   runyard log_metric end to end / MLflow log_metric", f"{e2e_stat.median / sync.median:,.0f}x")
    row("   runyard log_metric end to end / MLflow log_batch", f"{e2e_stat.median / batch.median:,.1f}x")


if __name__ == "__main__":
    main()

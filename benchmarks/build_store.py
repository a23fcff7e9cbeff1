"""Fast builder of a benchmark store: N runs in one experiment with params, metric history and tags.

Usage from a script (the built SQLite file is cached under /tmp/runyard-bench/, keyed by parameters):

    from build_store import build_store
    uri = build_store(None, n_runs=100_000)           # the cached file itself (do not modify it)
    uri = build_store("/tmp/x/copy.db", n_runs=1000)  # a private copy of the cached file
    uri = build_store("postgresql+psycopg://...")      # built directly on that database (no cache)

or `python benchmarks/build_store.py --runs 100000 [--uri URI]`.

Every run has 10 params, 10 metrics x 10 steps (history and per-run summaries) and 5 tags (one is
runyard.runName). The schema is runyard's own (created through SqlStore); rows go in with the DBAPI's
executemany (SQLite) or COPY (PostgreSQL), in batches, never through the ORM. Values are drawn from
a seeded generator, so the same parameters always give the same store.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

CACHE_DIR = Path("/tmp/runyard-bench")
EXPERIMENT_NAME = "bench-search"
BUILD_VERSION = 3  # bump when the generated data changes

PARAM_CHOICES: dict[str, list[str]] = {
    "lr": ["0.1", "0.03", "0.01", "0.003", "0.001", "0.0003", "0.0001", "3e-05"],
    "optimizer": ["adam", "sgd", "rmsprop", "adagrad"],
    "batch_size": ["16", "32", "64", "128", "256"],
    "layers": [str(n) for n in range(1, 9)],
    "dropout": ["0.0", "0.1", "0.2", "0.3", "0.5"],
    "model": ["resnet18", "resnet34", "resnet50", "vit-b16", "vit-s16", "convnext-t"],
    "epochs": ["10", "20", "50", "100"],
    "weight_decay": ["0", "1e-4", "1e-3", "5e-4"],
    "activation": ["relu", "gelu", "silu", "tanh"],
}
TAG_CHOICES: dict[str, list[str]] = {
    "team": ["vision", "nlp", "speech", "rl"],
    "dataset": ["cifar10", "cifar100", "imagenet", "mnist", "svhn"],
    "priority": ["low", "medium", "high"],
    "git_branch": ["main", "dev", "feature/aug", "feature/sched", "exp/long-run"],
}
METRIC_KEYS = [
    "accuracy",
    "loss",
    "val_accuracy",
    "val_loss",
    "f1",
    "precision",
    "recall",
    "lr_actual",
    "throughput",
    "memory_mb",
]
USERS = ["alice", "bob", "carol", "dave", "erin"]
STEPS = 10
START_TIME = 1_700_000_000_000


def cache_path(n_runs: int, seed: int) -> Path:
    """Where the SQLite store for these parameters is cached."""
    return CACHE_DIR / f"store-v{BUILD_VERSION}-runs{n_runs}-seed{seed}.db"


def build_store(path_or_uri: str | os.PathLike[str] | None, n_runs: int = 100_000, seed: int = 7) -> str:
    """Build (or reuse from the cache) a benchmark store; returns its tracking URI.

    None: the cached SQLite file itself (treat it as read-only). A file path or sqlite:/// URI: a
    copy of the cached file there. A postgresql URI: the rows are written into that (empty) database.
    """
    target = str(path_or_uri) if path_or_uri is not None else None
    if target is not None and target.startswith("postgresql"):
        _build_postgres(target, n_runs, seed)
        return target
    cached = cache_path(n_runs, seed)
    if not cached.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with open(CACHE_DIR / ".build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same store
            if not cached.exists():
                partial = cached.with_suffix(f".partial-{os.getpid()}")
                partial.unlink(missing_ok=True)
                _build_sqlite(partial, n_runs, seed)
                os.replace(partial, cached)
    if target is None:
        return f"sqlite:///{cached}"
    destination = Path(target.removeprefix("sqlite:///"))
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, destination)
    return f"sqlite:///{destination}"


def _create_schema(uri: str) -> str:
    """Create runyard's schema and the experiment through runyard itself; returns the experiment id."""
    from runyard.store.sql_store import SqlStore

    store = SqlStore(uri, artifact_root="/tmp/runyard-bench/artifacts")
    experiment_id = store.create_experiment(EXPERIMENT_NAME, tags={"purpose": "benchmark"})
    store.db.dispose()
    from runyard.store import db as runyard_db

    runyard_db._databases.pop(uri, None)
    return experiment_id


def generate(n_runs: int, seed: int, experiment_id: str, first_pk: int = 1) -> Iterator[tuple[str, list]]:
    """Rows per table in batches: ("runs"|"params"|"tags"|"metrics"|"metric_summaries", rows)."""
    rng = random.Random(seed)
    batch = 2_000
    for start in range(0, n_runs, batch):
        runs, params, tags, metrics, summaries = [], [], [], [], []
        for index in range(start, min(start + batch, n_runs)):
            pk = first_pk + index
            run_id = f"{rng.getrandbits(128):032x}"
            name = f"run-{index:06d}"
            start_time = START_TIME + index * 1_000 + rng.randrange(1_000)
            roll = rng.random()
            status = "FINISHED" if roll < 0.85 else ("FAILED" if roll < 0.95 else "RUNNING")
            end_time = None if status == "RUNNING" else start_time + rng.randrange(60_000, 7_200_000)
            runs.append(
                (
                    pk,
                    run_id,
                    experiment_id,
                    name,
                    rng.choice(USERS),
                    status,
                    start_time,
                    end_time,
                    start_time,
                    "active",
                    "SCRIPT",
                    "train.py",
                    f"/tmp/runyard-bench/artifacts/{experiment_id}/{run_id}/artifacts",
                )
            )
            for key, choices in PARAM_CHOICES.items():
                params.append((pk, key, rng.choice(choices)))
            params.append((pk, "seed", str(index)))
            tags.append((pk, "runyard.runName", name))
            for key, choices in TAG_CHOICES.items():
                tags.append((pk, key, rng.choice(choices)))
            quality = rng.random()
            for metric_index, key in enumerate(METRIC_KEYS):
                scale = 1.0 + metric_index
                values = []
                for step in range(STEPS):
                    progress = (step + 1) / STEPS
                    value = round(scale * quality * progress + rng.random() * 0.05, 6)
                    values.append(value)
                    metrics.append((pk, key, value, start_time + step * 1_000, step))
                summaries.append(
                    (
                        pk,
                        key,
                        values[-1],
                        STEPS - 1,
                        start_time + (STEPS - 1) * 1_000,
                        min(values),
                        max(values),
                        STEPS,
                    )
                )
        yield "runs", runs
        yield "params", params
        yield "tags", tags
        yield "metrics", metrics
        yield "metric_summaries", summaries


_COLUMNS = {
    "runs": "id, run_id, experiment_id, run_name, user_id, status, start_time, end_time, heartbeat_time, "
    "lifecycle_stage, source_type, source_name, artifact_uri",
    "params": 'run_pk, "key", value',
    "tags": 'run_pk, "key", value',
    "metrics": 'run_pk, "key", value, timestamp, step',
    "metric_summaries": 'run_pk, "key", latest_value, latest_step, latest_timestamp, '
    "min_value, max_value, count",
}


def build_mlflow_store(path: str, n_runs: int, seed: int = 7) -> None:
    """The same runs in an MLflow SQLite store (MLflow's own schema, rows bulk-inserted); needs mlflow."""
    from mlflow.tracking import MlflowClient

    partial = path + ".partial"
    if os.path.exists(partial):
        os.remove(partial)
    client = MlflowClient(tracking_uri="sqlite:///" + partial)
    experiment_id = client.create_experiment(EXPERIMENT_NAME)
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    uuids: dict[int, str] = {}
    for table, rows in generate(n_runs, seed, experiment_id):
        if table == "runs":
            for r in rows:
                uuids[r[0]] = r[1]
            db.executemany(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, "
                "status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
                "VALUES (?, ?, 'LOCAL', ?, '', ?, ?, ?, ?, '', 'active', ?, ?)",
                [(r[1], r[3], r[11], r[4], r[5], r[6], r[7], r[12], experiment_id) for r in rows],
            )
        elif table in ("params", "tags"):
            db.executemany(
                f"INSERT INTO {table} (key, value, run_uuid) VALUES (?, ?, ?)",
                [(k, v, uuids[pk]) for pk, k, v in rows],
            )
        elif table == "metrics":
            db.executemany(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                "VALUES (?, ?, ?, ?, ?, 0)",
                [(k, v, ts, uuids[pk], step) for pk, k, v, ts, step in rows],
            )
        else:
            db.executemany(
                "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                "VALUES (?, ?, ?, ?, 0, ?)",
                [(k, latest, ts, step, uuids[pk]) for pk, k, latest, step, ts, *_ in rows],
            )
    db.execute("COMMIT")
    db.close()
    os.replace(partial, path)


def _build_sqlite(path: Path, n_runs: int, seed: int) -> None:
    began = time.perf_counter()
    experiment_id = _create_schema(f"sqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    conn.execute("BEGIN")
    for table, rows in generate(n_runs, seed, experiment_id):
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO {table} ({_COLUMNS[table]}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(f"   built {path} ({n_runs:,} runs) in {time.perf_counter() - began:.1f} s", file=sys.stderr)


def _build_postgres(uri: str, n_runs: int, seed: int) -> None:
    import psycopg

    began = time.perf_counter()
    experiment_id = _create_schema(uri)
    plain = uri.replace("postgresql+psycopg://", "postgresql://")
    options = None
    if "?options=" in plain:  # a search_path set in the URI (test schemas)
        from urllib.parse import unquote

        plain, _, raw = plain.partition("?options=")
        options = unquote(raw)
    with psycopg.connect(plain, options=options or "") as conn, conn.cursor() as cursor:
        first_pk = cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM runs").fetchone()[0]  # type: ignore[index]
        for table, rows in generate(n_runs, seed, experiment_id, first_pk=first_pk):
            with cursor.copy(f"COPY {table} ({_COLUMNS[table]}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        cursor.execute("SELECT setval(pg_get_serial_sequence('runs', 'id'), (SELECT MAX(id) FROM runs))")
        cursor.execute("ANALYZE")
    print(
        f"   built {uri.split('@')[-1]} ({n_runs:,} runs) in {time.perf_counter() - began:.1f} s",
        file=sys.stderr,
    )


def main() -> None:
    """Command line: build (or find) a store and print its URI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--uri", default=None, help="a path, sqlite:/// or postgresql URI (default: the cache)"
    )
    args = parser.parse_args()
    print(build_store(args.uri, n_runs=args.runs, seed=args.seed))


if __name__ == "__main__":
    main()

"""Issue 3 search speed: first page, filter + order_by a metric, next page (SQLite, PostgreSQL, MLflow).

Run: python benchmarks/bench_search.py [--runs 100000] [--reps 7] [--mlflow-runs 10000]
     [--no-postgres] [--no-mlflow] [--pg-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The store (build_store.py, cached under /tmp/runyard-bench/): N runs in one experiment, each with 10
params, 10 metrics x 10 steps and 5 tags. Every figure returns 1000 runs with their params, metrics
and tags, measured in one warm process (the first call is a warm-up, not counted):

- first page: `search_runs([exp])`, no filter, default order (newest first);
- filter + order: `params.optimizer = 'adam' AND metrics.accuracy > 0.3 AND tags.team != 'rl'`
  ordered by `metrics.val_loss DESC` (about 13% of the runs match: 1,300 of 10,000);
- one metric clause: `metrics.accuracy > 0.5` (about half the runs match), default order;
- its SQL only: the page's one SELECT without building entities (where the time goes);
- next page: the second page of the filtered search, through its page token.

MLflow (its sqlite store, built with the same generated rows written straight into MLflow's own
tables, because logging 100k runs through its API takes hours) runs the same filter and order in
its venv, next to runyard on a store of the same size.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    MLFLOW_ENV,
    Stat,
    header,
    last_line_floats,
    mlflow_python,
    mlflow_version,
    ratio,
    row,
    run_python,
    skip_mlflow_note,
)
from build_store import CACHE_DIR, EXPERIMENT_NAME, build_store  # noqa: E402

FILTER = "params.optimizer = 'adam' AND metrics.accuracy > 0.3 AND tags.team != 'rl'"
METRIC_FILTER = "metrics.accuracy > 0.5"
ORDER = ["metrics.val_loss DESC"]
PAGE = 1000


def _timed(fn, cpu: list[float]) -> float:  # type: ignore[no-untyped-def]
    began, began_cpu = time.perf_counter(), time.process_time()
    fn()
    cpu.append(time.process_time() - began_cpu)  # this process's CPU: less sensitive to other load
    return time.perf_counter() - began


def measure_runyard(uri: str, reps: int) -> dict[str, Stat]:
    """The four figures on one store (warm process, one warm-up call each)."""
    from runyard import TrackingClient
    from runyard.search.parser import parse_filter, parse_order_by
    from runyard.store.search_sql import FilterCompiler, page_query

    client = TrackingClient(uri, must_exist=True)
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    assert experiment is not None, f"no {EXPERIMENT_NAME} experiment in {uri}"
    ids = [experiment.experiment_id]
    store = client.store

    def first_page() -> None:
        assert len(client.search_runs(ids, max_results=PAGE)) == PAGE

    def filtered() -> None:
        assert len(client.search_runs(ids, FILTER, max_results=PAGE, order_by=ORDER)) == PAGE

    def one_metric() -> None:
        assert len(client.search_runs(ids, METRIC_FILTER, max_results=PAGE)) == PAGE

    def sql_only() -> None:
        compiler = FilterCompiler(store.db.dialect, 0)
        query, _ = page_query(
            compiler, ids, "ACTIVE_ONLY", parse_filter(FILTER), parse_order_by(ORDER), None, PAGE + 1
        )
        with store.db.connect() as conn:
            assert len(conn.execute(query).all()) == PAGE + 1

    token = client.search_runs(ids, FILTER, max_results=PAGE, order_by=ORDER).token

    def next_page() -> None:
        assert len(client.search_runs(ids, FILTER, max_results=PAGE, order_by=ORDER, page_token=token)) > 0

    figures = {
        "first": first_page,
        "filter": filtered,
        "metric": one_metric,
        "sql": sql_only,
        "next": next_page,
    }
    results: dict[str, list[float]] = {name: [] for name in figures}
    cpu: dict[str, list[float]] = {name: [] for name in figures}
    for fn in figures.values():
        fn()  # warm-up
    for _ in range(reps):  # interleaved, so that load bursts hit every figure alike
        for name, fn in figures.items():
            results[name].append(_timed(fn, cpu[name]))
    matching = len(client.search_runs(ids, FILTER, max_results=50_000))
    print(f"   ({matching:,} runs match the filter)")
    store.db.dispose()
    stats = {name: Stat(values) for name, values in results.items()}
    stats.update({f"{name}_cpu": Stat(values) for name, values in cpu.items()})
    return stats


def print_runyard(label: str, stats: dict[str, Stat]) -> None:
    """One block of figures."""
    row(f"{label}: first page, no filter (1000 runs)", stats["first"].fmt("ms", 1000, 1), "target < 50 ms")
    row(
        f"{label}: 3-clause filter + order_by metric (1000 runs)",
        stats["filter"].fmt("ms", 1000, 1),
        "target < 300 ms",
    )
    row(f"{label}:   of which the one SELECT", stats["sql"].fmt("ms", 1000, 1))
    row(f"{label}: one metric clause (1000 runs)", stats["metric"].fmt("ms", 1000, 1))
    row(f"{label}: next page through its token", stats["next"].fmt("ms", 1000, 1))
    cpu = ", ".join(
        f"{name} {stats[name + '_cpu'].median * 1000:.1f}"
        for name in ("first", "filter", "metric", "sql", "next")
    )
    row(f"{label}: CPU of this process, medians (ms)", cpu, "(the server's CPU not included)")


def postgres_store(server_url: str, n_runs: int) -> str | None:
    """A PostgreSQL database holding the benchmark store (built once, reused while its run count matches)."""
    try:
        import psycopg
    except ImportError:
        return None
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"runyard_bench_search_{n_runs}"
    base = plain.rsplit("/", 1)[0]
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists:
                try:
                    with psycopg.connect(f"{base}/{name}") as db:
                        count = db.execute("SELECT count(*) FROM runs").fetchone()
                    if count and count[0] == n_runs:
                        return f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
                except psycopg.Error:
                    pass
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"   PostgreSQL not reachable ({str(error).strip().splitlines()[0]}): skipping it.")
        return None
    uri = f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    build_store(uri, n_runs=n_runs)
    return uri


_MLFLOW_CHILD = r"""
import os, sqlite3, sys, time, statistics
sys.path.insert(0, {bench_dir!r})
from build_store import build_mlflow_store, EXPERIMENT_NAME
path, n_runs, reps = {path!r}, {n_runs}, {reps}
from mlflow.tracking import MlflowClient
uri = "sqlite:///" + path
if not os.path.exists(path):
    build_mlflow_store(path, n_runs)
client = MlflowClient(tracking_uri=uri)
experiment_id = client.get_experiment_by_name(EXPERIMENT_NAME).experiment_id
def first():
    assert len(client.search_runs([experiment_id], max_results=1000)) == 1000
def filtered():
    assert len(client.search_runs([experiment_id], {filter!r}, max_results=1000, order_by={order!r})) == 1000
def one_metric():
    assert len(client.search_runs([experiment_id], {metric_filter!r}, max_results=1000)) == 1000
first(); filtered(); one_metric()
walls, cpus = [[], [], []], [[], [], []]
for _ in range(reps):
    for index, fn in enumerate((first, filtered, one_metric)):
        t, p = time.perf_counter(), time.process_time(); fn()
        walls[index].append(time.perf_counter() - t); cpus[index].append(time.process_time() - p)
print(" ".join(str(x) for x in sum(walls, []) + sum(cpus, [])))
"""


def measure_mlflow(python: str, n_runs: int, reps: int) -> dict[str, Stat]:
    """MLflow's search_runs on an MLflow store holding the same generated rows: wall and CPU times.

    MLflow's SQLite store runs in the searching process, as runyard's does, so the process CPU time
    covers all the work of both; on a shared machine it is the steadier basis for the ratio.
    """
    code = _MLFLOW_CHILD.format(
        bench_dir=str(Path(__file__).resolve().parent),
        path=str(CACHE_DIR / f"mlflow-v1-runs{n_runs}-seed7.db"),
        n_runs=n_runs,
        reps=reps,
        filter=FILTER,
        order=ORDER,
        metric_filter=METRIC_FILTER,
    )
    values = last_line_floats(run_python(code, python, env=MLFLOW_ENV, timeout=3600))
    names = ["first", "filter", "metric", "first_cpu", "filter_cpu", "metric_cpu"]
    return {name: Stat(values[i * reps : (i + 1) * reps]) for i, name in enumerate(names)}


def main() -> None:
    """Print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--mlflow-runs", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument(
        "--pg-server",
        default=os.environ.get(
            "RUNYARD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    header("search (issue 3)")
    print(f"   store: {args.runs:,} runs in one experiment, 10 params, 10 metrics x 10 steps, 5 tags each")
    sqlite_stats = measure_runyard(build_store(None, n_runs=args.runs), args.reps)
    print_runyard("SQLite", sqlite_stats)
    if not args.no_postgres:
        uri = postgres_store(args.pg_server, args.runs)
        if uri is not None:
            print_runyard("PostgreSQL", measure_runyard(uri, args.reps))
    if args.no_mlflow:
        return
    python = mlflow_python()
    if python is None:
        skip_mlflow_note()
        return
    n = args.mlflow_runs
    print(f"   MLflow {mlflow_version(python)} side by side, {n:,} runs (same rows, each in its own tables)")
    small = measure_runyard(build_store(None, n_runs=n), args.reps)
    mlflow = measure_mlflow(python, n, args.reps)
    cases = [("first", "first page"), ("filter", "filter + order_by metric"), ("metric", "one metric clause")]
    for name, label in cases:
        row(f"runyard, {n:,} runs: {label}", small[name].fmt("ms", 1000, 1))
        row(f"MLflow,  {n:,} runs: {label}", mlflow[name].fmt("ms", 1000, 1))
    for name, label in cases:
        cpu = ratio(mlflow[name + "_cpu"], small[name + "_cpu"]).fmt("x", 1, 1)
        row(f"MLflow / runyard, {label}: CPU", cpu, f"wall {ratio(mlflow[name], small[name]).fmt('x', 1, 1)}")


if __name__ == "__main__":
    main()

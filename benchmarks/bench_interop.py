"""Export/import throughput and peak memory of runyard dumps, at two store sizes (issue 9).

    python benchmarks/bench_interop.py [--sizes 100,1000] [--metrics 10] [--steps 1000] [--repeat 2]

Each store has N runs x METRICS metrics x STEPS steps, built once with metric_store.write_points and
cached under /tmp/runyard-bench-interop/. Every export and every import runs in a fresh subprocess
that reports its own peak RSS (VmHWM), so the figures of one size do not leak into the next; a
baseline subprocess (import runyard, open the store, read one run) shows what any process costs.
If memory is flat, peak RSS stays near the baseline while the store grows tenfold.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path("/tmp/runyard-bench-interop")


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(n_runs: int, n_metrics: int, n_steps: int) -> Path:
    """A cached SQLite store of n_runs x n_metrics x n_steps points (built with write_points)."""
    path = CACHE / f"store-{n_runs}x{n_metrics}x{n_steps}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".building.db")
    for stale in CACHE.glob(partial.name + "*"):
        stale.unlink()
    from runyard.store.metrics import write_points
    from runyard.store.sql_store import SqlStore

    started = time.perf_counter()
    store = SqlStore(f"sqlite:///{partial}", artifact_root=str(CACHE / "artifacts"))
    experiment = store.create_experiment("bench-interop")
    keys = [f"metric_{k}" for k in range(n_metrics)]
    for index in range(n_runs):
        run = store.create_run(experiment, f"run-{index}", "bench", start_time=1_700_000_000_000 + index)
        pk = store.run_pk(run.info.run_id)
        store.log_params(run.info.run_id, {"lr": str(0.001 * (index % 7 + 1)), "seed": str(index)})
        points = [
            (pk, key, 1.0 / (step + 1) + k * 0.01, 1_700_000_000_000 + step, step)
            for k, key in enumerate(keys)
            for step in range(n_steps)
        ]
        with store.db.connect(write=True) as conn:
            write_points(store.db, conn, points)
    store.db.dispose()
    partial.rename(path)
    total = n_runs * n_metrics * n_steps
    print(f"  built {path.name}: {total:,} points in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def child(argv: list[str]) -> None:
    """Run one measured operation in this (fresh) process and print its figures as JSON."""
    import runyard

    operation, source, target = argv
    started = time.perf_counter()
    if operation == "export":
        result = runyard.export_runs(f"sqlite:///{source}", target, include_deleted=True)
        points = result.metric_points
    elif operation == "import":
        uri = target if "://" in target else f"sqlite:///{target}"
        artifacts = tempfile.mkdtemp(prefix="bench-interop-art-")
        imported = runyard.import_runs(uri, source, artifact_root=artifacts)
        shutil.rmtree(artifacts, ignore_errors=True)
        points = imported.metric_points
    elif operation in ("frame", "history"):  # every point of every run: DataFrame vs Metric objects
        client = runyard.TrackingClient(f"sqlite:///{source}")
        run_ids = [run.info.run_id for run in client.search_runs(_experiment_ids(client), max_results=50_000)]
        import pandas  # noqa: F401  # imported before the clock starts: we time the read, not the import

        started = time.perf_counter()
        if operation == "frame":
            points = len(client.get_metric_history_frame(run_ids))
        else:
            keys = sorted(client.get_run(run_ids[0]).data.metrics)
            points = sum(len(client.get_metric_history(r, k)) for r in run_ids for k in keys)
    else:  # baseline: what any process pays to open the store and read one run
        client = runyard.TrackingClient(f"sqlite:///{source}")
        experiment = client.get_experiment_by_name("bench-interop")
        assert experiment is not None
        client.search_runs([experiment.experiment_id], max_results=1)
        points = 0
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "points": points, "peak_rss_mb": peak_rss_mb()}))


def postgres_schema(server_url: str) -> str:
    """A URI on a new, empty schema of the PostgreSQL database at server_url (search_path isolates)."""
    import uuid
    from urllib.parse import quote

    import psycopg

    schema = f"bench_interop_{uuid.uuid4().hex[:8]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{server_url}?options={quote(f'-csearch_path={schema}')}"


def drop_postgres_schema(server_url: str, uri: str) -> None:
    """Drop the schema postgres_schema made."""
    import psycopg

    schema = uri.split("search_path%3D", 1)[1]
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _experiment_ids(client: object) -> list[str]:
    experiment = client.get_experiment_by_name("bench-interop")  # type: ignore[attr-defined]
    assert experiment is not None
    return [experiment.experiment_id]


def measure(operation: str, source: Path, target: Path | str) -> dict[str, float]:
    """Run one operation in a subprocess; returns its seconds, points and peak RSS."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", operation, str(source), str(target)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def fmt(values: list[float], digits: int = 1) -> str:
    """'median (min .. max)'."""
    return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f} .. {max(values):,.{digits}f})"


def compare_reads(store: Path, repeat: int) -> None:
    """Every point of every run of the store: get_metric_history_frame vs a get_metric_history loop."""
    reads = {op: [measure(op, store, store) for _ in range(repeat)] for op in ("frame", "history")}
    paired = [h["seconds"] / f["seconds"] for f, h in zip(reads["frame"], reads["history"], strict=True)]
    print()
    labels = {"frame": "get_metric_history_frame(all runs)", "history": "get_metric_history loop"}
    for op, label in labels.items():
        rate = [r["points"] / r["seconds"] / 1000 for r in reads[op]]
        print(f"{label}: {fmt([r['seconds'] for r in reads[op]], 2)} s, {fmt(rate, 0)} k points/s")
    print(f"frame is {fmt(paired, 1)} x faster than the Metric-object loop (paired repetitions)")


def main() -> None:
    """Build the stores, measure export and import at each size, print a Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000", help="Run counts, comma separated.")
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="Also import into a fresh schema of this PostgreSQL database "
        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).",
    )
    parser.add_argument(
        "--no-reads", action="store_true", help="Skip the DataFrame vs Metric-loop read comparison."
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    rows = []
    for n_runs in (int(s) for s in args.sizes.split(",")):
        store = build(n_runs, args.metrics, args.steps)
        store_mb = store.stat().st_size / 2**20
        baseline = [measure("baseline", store, store)["peak_rss_mb"] for _ in range(args.repeat)]
        figures: dict[str, list[dict[str, float]]] = {"export": [], "import": []}
        if args.postgres:
            figures["import (PostgreSQL)"] = []
        for _ in range(args.repeat):
            work = Path(tempfile.mkdtemp(prefix="bench-interop-"))
            try:
                figures["export"].append(measure("export", store, work / "dump"))
                dump_mb = sum(p.stat().st_size for p in (work / "dump").rglob("*") if p.is_file()) / 2**20
                figures["import"].append(measure("import", work / "dump", work / "target.db"))
                if args.postgres:
                    uri = postgres_schema(args.postgres)
                    try:
                        figures["import (PostgreSQL)"].append(measure("import", work / "dump", uri))
                    finally:
                        drop_postgres_schema(args.postgres, uri)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        points = int(figures["export"][0]["points"])
        for operation, results in figures.items():
            rate = [r["points"] / r["seconds"] / 1000 for r in results]
            rows.append(
                f"| {n_runs:,} runs, {points / 1e6:g}M points "
                f"({store_mb:,.0f} MiB db, {dump_mb:,.0f} MiB dump) "
                f"| {operation} | {fmt([r['seconds'] for r in results])} | {fmt(rate, 0)} "
                f"| {fmt([r['peak_rss_mb'] for r in results])} | {fmt(baseline)} |"
            )
            print(rows[-1], flush=True)
    if not args.no_reads:
        compare_reads(build(int(args.sizes.split(",")[0]), args.metrics, args.steps), args.repeat)
    print()
    print("| store | operation | seconds | k points/s | peak RSS MiB | baseline RSS MiB |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

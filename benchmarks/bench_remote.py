"""The app on a tracking server: `runyard ui http://...` against the same runs opened locally.

Run: python benchmarks/bench_remote.py [--runs 20000] [--repeat 3] [--no-mlflow]

The same generated runs (build_store.py) are opened three ways, side by side in one run:
1. locally (the SQLite file);
2. through `runyard server` serving that file (RestStore, runyard's endpoints);
3. through a stock `mlflow server` serving the same runs in MLflow's own schema (RestStore in its
   MLflow mode: MLflow's search, counts from the first 1,000 runs).
For each: the real `runyard ui URI --exit-after-first-render` process from exec to the first painted
run table, then with the Pilot (100x30) searches, a sort by a metric column and fetching the next page
(bench_tui.py's scenarios, unchanged).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_tui  # noqa: E402
from _common import Stat, cleanup, header, machine_line, mlflow_python, mlflow_version, row, scratch_dir  # noqa: E402
from bench_server import _mlflow_store, start_mlflow, start_runyard  # noqa: E402
from bench_tui import interactive, startup  # noqa: E402
from build_store import build_store  # noqa: E402

WAIT_S = 180.0  # a stock MLflow server under load can take long for its first search


def measure(name: str, uri: str, repeat: int) -> dict[str, Stat]:
    """Start-up and the interactive figures of the app on one store URI (printed as they come)."""
    bench_tui._until.__defaults__ = (0.002, WAIT_S)
    figures = {"start-up to first rendered run table (real process)": startup(uri, repeat)}
    try:
        figures.update(asyncio.run(interactive(uri, repeat)))
    except TimeoutError:
        print(f"   {name}: the interactive scenarios did not complete within {WAIT_S:.0f} s")
    print(f"-- {name}", flush=True)
    for label, stat in figures.items():
        row(label, stat.fmt("s"))
    return figures


def main() -> None:
    """Build or reuse the stores, start the servers, print every figure side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    uri = build_store(None, n_runs=args.runs)
    local_path = Path(uri.removeprefix("sqlite:///"))
    work = scratch_dir("runyard-bench-remote-")
    results: dict[str, dict[str, Stat]] = {}
    try:
        store = work / "runyard.db"
        shutil.copyfile(local_path, store)
        upgrade = [sys.executable, "-m", "runyard.cli", "db", "upgrade", "--store", str(store)]
        subprocess.run(upgrade, check=False, capture_output=True)
        results["local file"] = measure("local file", f"sqlite:///{store}", args.repeat)
        server = start_runyard(store, work)
        try:
            results["runyard server"] = measure("runyard server", server.url, args.repeat)
        finally:
            server.stop()
        python = None if args.no_mlflow else mlflow_python()
        if python is not None:
            mlflow_db = work / "mlflow.db"
            shutil.copyfile(_mlflow_store(python, args.runs), mlflow_db)
            mlflow_server = start_mlflow(python, mlflow_db, work)
            name = f"mlflow server {mlflow_version(python)}"
            try:
                results[name] = measure(name, mlflow_server.url, args.repeat)
            finally:
                mlflow_server.stop()
    finally:
        cleanup(work)
    header(f"The app on {args.runs:,} runs: local file, runyard server, mlflow server ({machine_line()})")
    names = list(results)
    print("   " + " | ".join(["figure (median)", *names]))
    for label in results["local file"]:
        cells = [results[name][label].fmt("s") if label in results[name] else "-" for name in names]
        row(label, " | ".join(cells))


if __name__ == "__main__":
    main()

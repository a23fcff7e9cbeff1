"""Issue 2 start-up: `import runyard` and a new process's first committed metric, side by side with MLflow.

Run: python benchmarks/bench_startup.py [--reps 5] [--no-mlflow]

Every figure is measured in fresh subprocesses (median, min, max of the repetitions):
- `python -X importtime -c "import runyard"`: the cumulative import time of `runyard` and the number
  of modules it loads; and the wall time of `import runyard` timed inside a fresh process.
- a new process's first metric committed to an EXISTING store: wall time from spawning the process
  until `runyard.flush()` has returned after start_run + log_metric (target < 1.0 s); the same on a
  brand-new store file, for information.
- the same figures for MLflow (its sqlite backend, a separate venv) when it is available.
"""

from __future__ import annotations

import argparse
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
    row,
    run_python,
    scratch_dir,
    skip_mlflow_note,
)

HEAVY = ("textual", "rich", "plotext", "sqlalchemy", "sqlmodel", "pandas", "numpy")


def importtime(module: str, python: str | None = None) -> tuple[float, int, list[tuple[int, str]]]:
    """(cumulative seconds of `import module`, modules loaded, the heaviest self times) from -X importtime."""
    proc = run_python(f"import {module}", python, flags=("-X", "importtime"))
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    cumulative, count, selfs = 0.0, 0, []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = (part.strip() for part in line[len("import time:") :].split("|"))
        count += 1
        selfs.append((int(self_us), name.strip()))
        if name == module:  # the top-level line (nested imports are indented)
            cumulative = int(cum_us) / 1e6
    return cumulative, count, sorted(selfs, reverse=True)[:5]


IMPORT_WALL = (
    "import time, sys\n"
    "t0 = time.perf_counter()\n"
    "import {module}\n"
    "t1 = time.perf_counter()\n"
    "heavy = [m for m in {heavy!r} if m in sys.modules]\n"
    "print(','.join(heavy) or '-', t1 - t0)\n"
)


def import_wall(module: str, python: str | None = None) -> tuple[float, str]:
    """(seconds of `import module` timed in a fresh process, heavy packages it pulled in)."""
    proc = run_python(IMPORT_WALL.format(module=module, heavy=HEAVY), python)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    heavy, seconds = proc.stdout.split()
    return float(seconds), heavy


RUNYARD_FIRST_METRIC = """
import sys, time
import runyard
runyard.set_tracking_uri(sys.argv[1])
runyard.set_experiment("startup")
runyard.start_run()
runyard.log_metric("loss", 0.5, step=0)
runyard.flush()
print(time.time())
"""

MLFLOW_FIRST_METRIC = """
import sys, time
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("startup")
mlflow.start_run()
mlflow.log_metric("loss", 0.5, step=0)  # synchronous: committed when it returns
print(time.time())
mlflow.end_run()
"""


def first_metric(code: str, uri: str, cwd: Path, python: str | None = None) -> float:
    """Seconds from spawning a process until its first metric is committed (the child prints the time)."""
    t0 = time.time()
    proc = run_python(code, python, cwd=cwd, env=MLFLOW_ENV, argv=[uri])
    return last_line_floats(proc)[0] - t0


def measure(
    label: str, module: str, code: str, reps: int, new_store_reps: int, python: str | None = None
) -> dict[str, Stat]:
    """Every start-up figure of one package, each in fresh processes."""
    stats: dict[str, Stat] = {}
    cumulative, counts, walls = [], [], []
    heaviest: list[tuple[int, str]] = []
    heavy = "-"
    for _ in range(reps):
        c, n, heaviest = importtime(module, python)
        cumulative.append(c)
        counts.append(n)
        wall, heavy = import_wall(module, python)
        walls.append(wall)
    stats["importtime"], stats["wall"], stats["modules"] = Stat(cumulative), Stat(walls), Stat(counts)
    row(f"{label}: -X importtime cumulative `import {module}`", stats["importtime"].fmt("s", digits=3))
    row("   modules loaded", f"{stats['modules'].median:,.0f}")
    row("   heaviest self times", ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in heaviest[:3]))
    row(f"   `import {module}` wall time in a fresh process", stats["wall"].fmt("s", digits=3))
    row("   heavy packages loaded by the import", heavy)

    tmp = scratch_dir(f"startup-{module}")
    try:
        uri = f"sqlite:///{tmp / 'existing.db'}"
        first_metric(code, uri, tmp, python)  # creates the store: not timed
        stats["first"] = Stat([first_metric(code, uri, tmp, python) for _ in range(reps)])
        row("   new process -> first metric committed, EXISTING store", stats["first"].fmt("s", digits=3))
        new_store = [
            first_metric(code, f"sqlite:///{tmp / f'new-{i}.db'}", tmp, python) for i in range(new_store_reps)
        ]
        stats["first_new"] = Stat(new_store)
        row("   new process -> first metric committed, NEW store", stats["first_new"].fmt("s", digits=3))
    finally:
        cleanup(tmp)
    return stats


def _process_wall() -> float:
    t0 = time.perf_counter()
    run_python("pass")
    return time.perf_counter() - t0


def main() -> None:
    """Measure runyard's start-up, then MLflow's, and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-mlflow", action="store_true", help="skip the MLflow side")
    args = parser.parse_args()
    header(f"Start-up: fresh processes, {args.reps} repetitions")
    base = Stat([_process_wall() for _ in range(3)])
    row("for reference: a `python -c pass` process, spawn to exit", base.fmt("s", digits=3))
    ry = measure("runyard", "runyard", RUNYARD_FIRST_METRIC, args.reps, 3)
    ok = "OK" if ry["wall"].median < 0.3 else "MISSED"
    row("   target `import runyard` < 0.3 s", ok)
    ok = "OK" if ry["first"].median < 1.0 else "MISSED"
    row("   target first metric on an existing store < 1.0 s", ok)
    if args.no_mlflow:
        print("   MLflow side skipped (--no-mlflow).")
        return
    python = mlflow_python()
    if python is None:
        skip_mlflow_note()
        return
    print(f"   MLflow {mlflow_version(python)} (sqlite backend) via {python}:")
    ml = measure("MLflow", "mlflow", MLFLOW_FIRST_METRIC, 3, 2, python)
    row("ratio MLflow / runyard: import wall time", f"{ml['wall'].median / ry['wall'].median:,.1f}x")
    first_ratio = ml["first"].median / ry["first"].median
    row("ratio MLflow / runyard: first metric, existing store", f"{first_ratio:,.1f}x")
    row(
        "ratio MLflow / runyard: first metric, new store",
        f"{ml['first_new'].median / ry['first_new'].median:,.1f}x",
    )


if __name__ == "__main__":
    main()

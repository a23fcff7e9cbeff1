"""The writer under overload: points lost on SIGKILL at full speed, and log_metric's cost below the bound.

Run: python benchmarks/bench_reliability.py [--points 1000000] [--trials 5] [--baseline-ref REF]

1. SIGKILL at full speed: a fresh process logs --points points with log_metric as fast as it can
   (default settings: RUNYARD_MAX_BUFFERED 100,000, RUNYARD_FLUSH_INTERVAL 1 s), then SIGKILLs
   itself right after the last call. Lost = points logged - points in the store. The promise: at
   most max(100,000, points committed in one flush interval). "One interval's worth" is the pace
   the writer kept in that trial (points stored / seconds of logging) times the interval.
2. log_metric call cost below the bound (not saturated): 50,000 calls (10 keys) with the writer
   thread running, in a fresh process per repetition; the mean cost of one call. Also the writer's
   `add()` alone (no validation, the writer thread asleep): best of 7 loops of 15,000 calls, in ns.
3. Logging at full speed then flush (saturated): 500,000 points, points/s until flush() returned.

With --baseline-ref (default: the commit before the bound, 664fc68) the same figures are measured for
that commit's runyard in the same run (its core/ exported to a temporary directory and imported
through PYTHONPATH), repetitions alternating; ratios are per repetition.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Stat, cleanup, header, last_line_floats, ratio, row, run_python, scratch_dir  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BASELINE = "664fc68"

SIGKILL_CHILD = """
import os, signal, sys, time, runyard
points = int(sys.argv[1])
runyard.set_tracking_uri(sys.argv[2])
run = runyard.start_run(log_system_info=False)
runyard.log_metric("warm-up", 0.0)
runyard.flush()
with open(sys.argv[3], "w") as out:
    out.write(run.info.run_id)
log_metric = runyard.log_metric
start = time.perf_counter()
for step in range(points):
    log_metric("loss", 1.0, step=step)
elapsed = time.perf_counter() - start
with open(sys.argv[3], "a") as out:
    out.write(f" {elapsed}")
os.kill(os.getpid(), signal.SIGKILL)
"""

CALL_COST_CHILD = """
import sys, time, runyard
calls, keys = int(sys.argv[1]), [f"train/metric_{i}" for i in range(10)]
runyard.set_tracking_uri(sys.argv[2])
runyard.start_run(log_system_info=False)
runyard.log_metric("warm-up", 0.0)
runyard.flush()
log_metric = runyard.log_metric
start = time.perf_counter()
for step in range(calls // 10):
    for key in keys:
        log_metric(key, 0.5, step=step)
elapsed = time.perf_counter() - start
runyard.flush()
runyard.end_run()
print(elapsed / calls * 1e6)
"""

ADD_CHILD = """
import sys, time
from runyard.tracking.writer import MetricWriter

class NullStore:
    def write_metric_points(self, points): pass
    def existing_run_ids(self, run_ids): return set(run_ids)
    def heartbeat(self, run_ids): pass

writer = MetricWriter(NullStore(), flush_interval=1000)
writer.watch_run("run")  # starts the thread (it sleeps: the figure is the call alone)
point, best = ("run", "loss", 1.0, 1, 1), float("inf")
for _ in range(7):
    writer._buffer.clear()
    add = writer.add
    start = time.perf_counter()
    for _ in range(15_000):
        add(point)
    best = min(best, (time.perf_counter() - start) / 15_000 * 1e9)
print(best)
"""

SATURATED_CHILD = """
import sys, time, runyard
points = int(sys.argv[1])
runyard.set_tracking_uri(sys.argv[2])
runyard.start_run(log_system_info=False)
runyard.log_metric("warm-up", 0.0)
runyard.flush()
log_metric = runyard.log_metric
start = time.perf_counter()
for step in range(points):
    log_metric("loss", 1.0, step=step)
logged = time.perf_counter() - start
runyard.flush()
done = time.perf_counter() - start
runyard.end_run()
print(points / done, logged)
"""


def export_baseline(ref: str, into: Path) -> Path:
    """The core/ of a commit as an importable `runyard` package under into; returns the PYTHONPATH entry."""
    archive = subprocess.run(
        ["git", "archive", ref, "core"], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "core").rename(into / "runyard")
    return into


def _env(pythonpath: Path | None) -> dict[str, str]:
    env = {"RUNYARD_ARTIFACT_ROOT": str(Path(tempfile.gettempdir()) / "runyard-bench-artifacts")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def sigkill_trial(work: Path, points: int, pythonpath: Path | None, trial: int) -> tuple[float, float, float]:
    """One SIGKILL-at-full-speed trial: (points lost, seconds of logging, points stored)."""
    import sqlite3

    db, marker = work / f"kill-{trial}-{pythonpath is not None}.db", work / f"kill-{trial}.txt"
    proc = run_python(SIGKILL_CHILD, env=_env(pythonpath), argv=[str(points), f"sqlite:///{db}", str(marker)])
    if proc.returncode != -9:
        raise RuntimeError(f"the child was not killed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    run_id, elapsed = marker.read_text().split()
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute(
            "SELECT COUNT(*) FROM metrics m JOIN runs r ON r.id = m.run_pk "
            "WHERE r.run_id = ? AND m.key = 'loss'",
            (run_id,),
        ).fetchone()
    return points - stored, float(elapsed), float(stored)


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="points logged before SIGKILL")
    parser.add_argument("--trials", type=int, default=5, help="SIGKILL trials and call-cost repetitions")
    parser.add_argument(
        "--baseline-ref", default=DEFAULT_BASELINE, help="commit to compare with ('' for none)"
    )
    args = parser.parse_args()

    header("Writer reliability: SIGKILL at full speed, call cost below the bound")
    work = scratch_dir("reliability")
    try:
        baseline = export_baseline(args.baseline_ref, work / "baseline") if args.baseline_ref else None
        versions: list[tuple[str, Path | None]] = [("this tree", None)]
        if baseline is not None:
            versions.append((f"baseline {args.baseline_ref}", baseline))

        lost: dict[str, Stat] = {name: Stat([]) for name, _ in versions}
        worth: dict[str, Stat] = {name: Stat([]) for name, _ in versions}
        for trial in range(args.trials):
            for name, path in versions:
                points_lost, elapsed, stored = sigkill_trial(work, args.points, path, trial)
                lost[name].values.append(points_lost)
                worth[name].values.append(stored / elapsed * 1.0)  # flush interval: 1 s
        print(
            f"   SIGKILL right after {args.points:,} log_metric calls at full speed ({args.trials} trials):"
        )
        for name, _ in versions:
            share = Stat([v / args.points for v in lost[name].values])
            row(f"{name}: points lost", lost[name].fmt(digits=0), f"= {share.fmt('%', 100, 1)}")
            row(f"{name}: one flush interval's worth (writer pace x 1 s)", worth[name].fmt(digits=0))
            pairs = zip(lost[name].values, worth[name].values, strict=True)
            within = sum(1 for x, w in pairs if x <= max(100_000, w))
            row(f"{name}: trials within max(100,000, one interval's worth)", f"{within} of {args.trials}")

        cost: dict[str, Stat] = {name: Stat([]) for name, _ in versions}
        add_ns: dict[str, Stat] = {name: Stat([]) for name, _ in versions}
        speed: dict[str, Stat] = {name: Stat([]) for name, _ in versions}
        for rep in range(args.trials):
            for name, path in versions:
                db = work / f"cost-{rep}-{path is not None}.db"
                proc = run_python(CALL_COST_CHILD, env=_env(path), argv=["50000", f"sqlite:///{db}"])
                cost[name].values.append(last_line_floats(proc)[0])
                add_ns[name].values.append(last_line_floats(run_python(ADD_CHILD, env=_env(path)))[0])
                db = work / f"speed-{rep}-{path is not None}.db"
                proc = run_python(SATURATED_CHILD, env=_env(path), argv=["500000", f"sqlite:///{db}"])
                speed[name].values.append(last_line_floats(proc)[0])
        print(f"   log_metric below the bound (50,000 calls, writer running; {args.trials} repetitions):")
        for name, _ in versions:
            row(f"{name}: mean call cost", cost[name].fmt("us", digits=3))
            row(f"{name}: MetricWriter.add() alone", add_ns[name].fmt("ns", digits=1))
        print(f"   500,000 points at full speed, then flush() ({args.trials} repetitions):")
        for name, _ in versions:
            row(f"{name}: points/s until flush() returned", speed[name].fmt(digits=0))
        if baseline is not None:
            base = f"baseline {args.baseline_ref}"
            row("call cost, this tree / baseline", ratio(cost["this tree"], cost[base]).fmt("x"))
            row("add() alone, this tree / baseline", ratio(add_ns["this tree"], add_ns[base]).fmt("x"))
            row("saturated points/s, this tree / baseline", ratio(speed["this tree"], speed[base]).fmt("x"))
    finally:
        cleanup(work)


if __name__ == "__main__":
    main()

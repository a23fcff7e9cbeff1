"""Run-details chart: time to fetch, downsample and draw a 1,000,000-point metric history (issue 6).

Builds a SQLite store with one run holding a 1M-point history (steps 0..999,999, a noisy decaying
curve with one spike), then measures, each as the median (min .. max) of several repetitions:
- the downsampled read the chart does (pre-aggregated metric_blocks), for chart widths of 200 and 1000;
- the same read forced through SQL buckets over the raw points, and a full history read, for comparison;
- the live-refresh read of only the newest 100 points (since_step);
- plotext building the chart from the downsampled data (what MetricChart.plot() does), and the total;
- the cost of keeping blocks on the write path: the fold of 200k points against their whole write.
Usage: python benchmarks/bench_history.py [--points N] [--repetitions R]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Stat, cleanup, header, repeat, row, scratch_dir  # noqa: E402
from runyard import Metric, TrackingClient  # noqa: E402
from runyard.store import history as history_module
from runyard.store.metric_blocks import fold_blocks  # noqa: E402

T0 = 1_700_000_000_000


def _curve(n: int, seed: int = 1) -> list[Metric]:
    rng = random.Random(seed)
    points = [
        Metric("loss", 2.0 * math.exp(-step / (n / 5)) + rng.gauss(0, 0.05), T0 + step * 20, step)
        for step in range(n)
    ]
    points[n // 2] = Metric("loss", 50.0, T0 + (n // 2) * 20, n // 2)
    return points


def _log(client: TrackingClient, run_id: str, points: list[Metric], batch: int = 10_000) -> None:
    for start in range(0, len(points), batch):
        client.log_batch(run_id, metrics=points[start : start + batch])


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _draw(history: history_module.DownsampledHistory, width: int, height: int) -> str:
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    xs = history.steps
    plt.plot(xs, history.maxs, marker="braille")
    plt.plot(xs, history.mins, marker="braille")
    plt.plot(xs, history.values, marker="braille")
    return str(plt.build())


def main() -> None:
    """Build the store, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repetitions", type=int, default=7)
    args = parser.parse_args()
    n, reps = args.points, args.repetitions
    header(f"Run details: downsampled history of {n:,} points (SQLite)")
    scratch = scratch_dir("history")
    try:
        client = TrackingClient(f"sqlite:///{scratch / 'runyard.db'}", artifact_root=str(scratch / "art"))
        experiment_id = client.create_experiment("bench-history")
        run_id = client.create_run(experiment_id, run_name="long").info.run_id
        points = _curve(n)
        row("log the history (log_batch of 10,000)", f"{_timed(lambda: _log(client, run_id, points)):.1f} s")

        for width in (200, 1000):
            history = client.get_metric_history_downsampled(run_id, "loss", width)
            assert history.source == "blocks" and max(history.maxs) == 50.0, history.source

            def read(w: int = width) -> float:
                return _timed(lambda: client.get_metric_history_downsampled(run_id, "loss", w))

            def draw(h: history_module.DownsampledHistory = history, w: int = width) -> float:
                return _timed(lambda: _draw(h, min(w, 250), 40))

            fetch_stat, draw_stat = repeat(read, reps), repeat(draw, reps)
            total = Stat([x + y for x, y in zip(fetch_stat.values, draw_stat.values, strict=True)])
            row(
                f"downsampled read, max_points={width} ({len(history)} buckets, blocks)",
                fetch_stat.fmt("ms", 1000),
            )
            row("  plotext build of it (3 series)", draw_stat.fmt("ms", 1000))
            row("  total: read + draw", total.fmt("ms", 1000), "target < 1,000 ms")

        saved = history_module.RAW_BUCKET_LIMIT
        history_module.RAW_BUCKET_LIMIT = 10 * n
        try:
            sql = repeat(
                lambda: _timed(lambda: client.get_metric_history_downsampled(run_id, "loss", 200)),
                max(3, reps // 2),
            )
        finally:
            history_module.RAW_BUCKET_LIMIT = saved
        row("same read forced through SQL buckets over raw points", sql.fmt("ms", 1000))
        full = repeat(lambda: _timed(lambda: client.get_metric_history(run_id, "loss")), 3)
        row("full get_metric_history (every point as Metric)", full.fmt("ms", 1000))
        tail = repeat(
            lambda: _timed(
                lambda: client.get_metric_history_downsampled(run_id, "loss", 200, since_step=n - 101)
            ),
            reps,
        )
        row("live refresh: since_step read of the newest 100 points", tail.fmt("ms", 1000))

        # write-path cost of keeping blocks: the Python fold and the block upserts, against a whole write
        extra = _curve(200_000, seed=2)
        rows = [(1, m.key, m.value, m.timestamp, m.step) for m in extra]
        fold = repeat(lambda: _timed(lambda: fold_blocks(rows)), reps)
        writes = []
        for _ in range(3):
            run = client.create_run(experiment_id, run_name="write-cost").info.run_id
            writes.append(_timed(lambda r=run: _log(client, r, extra, 1000)))
        write = Stat(writes)
        row("log 200k points in batches of 1,000 (points, summaries, blocks)", write.fmt("s"))
        row("  of which fold_blocks over the 200k points (Python)", fold.fmt("ms", 1000))
        row(
            "  blocks' share of the write time (fold only)",
            Stat([f / write.median for f in fold.values]).fmt("", 100, 1) + " %",
        )
    finally:
        cleanup(scratch)


if __name__ == "__main__":
    main()

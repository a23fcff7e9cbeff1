"""Compare screen: 10 runs with 100,000-point histories each (issue 7).

Builds a SQLite store with one experiment of 10 runs, each logging `loss` and `accuracy` for 100,000 steps,
then drives the real app (RunyardApp, Textual Pilot, 100x30): select all runs in the run table, press `c`,
then `2` (the history view), and measures, as median (min .. max) over the repetitions:
- from pressing `c` to the compare screen's tables filled (runs fetched);
- from pressing `c` to the first run's line drawn, and to all 10 lines drawn (the first plot complete);
- switching metric (down in the metric list) to all 10 lines of the new metric drawn;
- the parts: one run's downsampled read, the plotext build of 10 lines.
"Drawn" means the plot widget's render() (plotext's build) returned with that many lines on screen.
Then the same again with the what-if setting runyard.store.history.RAW_BUCKET_LIMIT = 10,000 (histories above
it read from the pre-aggregated metric_blocks), for the same store in the same run.
Usage: python benchmarks/bench_compare.py [--runs 10] [--points 100000] [--repetitions 5]
       [--what-if-raw-bucket-limit N (0: skip)]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tui"))

from _common import Stat, cleanup, header, row, scratch_dir  # noqa: E402
from runyard import Metric, TrackingClient  # noqa: E402

T0 = 1_700_000_000_000


def build_store(client: TrackingClient, runs: int, points: int) -> str:
    """One experiment with `runs` runs, each with loss and accuracy histories of `points` steps."""
    experiment_id = client.create_experiment("/bench/compare")
    for index in range(runs):
        rng = random.Random(index)
        run_id = client.create_run(
            experiment_id, run_name=f"trial-{index:02d}", start_time=T0 + index * 1000
        ).info.run_id
        client.log_batch(run_id, params={"lr": str(10 ** -rng.uniform(1, 4)), "optimizer": "adam"})
        rate = rng.uniform(3, 8)
        for start in range(0, points, 20_000):
            batch = []
            for step in range(start, min(points, start + 20_000)):
                decay = math.exp(-rate * step / points)
                ts = T0 + index * 1000 + step * 10
                batch.append(Metric("loss", 2.0 * decay + rng.gauss(0, 0.03), ts, step))
                batch.append(Metric("accuracy", 1.0 - 0.9 * decay + rng.gauss(0, 0.01), ts, step))
            client.log_batch(run_id, metrics=batch)
    return experiment_id


def drawn(renders: list[tuple[float, str | None, int]], key: str, lines: int) -> float | None:
    """When the history plot was first rendered on screen with at least `lines` lines of `key`."""
    return next((at for at, shown, count in renders if shown == key and count >= lines), None)


def send_key(app: Any, key: str) -> None:
    """Feed one key press to the app the way its terminal driver does."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


async def wait_for(condition: Callable[[], bool], limit_s: float = 120.0) -> float:
    """Poll (yielding to the app) until condition() holds; returns perf_counter() at that moment."""
    from textual.css.query import NoMatches

    deadline = time.perf_counter() + limit_s
    while True:
        try:
            if condition():
                return time.perf_counter()
        except NoMatches:  # the screen is still composing
            pass
        if time.perf_counter() > deadline:
            raise TimeoutError("the compare screen did not finish in time")
        await asyncio.sleep(0.002)


async def one_repetition(client: TrackingClient, experiment_id: str, runs: int) -> dict[str, float]:
    """Open the app, select all, press c then 2; time the history view filling, then a metric switch."""
    from conftest import make_app
    from runyard.tui.screens.compare import CompareScreen
    from runyard.tui.widgets.plots.history_plot import HistoryPlot, HistoryView
    from runyard.tui.widgets.tables.compare_tables import CompareTable

    app: Any = make_app(client)
    figures: dict[str, float] = {}
    renders: list[tuple[float, str | None, int]] = []
    real_render = HistoryPlot.render

    def recording_render(plot: HistoryPlot) -> Any:
        result = real_render(plot)  # the plotext build happens here: record when it is done
        renders.append((time.perf_counter(), plot.key, 0 if plot.message else len(plot.series)))
        return result

    HistoryPlot.render = recording_render  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen = app.screen
        assert screen.experiment_tree.select_view(f"experiment:{experiment_id}")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen.table.focus()
        await pilot.press("a")
        await pilot.pause()
        assert len(screen.table.selected) == runs
        start = time.perf_counter()
        send_key(app, "c")  # as a terminal does: no waiting for the app to become idle (Pilot.press does)
        await wait_for(lambda: isinstance(app.screen, CompareScreen))
        send_key(app, "2")
        compare = app.screen
        assert isinstance(compare, CompareScreen)

        def history() -> HistoryView:
            return compare.query_one(HistoryView)

        tables = await wait_for(lambda: bool(compare.query_one(CompareTable).lines))
        first = await wait_for(lambda: drawn(renders, "loss", 1) is not None)
        done = await wait_for(lambda: drawn(renders, "loss", runs) is not None)
        figures["tables"] = tables - start
        figures["first line"] = (drawn(renders, "loss", 1) or first) - start
        figures["all lines"] = (drawn(renders, "loss", runs) or done) - start
        assert history().plot.key == "loss" and history().plot.message is None
        await wait_for(lambda: compare.focused is history().picker.option_list)
        start = time.perf_counter()
        send_key(app, "up")  # accuracy, just above loss in the list
        await wait_for(lambda: drawn(renders, "accuracy", runs) is not None)
        figures["switch"] = (drawn(renders, "accuracy", runs) or 0.0) - start
    HistoryPlot.render = real_render  # type: ignore[method-assign]
    return figures


def measure_parts(client: TrackingClient, experiment_id: str, repetitions: int) -> tuple[Stat, ...]:
    """One run's downsampled read (70 buckets, as the view asks at 100 columns), all runs' reads one
    after another (as the view does) and two at a time, and plotext building 10 lines."""
    from concurrent.futures import ThreadPoolExecutor

    from runyard.tui.widgets.plots.history_plot import HistoryPlot, Series

    run_ids = [r.info.run_id for r in client.search_runs([experiment_id], max_results=100)]
    reads, builds, sequential, threaded = [], [], [], []
    for _ in range(repetitions):
        start = time.perf_counter()
        histories = [client.get_metric_history_downsampled(r, "loss", 70) for r in run_ids]
        sequential.append(time.perf_counter() - start)
        reads.append(sequential[-1] / len(run_ids))
        start = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda r: client.get_metric_history_downsampled(r, "loss", 70), run_ids))
        threaded.append(time.perf_counter() - start)
        plot = HistoryPlot()
        plot.key = "loss"
        for index, history in enumerate(histories):
            plot.series[index] = Series(index, f"trial-{index}", T0, history)
        plot.plot()
        start = time.perf_counter()
        plot.plt.plotsize(70, 22)
        plot.plt.build()
        builds.append(time.perf_counter() - start)
    return Stat(reads), Stat(builds), Stat(sequential), Stat(threaded)


def report(client: TrackingClient, experiment_id: str, runs: int, repetitions: int) -> None:
    """Measure and print every figure once (with the current history settings)."""
    results = [asyncio.run(one_repetition(client, experiment_id, runs)) for _ in range(repetitions)]
    for key, label, note in (
        ("tables", "c -> tables filled (runs fetched)", ""),
        ("first line", "c -> first run's line drawn", ""),
        ("all lines", "c -> all lines drawn (first plot complete)", "target < 1,000 ms"),
        ("switch", "switch metric -> all lines drawn", "target < 500 ms"),
    ):
        row(label, Stat([r[key] for r in results]).fmt("ms", 1000, 0), note)
    reads, builds, sequential, threaded = measure_parts(client, experiment_id, repetitions)
    row("one run's downsampled read (70 buckets)", reads.fmt("ms", 1000, 1))
    row(f"all {runs} reads, one after another", sequential.fmt("ms", 1000, 0))
    row(f"all {runs} reads, two threads at once", threaded.fmt("ms", 1000, 0))
    row("plotext build of 10 lines (70x22 cells)", builds.fmt("ms", 1000, 1))


def main() -> None:
    """Build the store, measure with the shipped history settings, then with the what-if one."""
    from runyard.store import history

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument(
        "--what-if-raw-bucket-limit",
        type=int,
        default=10_000,
        help="also measure with runyard.store.history.RAW_BUCKET_LIMIT set to this (0: skip)",
    )
    args = parser.parse_args()
    header(f"Compare screen: {args.runs} runs x {args.points:,}-point histories of 2 metrics (SQLite)")
    scratch = scratch_dir("compare")
    try:
        client = TrackingClient(f"sqlite:///{scratch / 'runyard.db'}", artifact_root=str(scratch / "art"))
        start = time.perf_counter()
        experiment_id = build_store(client, args.runs, args.points)
        row("build the store", f"{time.perf_counter() - start:.1f} s")
        shipped = history.RAW_BUCKET_LIMIT
        print(f"-- shipped: histories up to {shipped:,} points bucketed in SQL over the raw points")
        report(client, experiment_id, args.runs, args.repetitions)
        if args.what_if_raw_bucket_limit:
            history.RAW_BUCKET_LIMIT = args.what_if_raw_bucket_limit
            print(
                f"-- what-if (not shipped): above {args.what_if_raw_bucket_limit:,} points read from "
                "metric_blocks"
            )
            report(client, experiment_id, args.runs, args.repetitions)
            history.RAW_BUCKET_LIMIT = shipped
    finally:
        cleanup(scratch)


if __name__ == "__main__":
    main()

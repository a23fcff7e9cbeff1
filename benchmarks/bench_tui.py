"""TUI speed on the 100,000-run store: start-up to first table, search + re-render, scrolling, table choice.

    python benchmarks/bench_tui.py [--runs 100000] [--repeat 5]

1. Start-up: the real `runyard ui STORE --exit-after-first-render` process, from exec to exit right
   after the first run table was painted (median of --repeat).
2. Search: in-process with Textual's Pilot (100x30), from Enter in the search box to the re-rendered
   table, for a few queries and a sort by a metric.
3. Scrolling: page-down presses through the loaded rows (each press: key, cursor move, repaint) and
   the cost of painting all visible lines once.
4. Why a line-API table fed by pages: the same 100,000 runs put in Textual's DataTable and in
   textual-fastdatatable (Arrow backend), against RunTable holding them all.
5. `--sparkline`: paging with a sparkline (trend.loss) column on and off, alternately in one app on a
   private copy of the store whose newest runs carry their recent points: CPU and wall per page down
   (key, the worker's recent_metrics call, repaint) and per `end` (next page of 500), and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Stat, header, machine_line, row  # noqa: E402
from build_store import build_store  # noqa: E402

SIZE = (100, 30)


def startup(uri: str, repeat: int) -> Stat:
    """Seconds from exec of `runyard ui` to its exit after the first rendered run table."""
    runyard = str(Path(sys.executable).with_name("runyard"))
    values = []
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "RUNYARD_TUI_STATE": str(Path(scratch) / "state.json"), "TERM": "xterm-256color"}
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run(
                [runyard, "ui", uri, "--exit-after-first-render"],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
            values.append(time.perf_counter() - started)
    return Stat(values)


async def _until(pilot: Any, condition: Any, step: float = 0.002, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there")
        await pilot.pause(step)


def _app(uri: str) -> Any:
    """The app on the store, without live refresh."""
    from runyard import TrackingClient
    from runyard.tui.app import RunyardApp
    from runyard.tui.settings import Settings

    client = TrackingClient(uri, must_exist=True)
    return RunyardApp(client=client, settings=Settings(store_uri=client.tracking_uri, refresh_seconds=3600))


async def _first_table(pilot: Any) -> tuple[Any, Any]:
    """(screen, run table) once the first page is shown and every worker finished; the table focused."""
    screen: Any = pilot.app.screen
    await _until(pilot, lambda: screen.table.runs and not screen.searching)
    await pilot.app.workers.wait_for_complete()
    screen.table.focus()
    await pilot.pause()
    return screen, screen.table


async def interactive(uri: str, repeat: int) -> dict[str, Stat]:
    """Search and scroll figures measured with the Pilot."""
    app = _app(uri)
    figures: dict[str, Stat] = {}
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await _first_table(pilot)

        queries = {
            "search: metrics.accuracy > 0.9": "metrics.accuracy > 0.9",
            "search: params + metric, 2 conditions": "params.optimizer = 'adam' AND metrics.loss < 0.5",
            "search: tag LIKE": "tags.team LIKE 'vis%'",
            "clear the search": "",
        }
        for label, query in queries.items():
            values = []
            for _ in range(repeat):
                screen.search_box.value = query
                screen.search_box.focus()
                await pilot.pause()
                generation = screen.generation
                started = time.perf_counter()
                await pilot.press("enter")
                await _until(pilot, lambda g=generation: screen.generation > g and not screen.searching)
                await pilot.pause()  # the repaint
                values.append(time.perf_counter() - started)
            figures[label] = Stat(values)

        values = []
        table.cursor_column = table.column_index(
            next(c.id for c in table.columns if c.id.startswith("metrics."))
        )
        for _ in range(repeat):
            generation = screen.generation
            started = time.perf_counter()
            await pilot.press("s")
            await _until(pilot, lambda g=generation: screen.generation > g and not screen.searching)
            await pilot.pause()
            values.append(time.perf_counter() - started)
        figures["sort by a metric column (s)"] = Stat(values)

        table.focus()
        await pilot.press("home")
        values = []
        for _ in range(max(repeat, 5) * 3):
            started = time.perf_counter()
            await pilot.press("f12")  # bound to nothing: what the Pilot and a repaint cost by themselves
            await pilot.pause()
            values.append(time.perf_counter() - started)
        figures["baseline: an unbound key (Pilot overhead)"] = Stat(values)
        values = []
        for _ in range(max(repeat, 5) * 3):
            started = time.perf_counter()
            await pilot.press("pagedown")
            await pilot.pause()
            values.append(time.perf_counter() - started)
        figures["page down (key to repaint)"] = Stat(values)

        height = table.scrollable_content_region.height
        values = []
        for _ in range(20):
            started = time.perf_counter()
            for y in range(height):
                table.render_line(y)
            values.append(time.perf_counter() - started)
        figures[f"paint {height} visible lines"] = Stat(values)

        values = []
        for _ in range(repeat):
            count = len(table.rows)
            started = time.perf_counter()
            await pilot.press("end")
            await _until(pilot, lambda c=count: len(table.rows) > c or not table.has_more)
            await pilot.pause()
            values.append(time.perf_counter() - started)
        figures["end: fetch and show the next page (500)"] = Stat(values)
    return figures


async def table_choice(uri: str) -> dict[str, float]:
    """Seconds to show 100,000 runs in DataTable, fastdatatable and RunTable (all rows in memory)."""
    from runyard import TrackingClient
    from runyard.tui.widgets.tables.run_table import RunTable
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    client = TrackingClient(uri, must_exist=True)
    experiment_ids = [e.experiment_id for e in client.list_experiments()]
    started = time.perf_counter()
    runs = []
    token = None
    while True:
        page = client.search_runs(experiment_ids, max_results=5000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    figures = {"fetch every run as entities (pages of 5000)": time.perf_counter() - started}
    names = ["status", "name", "start", "user", "loss"]
    rows = [
        (
            r.info.status,
            r.info.run_name,
            str(r.info.start_time),
            r.info.user_id,
            str(r.data.metrics.get("accuracy")),
        )
        for r in runs
    ]

    class Host(App[None]):
        def __init__(self, widget: Any) -> None:
            super().__init__()
            self.widget = widget

        def compose(self) -> ComposeResult:
            yield self.widget

    async def shown(widget: Any, fill: Any) -> float:
        app = Host(widget)
        async with app.run_test(size=SIZE) as pilot:
            started = time.perf_counter()
            fill(widget)
            await pilot.pause()
            await pilot.pause()
            return time.perf_counter() - started

    def fill_datatable(table: DataTable[str]) -> None:
        table.add_columns(*names)
        table.add_rows(rows)

    figures["Textual DataTable: add 100k rows + paint"] = await shown(DataTable(), fill_datatable)
    try:
        import pyarrow as pa
        from textual_fastdatatable import ArrowBackend
        from textual_fastdatatable import DataTable as FastDataTable

        def make_fast() -> Any:
            columns = list(zip(*rows, strict=True))
            arrow = pa.table(
                {
                    name: list(values)
                    for name, values in zip(
                        ["status", "name", "start", "user", "accuracy"], columns, strict=True
                    )
                }
            )
            return FastDataTable(backend=ArrowBackend(arrow))

        started = time.perf_counter()
        fast = make_fast()
        build = time.perf_counter() - started
        figures["fastdatatable (Arrow): build + mount + paint"] = build + await shown(fast, lambda _w: None)
    except ImportError:
        pass

    def fill_run_table(table: RunTable) -> None:
        table.set_runs(runs, False)

    figures["RunTable: all 100k runs + paint"] = await shown(RunTable(), fill_run_table)
    return figures


def with_recent_points(directory: Path, n_runs: int, newest: int) -> str:
    """A private copy of the store whose `newest` runs keep their recent points (what the writer stores)."""
    import sqlite3

    from runyard.store.recent import pack

    uri = build_store(directory / "sparkline.db", n_runs=n_runs)
    with sqlite3.connect(uri.removeprefix("sqlite:///")) as conn:
        run_pks = [
            pk for (pk,) in conn.execute("SELECT id FROM runs ORDER BY start_time DESC LIMIT ?", (newest,))
        ]
        for start in range(0, len(run_pks), 500):
            chunk = run_pks[start : start + 500]
            marks = ",".join("?" * len(chunk))
            points: dict[tuple[int, str], list[tuple[int, int, float]]] = {}
            for run_pk, key, step, timestamp, value in conn.execute(
                f'SELECT run_pk, "key", step, timestamp, value FROM metrics WHERE run_pk IN ({marks}) '
                'ORDER BY run_pk, "key", step, timestamp',
                chunk,
            ):
                points.setdefault((run_pk, key), []).append((step, timestamp, value))
            conn.executemany(
                'UPDATE metric_summaries SET recent = ? WHERE run_pk = ? AND "key" = ?',
                [(pack(found), run_pk, key) for (run_pk, key), found in points.items()],
            )
    return uri


async def sparkline_paging(uri: str, repeat: int) -> dict[str, Stat]:
    """CPU and wall seconds of a page down and of `end`, with the trend.loss column off and on."""
    from runyard.tui.widgets.tables.run_trends import TrendCache

    app = _app(uri)
    figures: dict[str, list[float]] = {}
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await _first_table(pilot)
        base = [c for c in table.dynamic_columns if not c.startswith("trend.")]

        async def timed(key: str) -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            await pilot.press(key)
            await pilot.pause()
            await app.workers.wait_for_complete()  # the recent points (and the next page) are in
            await pilot.pause()
            return time.perf_counter() - wall, time.process_time() - cpu

        for _ in range(repeat):
            for mode in ("off", "on"):
                table.trends = TrendCache()  # nothing known: every screen is read again
                table.set_columns(base + (["trend.loss"] if mode == "on" else []))
                screen.start_search()  # the first page again, the table at its top
                await _until(pilot, lambda: not screen.searching)
                await app.workers.wait_for_complete()
                for _press in range(5):
                    wall, cpu = await timed("pagedown")
                    figures.setdefault(f"page down, wall ({mode})", []).append(wall)
                    figures.setdefault(f"page down, CPU ({mode})", []).append(cpu)
                wall, cpu = await timed("end")
                figures.setdefault(f"end: next page of 500, wall ({mode})", []).append(wall)
                figures.setdefault(f"end: next page of 500, CPU ({mode})", []).append(cpu)
    return {label: Stat(values) for label, values in figures.items()}


def main() -> None:
    """Build or reuse the store, then print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--skip-choice", action="store_true", help="skip the DataTable/fastdatatable comparison"
    )
    parser.add_argument(
        "--sparkline", action="store_true", help="only: paging with a sparkline column on and off"
    )
    args = parser.parse_args()
    if args.sparkline:
        header(f"Paging with a sparkline column, {args.runs:,} runs ({machine_line()})")
        with tempfile.TemporaryDirectory() as scratch:
            copy = with_recent_points(Path(scratch), args.runs, newest=5000)
            figures = asyncio.run(sparkline_paging(copy, args.repeat))
        for label, stat in figures.items():
            row(label, stat.fmt("ms", 1000, 1))
        for what in ("page down, CPU", "page down, wall", "end: next page of 500, CPU"):
            on, off = figures[f"{what} (on)"], figures[f"{what} (off)"]
            row(f"{what}: on / off (medians)", f"{on.median / off.median:.2f}x")
        return
    uri = build_store(None, n_runs=args.runs)
    header(f"TUI on {args.runs:,} runs in one experiment ({machine_line()})")
    start = startup(uri, args.repeat)
    row("start-up to first rendered run table (real process)", start.fmt("s"), "goal < 2 s")
    figures = asyncio.run(interactive(uri, args.repeat))
    for label, stat in figures.items():
        goal = "goal < 400 ms" if label.startswith(("search", "clear", "sort")) else ""
        goal = "goal < 50 ms" if label.startswith("page down") else goal
        row(label, stat.fmt("ms", 1000, 1), goal)
    if not args.skip_choice:
        for label, seconds in asyncio.run(table_choice(uri)).items():
            row(label, f"{seconds:.2f} s")


if __name__ == "__main__":
    main()

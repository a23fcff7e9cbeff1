"""Watch screen: RUNNING runs with pace and sparklines, alert badges, enter opens the run, live refresh."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from helpers import APP_CSS
from run_detail_helpers import settle
from runyard import Metric, TrackingClient
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.screens.watch import WatchScreen
from textual.app import App
from textual.widgets import DataTable, Static

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000_000
NOW = T0 + 20_000


class WatchApp(App[None]):
    """Hosts the watch screen at a fixed clock, without timers."""

    CSS_PATH = APP_CSS

    def __init__(self, client: TrackingClient) -> None:
        super().__init__()
        self.client = client

    def on_mount(self) -> None:
        """Open the watch screen."""
        self.push_screen(WatchScreen(self.client, clock=lambda: NOW, refresh_seconds=None))


@pytest.fixture
def client(sqlite_uri: str, tmp_path: Path) -> TrackingClient:
    """Two RUNNING runs (one healthy, one whose loss became NaN) and a finished one."""
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    experiment_id = client.create_experiment("/watch")
    for name, last in (("healthy", 0.05), ("diverged", math.nan), ("done", 0.1)):
        run_id = client.create_run(experiment_id, run_name=name, start_time=T0).info.run_id
        points = [Metric("loss", 1.0 / (s + 1), T0 + s * 1000, s) for s in range(19)]
        client.log_batch(run_id, metrics=[*points, Metric("loss", last, T0 + 19_000, 19)])
        client.store.heartbeat([run_id], timestamp=NOW)
        if name == "done":
            client.set_terminated(run_id)
    return client


def rows_of(screen: WatchScreen) -> dict[str, list[str]]:
    """Run name -> its cells as text."""
    table = screen.query_one(DataTable)
    return {
        str(table.get_row_at(i)[2]): [str(c) for c in table.get_row_at(i)] for i in range(table.row_count)
    }


async def test_watch_lists_running_runs_with_badges_and_opens_one(client: TrackingClient) -> None:
    app = WatchApp(client)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        rows = rows_of(screen)
        assert set(rows) == {"healthy", "diverged"}  # the finished run is not watched
        assert rows["diverged"][0] == "⚠1" and rows["healthy"][0] == ""
        assert rows["healthy"][4] == "1" and rows["healthy"][3] == "1 s"  # steps/s, time since the last point
        assert "loss" in rows["healthy"][6] and "!" in rows["diverged"][6]
        title = str(screen.query_one("#watch-title", Static).render())
        assert "2 RUNNING runs" in title and "1 with alerts" in title
        table = screen.query_one(DataTable)
        table.move_cursor(row=[r.run.info.run_name for r in screen.rows].index("diverged"))
        await pilot.pause()
        assert "nan: loss became NaN at step 19" in str(screen.query_one("#watch-alerts", Static).render())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert app.screen.run_id == screen.rows[table.cursor_row].run.info.run_id
        await pilot.press("escape")
        assert app.screen is screen


async def test_watch_refresh_picks_up_a_new_alert(client: TrackingClient) -> None:
    app = WatchApp(client)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        healthy = next(r.run.info.run_id for r in screen.rows if r.run.info.run_name == "healthy")
        client.log_batch(healthy, metrics=[Metric("loss", math.inf, T0 + 19_500, 20)])
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert rows_of(screen)["healthy"][0] == "⚠1"
        assert "2 with alerts" in str(screen.query_one("#watch-title", Static).render())


async def test_watch_without_running_runs_says_how_they_appear(sqlite_uri: str) -> None:
    client = TrackingClient(sqlite_uri)
    client.create_experiment("/empty")
    app = WatchApp(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        title = str(app.screen.query_one("#watch-title", Static).render())
        assert "0 RUNNING runs" in title and "start a training script" in title


async def test_w_on_the_run_table_opens_the_watch_screen(client: TrackingClient) -> None:
    from helpers import make_app

    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, WatchScreen)
        assert {r.run.info.run_name for r in app.screen.rows} == {"healthy", "diverged"}
        await pilot.press("escape")
        assert not isinstance(app.screen, WatchScreen)


async def test_the_header_and_the_run_table_show_alerts(client: TrackingClient) -> None:
    from helpers import make_app
    from runyard.tui.screens.experiments import ExperimentsScreen

    app = make_app(client)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        screen.live_tick()
        await settle(pilot)
        overview = str(screen.query_one("#overview", Static).render())
        assert "2 running" in overview and "⚠ 1 with alerts (w)" in overview
        table = screen.table
        status = {table.rows[i].run.info.run_name: table.row_text(i)[0] for i in range(len(table.rows))}
        assert status["diverged"].startswith("⚠") and status["healthy"].startswith(" ")
        assert status["done"].startswith(" ")

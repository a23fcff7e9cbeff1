"""The app on a tracking server: every screen opens and works over HTTP, and a dead server shows reconnecting.

The seeded store of the other TUI tests is served by one `runyard server` for the module; the app gets a
TrackingClient on its http:// URL (RestStore), so every store call crosses the network in a worker.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import build_store, make_app, open_trash, settle, trash_names
from remote_servers import ServerProcess, start_mlflow_server, start_server
from runyard import Metric, TrackingClient
from runyard.tui.modals.confirm import ConfirmModal
from runyard.tui.screens.compare import CompareScreen
from runyard.tui.screens.experiments import ExperimentsScreen
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.widgets.plots.metric_chart import MetricChart
from runyard.tui.widgets.tables.kv_table import KVTable
from textual.widgets import Static

pytestmark = pytest.mark.anyio
Seeded = tuple[ServerProcess, dict[str, str]]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The seeded store behind a runyard server (started once for the module)."""
    directory = tmp_path_factory.mktemp("remote-tui")
    uri = f"sqlite:///{directory / 'runyard.db'}"
    ids = build_store(TrackingClient(uri, artifact_root=str(directory / "artifacts")))
    server = start_server(directory, store_uri=uri)
    try:
        yield server, ids
    finally:
        server.stop()


def _remote(server: ServerProcess) -> TrackingClient:
    return TrackingClient(server.url)


async def _open_experiment(pilot: Any, client: TrackingClient, name: str) -> Any:
    screen = pilot.app.screen
    await settle(pilot)
    experiment = client.store.get_experiment_by_name(name)
    assert experiment is not None
    assert screen.experiment_tree.select_view(f"experiment:{experiment.experiment_id}")
    await settle(pilot)
    screen.table.focus()
    await pilot.pause()
    return screen.table


async def test_the_run_table_searches_and_sorts_on_a_server(served: Seeded) -> None:
    server, _ids = served
    client = _remote(server)
    app: Any = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_experiment(pilot, client, "/vision/resnet")
        shown = {row.run.info.run_name for row in table.rows}
        assert {"baseline", "wide-resnet", "tuned", "sweep"} <= shown
        await pilot.press("slash")
        app.screen.search_box.value = "metrics.accuracy > 0.9 OR params.lr = '0.1'"
        await pilot.press("enter")
        await settle(pilot)
        assert sorted(row.run.info.run_name for row in table.rows) == ["baseline", "tuned", "wide-resnet"]


async def test_a_sparkline_column_reads_the_recent_points_from_the_server(served: Seeded) -> None:
    server, _ids = served
    client = _remote(server)
    app: Any = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_experiment(pilot, client, "/vision/resnet")
        table.set_columns(["metrics.accuracy", "trend.accuracy"])
        await settle(pilot)
        column = table.column_index("trend.accuracy")
        shown = {row.run.info.run_name: table.row_text(i)[column].strip() for i, row in enumerate(table.rows)}
        assert shown["baseline"] == "▁▅█"  # 0.405, 0.648, 0.81 through the server's metrics/recent


async def test_run_details_show_params_and_a_chart_from_the_server(served: Seeded) -> None:
    server, ids = served
    client = _remote(server)
    app: Any = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_experiment(pilot, client, "/vision/resnet")
        row = next(i for i, r in enumerate(table.rows) if r.run.info.run_id == ids["tuned"])
        table.cursor_row = row
        await pilot.press("enter")
        await settle(pilot)
        details = app.screen
        assert isinstance(details, RunDetailScreen) and details.run_id == ids["tuned"]
        params = details.query_one("#params-table", KVTable)
        assert {row.cells[:2] for row in params.shown} == {("lr", "0.003"), ("optimizer", "adam")}
        chart = details.query_one(MetricChart)
        assert chart.history is not None and chart.history.total_points == 3  # downsampled by the server


async def test_compare_opens_for_runs_of_two_experiments(served: Seeded) -> None:
    server, ids = served
    client = _remote(server)
    app: Any = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_experiment(pilot, client, "/vision/resnet")
        table.selected = {ids["tuned"], ids["baseline"]}
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        assert set(app.screen.run_ids) == {ids["tuned"], ids["baseline"]}


async def test_the_trash_lists_and_restores_a_deleted_run(served: Seeded) -> None:
    server, ids = served
    client = _remote(server)
    client.delete_run(ids["bert-large"])
    app: Any = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        trash = await open_trash(pilot)
        assert "bert-large" in trash_names(trash.table)
        trash.table.focus()
        await pilot.pause()
        row = next(i for i, r in enumerate(trash.table.rows) if r.run.info.run_id == ids["bert-large"])
        trash.table.cursor_row = row
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert "bert-large" not in trash_names(trash.table)
    assert client.store.get_run(ids["bert-large"]).info.lifecycle_stage == "active"


@pytest.fixture(scope="module")
def mlflow_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A stock `mlflow server` holding /vision/resnet with three runs (logged through RestStore)."""
    server = start_mlflow_server(tmp_path_factory.mktemp("remote-tui-mlflow"))
    try:
        client = _remote(server)
        experiment = client.create_experiment("/vision/resnet")
        for name, accuracy in (("baseline", 0.81), ("tuned", 0.95), ("wide", 0.93)):
            run_id = client.create_run(experiment, run_name=name).info.run_id
            client.log_batch(run_id, metrics=[Metric("accuracy", accuracy, 1, 0)], params={"lr": "0.1"})
        yield server
    finally:
        server.stop()


async def test_on_a_stock_mlflow_server_the_table_opens_and_or_is_explained(
    mlflow_served: ServerProcess,
) -> None:
    client = _remote(mlflow_served)
    app: Any = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_experiment(pilot, client, "/vision/resnet")
        assert sorted(row.run.info.run_name for row in table.rows) == ["baseline", "tuned", "wide"]
        await pilot.press("slash")
        app.screen.search_box.value = "metrics.accuracy > 0.94 OR params.lr = '0.5'"
        await pilot.press("enter")
        await settle(pilot)
        error = str(app.screen.query_one("#search-error", Static).render())
        assert "MLflow's search only joins conditions with AND" in error
        app.screen.search_box.value = "metrics.accuracy > 0.9"
        await pilot.press("enter")
        await settle(pilot)
        assert sorted(row.run.info.run_name for row in table.rows) == ["tuned", "wide"]


def _restart(server: ServerProcess) -> ServerProcess:
    """The same server command again (same port and store), waiting until it answers."""
    with open(server.log_path, "ab") as log:
        process = subprocess.Popen(server.process.args, stdout=log, stderr=subprocess.STDOUT)
    restarted = ServerProcess(server.url, server.store_uri, server.artifacts, process, server.log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return restarted
        except httpx.HTTPError:
            time.sleep(0.1)
    restarted.stop()
    raise RuntimeError("the restarted server did not answer")


async def test_a_dead_server_shows_reconnecting_and_the_app_recovers(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'runyard.db'}"
    build_store(TrackingClient(uri, artifact_root=str(tmp_path / "artifacts")))
    server = start_server(tmp_path, store_uri=uri)
    client = _remote(server)
    client.store.transport.retries = 0
    app: Any = make_app(client)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _open_experiment(pilot, client, "/vision/resnet")
            screen = app.screen
            assert isinstance(screen, ExperimentsScreen)
            server.stop()
            screen.live_tick()
            await settle(pilot)
            status = str(screen.query_one("#status-line", Static).render())
            assert "reconnecting" in status
            server = _restart(server)
            screen.live_tick()
            await settle(pilot)
            status = str(screen.query_one("#status-line", Static).render())
            assert "reconnecting" not in status and "runs" in status
    finally:
        server.stop()

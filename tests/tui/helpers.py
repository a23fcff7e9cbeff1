"""Shared TUI test helpers: the fixed clock, the seeded store, a typed app factory, settle, table readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import runyard.tui
from runyard import TrackingClient
from runyard.store import lifecycle
from runyard.tui.app import RunyardApp
from runyard.tui.screens.trash import TrashScreen
from runyard.tui.settings import Settings
from runyard.tui.widgets.tables.run_table import RunTable
from runyard.tui.widgets.tables.trash_table import TrashTable
from textual.pilot import Pilot

NOW_MS = 1_790_000_000_000  # the fixed clock of every TUI test (2026-09-21)
MINUTE = 60_000
DAY = 86_400_000
APP_CSS = Path(runyard.tui.__file__).parent / "app.tcss"  # for test apps that host one screen


def build_store(client: TrackingClient, now_ms: int = NOW_MS) -> dict[str, str]:
    """Experiments /vision/resnet (a sweep with children, failed, running and lost runs) and /nlp/bert."""
    ids: dict[str, str] = {}
    vision = client.create_experiment("/vision/resnet", tags={"runyard.experimentType": "SCRIPT"})
    nlp = client.create_experiment("/nlp/bert")
    ids["vision"], ids["nlp"] = vision, nlp
    specs = [
        # name, minutes ago, user, status, lr, optimizer, accuracy, loss
        ("baseline", 300, "alice", "FINISHED", "0.1", "sgd", 0.81, 0.52),
        ("wide-resnet", 240, "bob", "FINISHED", "0.01", "adam", 0.93, 0.21),
        ("deep-resnet", 200, "alice", "FAILED", "0.01", "adam", 0.42, 1.9),
        ("tuned", 120, "alice", "FINISHED", "0.003", "adam", 0.95, 0.17),
        ("live", 30, "carol", "RUNNING", "0.001", "adamw", 0.88, 0.3),
        ("stalled", 90, "bob", "RUNNING", "0.05", "sgd", 0.6, 0.9),
    ]
    for name, ago, user, status, lr, optimizer, accuracy, loss in specs:
        start = now_ms - ago * MINUTE
        run = client.create_run(
            vision,
            start_time=start,
            run_name=name,
            user_id=user,
            source_type="SCRIPT",
            source_name="train.py",
            source_version="3f2a9c1d0e",
        )
        run_id = run.info.run_id
        ids[name] = run_id
        client.log_batch(run_id, params={"lr": lr, "optimizer": optimizer}, tags={"team": "cv"})
        for step, fraction in enumerate((0.5, 0.8, 1.0)):
            client.log_metric(
                run_id, "accuracy", accuracy * fraction, timestamp=start + step * 1000, step=step
            )
            client.log_metric(run_id, "loss", loss / fraction, timestamp=start + step * 1000, step=step)
        if status != "RUNNING":
            client.set_terminated(run_id, status, end_time=start + 25 * MINUTE)
    client.store.heartbeat([ids["live"]], timestamp=now_ms - 10_000)
    client.store.heartbeat([ids["stalled"]], timestamp=now_ms - 60 * MINUTE)
    sweep = client.create_run(vision, start_time=now_ms - 60 * MINUTE, run_name="sweep", user_id="alice")
    ids["sweep"] = sweep.info.run_id
    for index in range(3):
        child = client.create_run(
            vision,
            start_time=now_ms - 59 * MINUTE + index,
            run_name=f"trial-{index}",
            user_id="alice",
            parent_run_id=sweep.info.run_id,
        )
        ids[f"trial-{index}"] = child.info.run_id
        client.log_batch(child.info.run_id, params={"lr": f"0.0{index + 1}"})
        client.log_metric(child.info.run_id, "accuracy", 0.7 + index / 10, timestamp=now_ms, step=0)
        client.set_terminated(child.info.run_id, "FINISHED", end_time=now_ms - 50 * MINUTE)
    client.set_terminated(sweep.info.run_id, "FINISHED", end_time=now_ms - 50 * MINUTE)
    for name, ago in (("bert-base", 2 * 24 * 60), ("bert-large", 26 * 60)):
        run = client.create_run(nlp, start_time=now_ms - ago * MINUTE, run_name=name, user_id="dave")
        ids[name] = run.info.run_id
        client.log_metric(run.info.run_id, "f1", 0.8, timestamp=now_ms - ago * MINUTE, step=0)
        client.set_terminated(run.info.run_id, "FINISHED", end_time=now_ms - ago * MINUTE + 90 * MINUTE)
    return ids


def make_app(client: TrackingClient, settings_path: Path | None = None, **settings: Any) -> RunyardApp:
    """A RunyardApp on the client with the fixed clock (settings saved to settings_path when given)."""
    if settings_path is not None:
        loaded = Settings.load(client.tracking_uri, settings_path, clock=lambda: NOW_MS, **settings)
    else:
        loaded = Settings(store_uri=client.tracking_uri, clock=lambda: NOW_MS, **settings)
    return RunyardApp(client=client, settings=loaded)


async def settle(pilot: Pilot[Any], rounds: int = 3) -> None:
    """Let workers finish and their messages be handled (no sleeping)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def names(table: RunTable) -> list[str]:
    """The run names as shown (indentation and markers stripped)."""
    column = table.column_index("name")
    return [table.row_text(i)[column].strip(" ▾▸") for i in range(len(table.rows))]


def cell(table: RunTable, run_name: str, column_id: str) -> str:
    """The text of one cell of the row whose run has that name."""
    for index, row in enumerate(table.rows):
        if row.run.info.run_name == run_name:
            return table.row_text(index)[table.column_index(column_id)]
    raise AssertionError(f"{run_name} is not shown")


async def open_resnet(pilot: Any) -> RunTable:
    """Highlight /vision/resnet in the tree and wait for its runs; focus the table."""
    screen = pilot.app.screen
    await settle(pilot)  # the experiments are in the tree
    assert screen.experiment_tree.select_view(
        f"experiment:{screen.client.get_experiment_by_name('/vision/resnet').experiment_id}"
    )
    await settle(pilot)
    table = screen.table
    table.focus()
    await pilot.pause()
    return table


def trash_names(table: TrashTable) -> list[str]:
    """The run names of the trash rows, in the order shown."""
    return [row.run.info.run_name for row in table.rows]


def trash_delete(client: TrackingClient, run_ids: str | list[str], days_ago: float = 1) -> list[str]:
    """Delete runs as if it happened days_ago before the tests' fixed clock."""
    return lifecycle.delete_run(client.store, run_ids, now_ms=int(NOW_MS - days_ago * DAY))


async def open_trash(pilot: Any, experiment_ids: list[str] | None = None) -> TrashScreen:
    """Push the trash screen on the app and wait for it to load."""
    app = pilot.app
    await settle(pilot)
    screen = TrashScreen(app.client, experiment_ids, clock=app.settings.clock)
    app.push_screen(screen)
    await settle(pilot)
    return screen

"""Scenes of the browse screen (experiment tree + run table) shared by snapshot tests and make_screenshots.py.

Each scene drives a RunyardApp with the Pilot to the state worth showing; the caller then saves or
compares an SVG. The app must have a fixed clock (Settings.clock) so relative times are stable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from runyard import TrackingClient
from runyard.tui.app import RunyardApp
from runyard.tui.settings import Settings
from textual.widgets import Input

Scene = Callable[[Any], Awaitable[None]]

DEMO_SEED = 7
DEMO_NOW_MS = 1_790_000_000_000  # 2026-09-21 14:13 UTC: the demo store's clock and the app's
SIZE = (100, 30)
NARROW_SIZE = (80, 24)
# The browse scenes on the demo store (the README screenshots and the snapshot tests).
DEMO_BROWSE = {
    "experiment": "/vision/resnet",
    "query": "metrics.val_accuracy > 0.84",
    "bad_query": "metrics.val_accuracy >> 0.84",
    "column_filter": "loss",
    "trend_metric": "metrics.train_loss",
}


async def settle(pilot: Any, rounds: int = 4) -> None:
    """Let workers finish and their messages be handled."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot: Any, text: str) -> None:
    """Paste text into the focused input, as a terminal does (one event: typing it key by key is slow)."""
    from textual import events

    focused = pilot.app.focused
    assert focused is not None, f"nothing focused to paste {text!r} into"
    focused.post_message(events.Paste(text))
    await pilot.pause()


async def search(pilot: Any, query: str) -> None:
    """Open the search box, enter a query and wait for the rows."""
    await pilot.press("slash")
    await type_text(pilot, query)
    await pilot.press("enter")
    await settle(pilot)
    for field in pilot.app.screen.query(Input):  # a blinking cursor would make the picture timing-dependent
        field.cursor_blink = False
    await settle(pilot)


def browse_app(client: TrackingClient, now_ms: int) -> RunyardApp:
    """The app on a store with a fixed clock and no remembered state."""
    settings = Settings(store_uri=client.tracking_uri, clock=lambda: now_ms, refresh_seconds=3600)
    return RunyardApp(client=client, settings=settings)


def demo_client(directory: Path) -> TrackingClient:
    """The demo store (seed 7, fixed clock) written into directory, and a client on it."""
    from runyard.demo.build import ARTIFACT_DIR, write_demo_store

    uri = write_demo_store(directory, seed=DEMO_SEED, now_ms=DEMO_NOW_MS)
    return TrackingClient(uri, artifact_root=str(Path(directory) / ARTIFACT_DIR))


async def open_experiment(pilot: Any, name: str) -> None:
    """Highlight an experiment in the tree and wait for its runs (focus stays on the table)."""
    screen = pilot.app.screen
    await settle(pilot)
    experiment = screen.client.get_experiment_by_name(name)
    screen.experiment_tree.select_view(f"experiment:{experiment.experiment_id}")
    await settle(pilot)
    screen.table.focus()
    await settle(pilot)


def scenes(
    experiment: str, query: str, bad_query: str, column_filter: str, trend_metric: str
) -> dict[str, Scene]:
    """Scene name -> coroutine that brings the app there."""

    async def experiments(pilot: Any) -> None:
        await open_experiment(pilot, experiment)
        await pilot.press("down", "down")
        await settle(pilot)

    async def searched(pilot: Any) -> None:
        await open_experiment(pilot, experiment)
        await search(pilot, query)

    async def search_error(pilot: Any) -> None:
        await open_experiment(pilot, experiment)
        await search(pilot, bad_query)

    async def columns(pilot: Any) -> None:
        await open_experiment(pilot, experiment)
        await pilot.press("C")
        await settle(pilot)
        await pilot.press(*column_filter)
        await settle(pilot)

    async def trend(pilot: Any) -> None:
        await open_experiment(pilot, experiment)
        table = pilot.app.screen.table
        while table.columns[table.cursor_column].id != trend_metric:
            await pilot.press("right")
        await pilot.press("t", "right", "down", "down")  # a sparkline of the metric, then onto it
        await settle(pilot)

    async def delete(pilot: Any) -> None:
        await open_experiment(pilot, experiment)
        await pilot.press("space", "down", "space", "d")
        await settle(pilot)

    async def keys(pilot: Any) -> None:
        await open_experiment(pilot, experiment)
        await pilot.press("question_mark")
        await settle(pilot)

    return {
        "experiments": experiments,
        "search": searched,
        "search-error": search_error,
        "column-chooser": columns,
        "trend-column": trend,
        "delete-runs": delete,
        "keys": keys,
    }


async def save_scene(
    client: TrackingClient, now_ms: int, scene: Scene, path: Path, size: tuple[int, int]
) -> Path:
    """Run a scene on a fresh app and save the screen as SVG."""
    app = browse_app(client, now_ms)
    async with app.run_test(size=size) as pilot:
        await scene(pilot)
        app.save_screenshot(path.name, str(path.parent))
    return path

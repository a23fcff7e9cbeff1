"""Snapshot tests of every screen on the demo store (seed 7, fixed clock): the README screenshots' scenes.

The scenes are those of tests/make_screenshots.py (browse_scenes.py and the *_screenshots.py modules),
played on the real RunyardApp at 100x30 (and 80x24). Update after an intended change with
`python -m pytest tests/tui/test_snapshots.py --snapshot-update` and review the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browse_scenes import DEMO_BROWSE, DEMO_NOW_MS, NARROW_SIZE, SIZE, Scene, browse_app, demo_client, scenes
from compare_screenshots import compare_scenes
from run_detail_screenshots import run_detail_scenes
from runyard import TrackingClient
from runyard.tui.widgets.key_bar import SEPARATOR, KeyBar
from textual.widgets import Input
from trash_screenshots import trash_scenes

BROWSE = scenes(**DEMO_BROWSE)
RUN_DETAIL = run_detail_scenes()
COMPARE = compare_scenes()
GUARDED: dict[str, Scene] = {
    **BROWSE,
    "run-detail": RUN_DETAIL["run-detail"],
    "run-detail-chart": RUN_DETAIL["run-detail-chart"],
    "run-detail-console": RUN_DETAIL["run-detail-console"],
    "watch": RUN_DETAIL["watch"],
    "compare-tables": COMPARE["compare-tables"],
    "compare-history": COMPARE["compare-history"],
    **trash_scenes(),
}


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> TrackingClient:
    """The demo store, written once per session (per xdist worker); the scenes only read it."""
    return demo_client(Path(tmp_path_factory.mktemp("demo")) / "demo")


def steady(scene: Scene) -> Scene:
    """The scene, then every text cursor stops blinking: the picture must not depend on timing."""

    async def run(pilot: Any) -> None:
        await scene(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()
        await _key_bars_caught_up(pilot)

    return run


async def _key_bars_caught_up(pilot: Any, rounds: int = 100) -> None:
    """Wait (bounded) until every key bar shows the keys of the focus as it is now.

    A focus change near the end of a scene (a table given its focus back after a slow load) reaches the
    key bar one refresh later; on a loaded machine the picture could be taken in between. A key bar
    that never catches up still fails the comparison.
    """
    for _ in range(rounds):
        bars = list(pilot.app.screen.query(KeyBar))
        expected = [
            "".join(
                f"{key} {description}{SEPARATOR}" for key, description, _ in bar.shown_keys(pilot.app.screen)
            )
            for bar in bars
        ]
        if [str(bar.render()) for bar in bars] == expected:
            return
        await pilot.pause(0.02)


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_screen(name: str, demo_store: TrackingClient, snap_compare: Any) -> None:
    app = browse_app(demo_store, DEMO_NOW_MS)
    assert snap_compare(app, terminal_size=SIZE, run_before=steady(GUARDED[name]))


def test_narrow_terminal(demo_store: TrackingClient, snap_compare: Any) -> None:
    app = browse_app(demo_store, DEMO_NOW_MS)
    assert snap_compare(app, terminal_size=NARROW_SIZE, run_before=steady(BROWSE["experiments"]))

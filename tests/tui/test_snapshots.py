"""Snapshot tests of the browse screens at 100x30 (and 80x24) on the seeded store with a fixed clock.

Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update` and review
the report; the same scenes make the README screenshots (tests/make_screenshots.py, demo store).
"""

from __future__ import annotations

from typing import Any

import pytest
from browse_scenes import browse_app, scenes
from conftest import NOW_MS
from runyard import TrackingClient

SCENES = scenes(
    experiment="/vision/resnet",
    query="metrics.accuracy > 0.9",
    bad_query="metrics.accuracy >> 0.9",
    column_filter="loss",
)


@pytest.mark.parametrize("name", sorted(SCENES))
def test_browse_scene(name: str, store: tuple[TrackingClient, dict[str, str]], snap_compare: Any) -> None:
    client, _ = store
    assert snap_compare(browse_app(client, NOW_MS), terminal_size=(100, 30), run_before=SCENES[name])


def test_narrow_terminal(store: tuple[TrackingClient, dict[str, str]], snap_compare: Any) -> None:
    client, _ = store
    assert snap_compare(browse_app(client, NOW_MS), terminal_size=(80, 24), run_before=SCENES["experiments"])

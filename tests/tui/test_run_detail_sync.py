"""Run details: the status line says how many points of the run wait in outboxes on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_detail_helpers import HostApp, seed_run, settle
from runyard import TrackingClient
from runyard.rest.outbox import Batch, Outbox
from runyard.tui.screens.run_detail import RunDetailScreen
from textual.widgets import Static

pytestmark = pytest.mark.anyio


def header_text(screen: RunDetailScreen) -> str:
    """The header as plain text."""
    return str(screen.query_one("#run-header", Static).render())


async def test_points_left_in_an_outbox_show_as_waiting_to_sync_until_they_are_sent(
    sqlite_uri: str, tmp_path: Path
) -> None:
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    ids = seed_run(client, tmp_path)
    outbox = Outbox.create("http://tracking.example:5000", ids["run"])
    outbox.add([Batch("b1", 1_000, b"{}"), Batch("b2", 1_500, b"{}")])
    other = Outbox.create("http://tracking.example:5000", "someotherrun")
    other.add([Batch("b3", 7, b"{}")])
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        assert "2,500 points waiting to sync" in header_text(screen)
        outbox.remove("b1")
        outbox.remove("b2")
        screen.load_run()
        await settle(pilot)
        assert "waiting to sync" not in header_text(screen)


async def test_a_run_without_an_outbox_says_nothing_about_syncing(sqlite_uri: str, tmp_path: Path) -> None:
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    ids = seed_run(client, tmp_path)
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert "sync" not in header_text(app.screen)

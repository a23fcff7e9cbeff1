"""Pilot tests: an unexpected exception in a store call is shown, and no screen stays loading forever.

Each screen kind gets a store call that raises something other than a runyard error (RuntimeError,
RecursionError, as a too-deep query once did); the screen must show the error text, drop its
"loading" state and keep working when the store answers again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import make_app, names, open_resnet, settle
from runyard import TrackingClient
from runyard.tui.modals.edit_tag import EditTagModal
from runyard.tui.screens.compare import CompareScreen
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.screens.trash import TrashScreen

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


def fail_with(error: BaseException) -> Any:
    """A stand-in store call that raises `error`."""

    def failing(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    return failing


def notifications(pilot: Any) -> list[str]:
    """The messages of the notifications shown."""
    return [notification.message for notification in pilot.app._notifications]


def status_line(pilot: Any, selector: str = "#status-line") -> str:
    return str(pilot.app.screen.query_one(selector).render())


async def test_browse_search_that_raises_shows_the_error_and_stops_loading(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        search_runs = client.store.search_runs  # the store fails, whichever client call the app makes
        monkeypatch.setattr(
            client.store, "search_runs", fail_with(RecursionError("maximum recursion depth exceeded"))
        )
        await pilot.press("slash", *"metrics.accuracy > 0.9", "enter")
        await settle(pilot)
        assert any("RecursionError" in text for text in notifications(pilot))
        screen = pilot.app.screen
        assert not screen.searching and not screen.loading_shown
        assert "loading" not in status_line(pilot)
        monkeypatch.setattr(client.store, "search_runs", search_runs)
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert sorted(names(table)) == ["tuned", "wide-resnet"]  # the screen still works


async def test_run_detail_load_that_raises_shows_the_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(client, "get_run", fail_with(RuntimeError("the disk went away")))
        pilot.app.push_screen(RunDetailScreen(client, ids["tuned"], refresh_seconds=None))
        await settle(pilot)
        error = pilot.app.screen.query_one("#run-error")
        assert error.display
        assert "RuntimeError: the disk went away" in str(error.render())
        assert "Run not available" in str(pilot.app.screen.query_one("#run-header").render())


async def test_compare_load_that_raises_shows_the_error_and_stops_loading(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(client, "get_runs", fail_with(RuntimeError("connection reset")))
        pilot.app.push_screen(CompareScreen(client, [ids["tuned"], ids["baseline"]]))
        await settle(pilot)
        screen = pilot.app.screen
        assert "RuntimeError: connection reset" in str(screen.query_one("#compare-title").render())
        assert screen.query_one("#compare-views").loading is False


async def test_trash_load_that_raises_shows_the_error_and_stops_loading(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(
            client, "search_runs", fail_with(RecursionError("maximum recursion depth exceeded"))
        )
        screen = TrashScreen(client, None, clock=pilot.app.settings.clock)
        pilot.app.push_screen(screen)
        await settle(pilot)
        assert any("RecursionError" in text for text in notifications(pilot))
        assert not screen.loading_runs and not screen.table.loading
        assert "loading" not in status_line(pilot, "#trash-status")


async def test_a_modal_save_that_raises_shows_the_error_and_stays_open(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        modal = EditTagModal(fail_with(RuntimeError("database is locked")), "team", "cv")
        pilot.app.push_screen(modal)
        await settle(pilot)
        modal.write_tag("team", "vision")
        await settle(pilot)
        assert pilot.app.screen is modal
        assert "RuntimeError: database is locked" in str(modal.query_one("#tag-error").render())


async def test_an_unexpected_error_in_a_background_refresh_is_notified(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        monkeypatch.setattr(client, "run_keys", fail_with(RuntimeError("lost the connection")))
        screen = pilot.app.screen
        screen.load_keys(screen.entry.view_key, screen.entry.experiment_ids, screen.view_state.state_filter)
        await settle(pilot)
        assert any("RuntimeError: lost the connection" in text for text in notifications(pilot))


async def test_writing_the_reproduce_script_when_an_unexpected_error_strikes_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client, ids = store
    monkeypatch.chdir(tmp_path)
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(RunDetailScreen(client, ids["tuned"], refresh_seconds=None))
        await settle(pilot)
        monkeypatch.setattr(Path, "chmod", fail_with(RuntimeError("the mount went read-only")))
        await pilot.press("P")
        await settle(pilot)
        assert any("RuntimeError: the mount went read-only" in text for text in notifications(pilot))

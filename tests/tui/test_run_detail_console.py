"""Run details' Console section: the tail with colours, following a RUNNING run, search, start/end keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_detail_helpers import T0, HostApp, seed_run, settle
from runyard import TrackingClient
from runyard.tui.modals.prompt import PromptModal
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.widgets.console_panel import ConsoleLog, ConsolePanel
from textual.widgets import Input, Static

pytestmark = pytest.mark.anyio

OUTPUT = "".join(f"epoch {i} loss {1 / (i + 1):.3f}\n" for i in range(60)) + "\x1b[31mERROR nan loss\x1b[0m\n"


@pytest.fixture
def seeded(sqlite_uri: str, tmp_path: Path) -> tuple[TrackingClient, dict[str, str]]:
    """A seeded store whose parent run printed 61 lines (the last red) and whose child runs still."""
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    ids = seed_run(client, tmp_path)
    client.store.append_console(ids["run"], [(T0, "stdout", OUTPUT)])
    client.store.append_console(ids["child0"], [(T0, "stdout", "starting\n")])
    return client, ids


def log_lines(screen: RunDetailScreen) -> list[str]:
    """The console lines as plain text."""
    return [strip.text.rstrip() for strip in screen.query_one(ConsoleLog).lines]


def hint(screen: RunDetailScreen) -> str:
    """The console's hint line."""
    return str(screen.query_one("#console-hint", Static).render())


async def test_console_shows_the_tail_with_colours_and_jumps(
    seeded: tuple[TrackingClient, dict[str, str]],
) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        lines = log_lines(screen)
        assert lines[0] == "epoch 0 loss 1.000" and lines[-1] == "ERROR nan loss"
        shown = screen.query_one(ConsoleLog).lines

        def coloured(strip_index: int) -> bool:
            return any(
                s.style is not None and s.style.color is not None
                for s in shown[strip_index]
                if s.text.strip()
            )

        assert coloured(-1) and not coloured(0)  # the ANSI red of the last line is shown
        assert "/: search" in hint(screen) and "g/G: start/end" in hint(screen)
        await pilot.press("9")
        log = screen.query_one(ConsoleLog)
        assert screen.focused is log
        await pilot.press("g")
        assert log.scroll_y == 0
        await pilot.press("G")
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y > 0


async def test_search_jumps_between_matches(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("9", "slash")
        assert isinstance(app.screen, PromptModal)
        app.screen.query_one(Input).value = "loss 0.5"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert "Match 1 of 1 for 'loss 0.5'" in hint(screen)  # "epoch 1 loss 0.500"
        await pilot.press("slash")
        app.screen.query_one(Input).value = "EPOCH 5"
        await pilot.press("enter")
        await settle(pilot)
        assert "Match 1 of 11" in hint(screen)  # epoch 5, 50..59: case does not matter
        await pilot.press("n")
        assert "Match 2 of 11" in hint(screen)
        await pilot.press("slash")
        app.screen.query_one(Input).value = "no such text"
        await pilot.press("enter")
        await settle(pilot)
        assert "No line holds 'no such text'" in hint(screen)


async def test_a_running_runs_console_follows_new_output(
    seeded: tuple[TrackingClient, dict[str, str]],
) -> None:
    client, ids = seeded
    app = HostApp(client, ids["child0"], clock=lambda: T0 + 10_000)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        assert log_lines(screen) == ["starting"]
        client.store.append_console(ids["child0"], [(T0 + 5, "stdout", "step 1\nstep 2\n")])
        screen._refresh_if_running()
        await settle(pilot)
        assert log_lines(screen) == ["starting", "step 1", "step 2"]


async def test_a_run_without_output_says_so(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["child1"])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert log_lines(app.screen) == ["No console output recorded for this run."]
        assert app.screen.query_one(ConsolePanel).loaded

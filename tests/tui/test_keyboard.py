"""Pilot tests of the keyboard: q goes back (quits only on the main screen), vim keys, double click."""

from __future__ import annotations

import pytest
from helpers import make_app, open_resnet, settle
from runyard import TrackingClient
from runyard.tui.modals.confirm import ConfirmModal
from runyard.tui.modals.notes_editor import NotesEditorModal
from runyard.tui.screens.compare import CompareScreen
from runyard.tui.screens.experiments import ExperimentsScreen
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.screens.trash import TrashScreen

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


async def test_q_goes_back_from_details_compare_trash_and_modals(store: Store) -> None:
    client, _ = store
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, RunDetailScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ExperimentsScreen)
        await pilot.press("space", "space", "c")
        await settle(pilot)
        assert isinstance(pilot.app.screen, CompareScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ExperimentsScreen)
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TrashScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ExperimentsScreen)
        table.focus()
        await pilot.press("C")
        await settle(pilot)
        assert pilot.app.screen.__class__.__name__ == "ColumnChooserModal"
        pilot.app.screen.set_focus(None)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ExperimentsScreen)
        assert pilot.app.is_running
        await pilot.press("q")
        await settle(pilot)
        assert not pilot.app.is_running  # the main screen quits


async def test_escape_in_the_notes_editor_asks_before_dropping_typed_text(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(pilot.app.screen, NotesEditorModal)
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert isinstance(pilot.app.screen, RunDetailScreen)
        await pilot.press("N")
        await settle(pilot)
        await pilot.press(*"needs a rerun", "escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmModal)
        await pilot.press("n")  # keep editing
        await settle(pilot)
        editor = pilot.app.screen
        assert isinstance(editor, NotesEditorModal)
        assert "needs a rerun" in editor.query_one("#notes-text").text
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(pilot.app.screen, RunDetailScreen)


async def test_vim_keys_move_in_the_run_table_and_the_tree(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == len(table.rows) - 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("ctrl+d")
        assert table.cursor_row > 1
        await pilot.press("ctrl+u")
        assert table.cursor_row == 0
        tree = pilot.app.screen.experiment_tree
        tree.focus()
        await pilot.press("g")
        assert tree.cursor_line == 0
        await pilot.press("j")
        assert tree.cursor_line == 1
        await pilot.press("G")
        assert tree.cursor_line == tree.last_line
        await pilot.press("k")
        assert tree.cursor_line == tree.last_line - 1


async def test_a_double_click_on_a_run_opens_it(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.click(table, offset=(20, 2))
        await settle(pilot)
        assert isinstance(pilot.app.screen, ExperimentsScreen)  # one click only moves the cursor
        assert table.cursor_row == 1
        await pilot.click(table, offset=(20, 2), times=2)
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RunDetailScreen)
        assert screen.run_id == table.rows[1].run.info.run_id

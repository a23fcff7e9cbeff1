"""Run-details screen: header, sections, jumps to parent and children, tags, notes, rename, copy id."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_detail_helpers import FIXED_NOW, T0, HostApp, render_text, seed_run, settle
from runyard import RunStatus, TrackingClient
from runyard.tui.modals.confirm import ConfirmModal
from runyard.tui.modals.edit_tag import EditTagModal
from runyard.tui.modals.notes_editor import NotesEditorModal
from runyard.tui.modals.pick_run import PickRunModal
from runyard.tui.modals.prompt import PromptModal
from runyard.tui.modals.text_viewer import TextViewerModal
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.widgets.tables.kv_table import KVTable
from textual.widgets import Input, Markdown, Static, TextArea

pytestmark = pytest.mark.anyio


@pytest.fixture
def seeded(sqlite_uri: str, tmp_path: Path) -> tuple[TrackingClient, dict[str, str]]:
    """A client on a fresh SQLite store and the ids of the seeded runs."""
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    return client, seed_run(client, tmp_path)


def header_text(screen: RunDetailScreen) -> str:
    """The header as plain text."""
    return str(screen.query_one("#run-header", Static).render())


def table_keys(screen: RunDetailScreen, table_id: str) -> list[str]:
    """Row keys shown by a KVTable, in display order."""
    return [row.key for row in screen.query_one(table_id, KVTable).shown]


async def test_opens_with_header_and_every_section(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        header = header_text(screen)
        for expected in (
            "sweep-parent",
            "FINISHED",
            "/vision/resnet",
            ids["run"],
            "alice",
            "2023-11-14 22:13:20 UTC",
            "33m 20s",
            "SCRIPT train.py",
            "entry main",
            "0123456789 on main (dirty)",
            "trial-0",
            "trial-1",
        ):
            assert expected in header, expected
        assert table_keys(screen, "#params-table") == ["batch_size", "lr", "notes_long", "optimizer"]
        assert table_keys(screen, "#metrics-table") == ["train/loss", "val/acc"]
        metrics = screen.query_one("#metrics-table", KVTable)
        loss_row = metrics.shown[0]
        assert loss_row.cells[3] == "99" and loss_row.cells[4] == "2,000" and loss_row.cells[5] == "1999"
        assert "dataset" in table_keys(screen, "#tags-table")
        tags = screen.query_one("#tags-table", KVTable)
        assert all(row.dim == row.key.startswith("runyard.") for row in tags.shown)
        assert {row.key for row in tags.shown if not row.dim} == {"dataset", "team owner"}
        assert "Baseline" in screen.query_one("#notes-md", Markdown).source
        environment = str(screen.query_one("#environment", Static).render())
        assert "3.11.7" in environment and "Linux-6.1-x86_64" in environment
        assert "uncommitted changes" in environment and "environment/requirements.txt" in environment


async def test_running_run_shows_running_then_lost_when_heartbeat_is_stale(
    seeded: tuple[TrackingClient, dict[str, str]],
) -> None:
    client, ids = seeded
    run_id = ids["child0"]  # still RUNNING, started at T0 + 1
    fresh = HostApp(client, run_id, clock=lambda: T0 + 10_000)
    async with fresh.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "● RUNNING" in header_text(fresh.screen)
        assert "(running)" in header_text(fresh.screen)
    stale = HostApp(client, run_id, clock=lambda: T0 + 3_600_000)
    async with stale.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        header = header_text(stale.screen)
        assert "LOST" in header and "RUNNING" not in header
        # a lost run is not still running: its duration stops at the last heartbeat, as in the run table
        assert "(running)" not in header
        assert "1h 00m" not in header


async def test_a_deleted_run_says_it_is_in_the_trash(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    client.delete_run(ids["child1"])
    app = HostApp(client, ids["child1"], clock=lambda: T0 + 10_000)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "in the trash" in header_text(app.screen)
    live = HostApp(client, ids["child0"], clock=lambda: T0 + 10_000)
    async with live.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "in the trash" not in header_text(live.screen)


async def test_jump_to_parent_and_to_a_child(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["child1"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Parent sweep-parent" in header_text(app.screen)
        await pilot.press("u")
        await settle(pilot)
        parent_screen = app.screen
        assert isinstance(parent_screen, RunDetailScreen) and parent_screen.run_id == ids["run"]
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, PickRunModal)
        labels = [run_id for run_id, _ in app.screen.runs]
        assert sorted(labels) == sorted([ids["child0"], ids["child1"]])
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen) and app.screen.run_id in (ids["child0"], ids["child1"])
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is parent_screen


async def test_add_tag_shows_core_validation_error_and_keeps_text(
    seeded: tuple[TrackingClient, dict[str, str]],
) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4", "t")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, EditTagModal)
        modal.query_one("#tag-key", Input).value = "bad key!"
        modal.query_one("#tag-value", Input).value = "some value"
        modal.query_one("#tag-value", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "Invalid tag key 'bad key!'" in modal.error_text
        assert app.screen is modal
        assert modal.query_one("#tag-key", Input).value == "bad key!"
        assert modal.query_one("#tag-value", Input).value == "some value"
        assert app.focused is modal.query_one("#tag-key", Input)  # the cursor goes to the faulty field
        modal.query_one("#tag-key", Input).value = "runyard.sneaky"
        await pilot.press("enter", "enter")  # Enter in the key goes to the value, Enter there saves
        await settle(pilot)
        assert app.screen is modal and "set by runyard" in modal.error_text
        modal.query_one("#tag-key", Input).value = "stage. two"
        modal.query_one("#tag-value", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert client.get_run(ids["run"]).data.tags["stage. two"] == "some value"
        assert "stage. two" in table_keys(app.screen, "#tags-table")


async def test_edit_and_delete_a_tag(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        keys = table_keys(app.screen, "#tags-table")
        await pilot.press(*["down"] * keys.index("dataset"), "enter")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, EditTagModal) and modal.query_one("#tag-key", Input).disabled
        assert modal.query_one("#tag-value", Input).value == "cifar10"
        modal.query_one("#tag-value", Input).value = "imagenet"
        await pilot.press("enter")
        await settle(pilot)
        assert client.get_run(ids["run"]).data.tags["dataset"] == "imagenet"
        tags = app.screen.query_one("#tags-table", KVTable)
        assert [row.cells[1] for row in tags.shown if row.key == "dataset"] == ["imagenet"]
        # delete asks first; "n" keeps the tag, "y" removes it
        assert tags.selected_key == "dataset"
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert "dataset" in client.get_run(ids["run"]).data.tags
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert "dataset" not in client.get_run(ids["run"]).data.tags
        assert "dataset" not in table_keys(app.screen, "#tags-table")


async def test_system_tags_are_read_only(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        keys = table_keys(app.screen, "#tags-table")
        await pilot.press(*["down"] * keys.index("runyard.platform"), "enter")
        await pilot.pause()
        assert isinstance(app.screen, TextViewerModal) and "read-only" in app.screen.title_text
        await pilot.press("escape", "delete")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert client.get_run(ids["run"]).data.tags["runyard.platform"] == "Linux-6.1-x86_64"


async def test_edit_notes_writes_the_note_tag(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("N")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, NotesEditorModal)
        area = editor.query_one(TextArea)
        assert area.text.startswith("# Baseline")
        area.text = "## Result\n\nbest so far"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert client.get_run(ids["run"]).data.tags["runyard.note.content"] == "## Result\n\nbest so far"
        assert "best so far" in app.screen.query_one("#notes-md", Markdown).source


async def test_rename_with_an_error_then_success(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptModal)
        field = prompt.query_one(Input)
        assert field.value == "sweep-parent"
        field.value = "n" * 300
        await pilot.press("enter")
        await settle(pilot)
        assert "at most 250" in prompt.error_text and app.screen is prompt
        field.value = "resnet-final"
        await pilot.press("enter")
        await settle(pilot)
        assert client.get_run(ids["run"]).info.run_name == "resnet-final"
        assert header_text(app.screen).startswith("resnet-final")


async def test_copy_run_id_and_view_a_long_param(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("y")
        assert app.clipboard == ids["run"]
        await pilot.press("2", "down", "down", "enter")  # batch_size, lr, notes_long
        await pilot.pause()
        viewer = app.screen
        assert isinstance(viewer, TextViewerModal) and viewer.text == "x" * 300
        await pilot.press("escape")
        assert isinstance(app.screen, RunDetailScreen)


async def test_params_filter_and_sort(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2", "s")  # sort by value: numbers first (0.1, 128), then text
        assert table_keys(app.screen, "#params-table") == ["lr", "batch_size", "optimizer", "notes_long"]
        await pilot.press("r")
        assert table_keys(app.screen, "#params-table")[0] == "notes_long"
        await pilot.press("slash", "o", "p", "t")
        assert table_keys(app.screen, "#params-table") == ["optimizer"]
        assert "1 of 4 params" in render_text(
            app.screen.query_one("#params-table .kv-count", Static).render()
        )


async def test_missing_run_shows_an_error(sqlite_uri: str, tmp_path: Path) -> None:
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    client.create_experiment("e")
    app = HostApp(client, "f" * 32)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        error = app.screen.query_one("#run-error", Static)
        assert error.display and "not found" in str(error.render())


_ = (FIXED_NOW, RunStatus)

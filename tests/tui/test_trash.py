"""Pilot tests of the trash screen: T, restore (with children), purge, deleted experiments, search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import make_app, open_trash, settle, trash_delete, trash_names
from runyard import RunNotFound, TrackingClient
from runyard.tracking.artifacts import local_path_of
from runyard.tui.modals.confirm import ConfirmModal
from runyard.tui.screens.trash import TrashScreen
from runyard.tui.widgets.tables.trash_table import TrashTable

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


def move_cursor_to(table: TrashTable, run_name: str) -> None:
    """Put the cursor on the row of that run."""
    table.cursor_row = trash_names(table).index(run_name)


async def test_T_opens_the_trash_of_the_shown_experiment_and_restored_runs_reappear(store: Store) -> None:
    client, ids = store
    trash_delete(client, ids["tuned"], days_ago=3)
    trash_delete(client, ids["bert-base"], days_ago=1)
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        browse = pilot.app.screen
        assert browse.experiment_tree.select_view(f"experiment:{ids['vision']}")
        await settle(pilot)
        browse.table.focus()
        column = browse.table.column_index("name")
        shown = [browse.table.row_text(i)[column] for i in range(len(browse.table.rows))]
        assert not any("tuned" in name for name in shown)
        await pilot.press("T")
        await settle(pilot)
        trash = pilot.app.screen
        assert isinstance(trash, TrashScreen)
        assert trash_names(trash.table) == ["tuned"]  # bert-base is in another experiment
        row = trash.table.row_text(0)
        assert row["deleted"] == "3 days ago" and row["left"] == "27 days"
        assert "/vision/resnet" in str(trash.query_one("#trash-title").render())
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmModal)
        assert "Restore 1 run?" in pilot.app.screen.message
        await pilot.press("y")
        await settle(pilot)
        assert client.get_run(ids["tuned"]).info.lifecycle_stage == "active"
        assert trash.table.rows == [] and "Restored 1 run." in trash.status_text
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is browse
        shown = [browse.table.row_text(i)[column] for i in range(len(browse.table.rows))]
        assert any("tuned" in name for name in shown)


async def test_T_is_in_the_command_palette_and_shows_all_experiments_elsewhere(store: Store) -> None:
    client, ids = store
    trash_delete(client, [ids["tuned"], ids["bert-base"]])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = [command.title for command in pilot.app.get_system_commands(pilot.app.screen)]
        assert "Trash" in titles
        binding = next(b for b in pilot.app.BINDINGS if getattr(b, "id", None) == "app.trash")
        assert binding.key == "T" and binding.description == "Trash"
        assert pilot.app.screen.experiment_tree.select_view("folder:/")
        await settle(pilot)
        pilot.app.action_trash()
        await settle(pilot)
        trash = pilot.app.screen
        assert isinstance(trash, TrashScreen)
        assert sorted(trash_names(trash.table)) == ["bert-base", "tuned"]
        experiments = {trash.table.row_text(i)["experiment"] for i in range(len(trash.table.rows))}
        assert experiments == {"/vision/resnet", "/nlp/bert"}


async def test_restoring_a_parent_brings_back_the_children_deleted_with_it(store: Store) -> None:
    client, ids = store
    trash_delete(client, ids["trial-0"], days_ago=5)  # on its own, earlier: stays in the trash
    cascaded = trash_delete(client, ids["sweep"], days_ago=2)
    assert len(cascaded) == 3  # sweep, trial-1, trial-2
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot, [ids["vision"]])
        table = trash.table
        assert trash_names(table) == ["sweep", "trial-2", "trial-1", "trial-0"]
        assert table.row_text(0)["name"].startswith("▾ sweep (3)")
        assert table.row_text(1)["name"].startswith("    trial-2")  # indented under its parent
        move_cursor_to(table, "sweep")
        await pilot.press("u")
        await settle(pilot)
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmModal)
        assert "2 child runs deleted with it will come back too" in confirm.message
        assert "3 runs will return" in confirm.message
        await pilot.press("y")
        await settle(pilot)
        stages = {name: client.get_run(ids[name]).info.lifecycle_stage for name in ("sweep", "trial-0")}
        assert stages == {"sweep": "active", "trial-0": "deleted"}
        assert client.get_run(ids["trial-2"]).info.lifecycle_stage == "active"
        assert trash_names(table) == ["trial-0"]
        assert table.row_text(0)["name"] == "↳ sweep/trial-0"  # its parent is active again
        assert "Restored 3 runs." in trash.status_text


async def test_restore_selected_runs_and_cancel_changes_nothing(store: Store) -> None:
    client, ids = store
    trash_delete(client, [ids["baseline"], ids["tuned"], ids["live"]])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot, [ids["vision"]])
        table = trash.table
        table.focus()
        move_cursor_to(table, "baseline")
        await pilot.press("space")
        move_cursor_to(table, "tuned")
        await pilot.press("space")
        assert "2 selected" in trash.status_text
        await pilot.press("u")
        await settle(pilot)
        assert "Restore 2 runs?" in pilot.app.screen.message
        await pilot.press("n")
        await settle(pilot)
        assert client.get_run(ids["baseline"]).info.lifecycle_stage == "deleted"
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert trash_names(table) == ["live"]
        assert client.get_run(ids["tuned"]).info.lifecycle_stage == "active"


async def test_purge_removes_the_run_and_its_artifacts_for_good(store: Store, tmp_path: Path) -> None:
    client, ids = store
    client.log_text(ids["baseline"], "weights", "model/weights.txt")
    directory = local_path_of(client.get_run(ids["baseline"]).info.artifact_uri)
    assert (directory / "model" / "weights.txt").is_file()
    trash_delete(client, [ids["baseline"], ids["tuned"]])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot, [ids["vision"]])
        move_cursor_to(trash.table, "baseline")
        await pilot.press("P")
        await settle(pilot)
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmModal)
        assert "Permanently delete 1 run with its params" in confirm.message
        assert "cannot be undone" in confirm.message
        await pilot.press("y")
        await settle(pilot)
        with pytest.raises(RunNotFound):
            client.get_run(ids["baseline"])
        assert not directory.exists()
        assert client.get_run(ids["tuned"]).info.lifecycle_stage == "deleted"  # exactly the one chosen
        assert trash_names(trash.table) == ["tuned"]
        assert "Purged 1 run permanently." in trash.status_text


async def test_deleted_experiments_restore_and_purge(store: Store) -> None:
    client, ids = store
    client.log_text(ids["bert-base"], "vocab", "vocab.txt")
    bert_dir = local_path_of(client.get_run(ids["bert-base"]).info.artifact_uri)
    client.delete_experiment(ids["nlp"])
    client.delete_experiment(ids["vision"])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot)
        experiments = trash.experiments_table
        assert [e.name for e in experiments.experiments] == ["/vision/resnet", "/nlp/bert"] or [
            e.name for e in experiments.experiments
        ] == ["/nlp/bert", "/vision/resnet"]
        experiments.focus()
        experiments.move_cursor(row=[e.name for e in experiments.experiments].index("/vision/resnet"))
        await pilot.press("u")
        await settle(pilot)
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmModal)
        assert "Restore experiment /vision/resnet with its 10 runs?" in confirm.message
        await pilot.press("y")
        await settle(pilot)
        assert client.get_experiment(ids["vision"]).lifecycle_stage == "active"
        assert [e.name for e in experiments.experiments] == ["/nlp/bert"]
        experiments.focus()
        await pilot.press("P")
        await settle(pilot)
        confirm = pilot.app.screen
        assert "Permanently delete experiment /nlp/bert and its 2 runs" in confirm.message
        assert "cannot be undone" in confirm.message
        await pilot.press("y")
        await settle(pilot)
        assert client.get_experiment_by_name("/nlp/bert") is None
        with pytest.raises(RunNotFound):
            client.get_run(ids["bert-base"])
        assert not bert_dir.exists()
        assert experiments.experiments == []
        assert "Purged experiment /nlp/bert and 2 runs permanently." in trash.status_text


async def test_search_in_the_trash_with_valid_and_invalid_queries(store: Store) -> None:
    client, ids = store
    trash_delete(client, [ids["baseline"], ids["wide-resnet"], ids["tuned"]])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot, [ids["vision"]])
        trash.table.focus()
        await pilot.press("slash")
        assert pilot.app.focused is trash.search_box
        await pilot.press(*"params.optimizer = 'adam'", "enter")
        await settle(pilot)
        assert sorted(trash_names(trash.table)) == ["tuned", "wide-resnet"]
        assert "filtered" in trash.status_text and trash.search_error == ""
        trash.table.focus()
        await pilot.press("slash")
        trash.search_box.value = ""
        await pilot.press(*"metrics.accuracy >> 2", "enter")
        await settle(pilot)
        assert "metrics.accuracy >> 2" in trash.search_error and "^" in trash.search_error
        assert trash.search_box.value == "metrics.accuracy >> 2"  # the typed text stays
        assert pilot.app.focused is trash.search_box
        trash.search_box.value = ""
        await pilot.press("enter")
        await settle(pilot)
        assert trash.search_error == ""
        assert len(trash.table.rows) == 3


async def test_o_switches_between_the_opened_experiment_and_all_and_search_completes_keys(
    store: Store,
) -> None:
    client, ids = store
    trash_delete(client, [ids["tuned"], ids["bert-base"]])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot, [ids["nlp"]])
        assert trash_names(trash.table) == ["bert-base"]
        await pilot.press("o")
        await settle(pilot)
        assert sorted(trash_names(trash.table)) == ["bert-base", "tuned"]
        assert "All experiments" in str(trash.query_one("#trash-title").render())
        await pilot.press("o")
        await settle(pilot)
        assert trash_names(trash.table) == ["bert-base"]
        trash_delete(client, ids["wide-resnet"])
        await pilot.press("o")
        await settle(pilot)
        # keys of the deleted runs complete in the trash's search box
        assert trash.search_box.key_suggester.complete("params.opt") == "params.optimizer"


async def test_purging_a_parent_says_its_children_stay_in_the_trash(store: Store) -> None:
    client, ids = store
    trash_delete(client, ids["sweep"])  # with its three trials
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot, [ids["vision"]])
        move_cursor_to(trash.table, "sweep")
        await pilot.press("P")
        await settle(pilot)
        assert "3 child runs in the trash stay" in pilot.app.screen.message
        await pilot.press("y")
        await settle(pilot)
        with pytest.raises(RunNotFound):
            client.get_run(ids["sweep"])
        assert sorted(trash_names(trash.table)) == ["trial-0", "trial-1", "trial-2"]


async def test_trash_actions_are_in_the_help_and_the_command_palette(store: Store) -> None:
    from runyard.tui.commands import screen_commands

    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot)
        titles = [title for title, _, _, _ in screen_commands(trash)]
        for expected in ("Deleted runs: Restore", "Deleted runs: Delete the selected runs permanently"):
            assert any(title.startswith(expected) for title in titles), titles
        assert any(title.startswith("Trash: Delete the active runs of an experiment") for title in titles)
        sections = dict(pilot.app.help_sections(trash))
        assert {b.key for b in sections["Deleted experiments"]} == {"u", "P"}
        assert "T" in {b.key for b in sections["Everywhere"]}


async def test_the_run_tables_deleted_filter_points_to_the_trash(store: Store) -> None:
    client, ids = store
    trash_delete(client, ids["tuned"])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        browse = pilot.app.screen
        assert browse.experiment_tree.select_view(f"experiment:{ids['vision']}")
        await settle(pilot)
        browse.table.focus()
        status = browse.query_one("#status-line")
        assert "trash" not in str(status.render())
        await pilot.press("v")  # Active -> Deleted
        await settle(pilot)
        assert "T trash: restore, purge" in str(status.render())
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TrashScreen)
        assert trash_names(pilot.app.screen.table) == ["tuned"]


async def test_T_in_run_details_opens_the_trash_of_the_runs_experiment(store: Store) -> None:
    client, ids = store
    trash_delete(client, ids["tuned"])
    trash_delete(client, ids["bert-base"])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        browse = pilot.app.screen
        assert browse.experiment_tree.select_view(f"experiment:{ids['vision']}")
        await settle(pilot)
        browse.table.focus()
        await pilot.press("enter")  # run details of the first run of /vision/resnet
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TrashScreen)
        assert trash_names(pilot.app.screen.table) == ["tuned"]  # not bert-base of /nlp/bert


async def test_o_in_the_trash_of_all_experiments_says_so(store: Store) -> None:
    client, ids = store
    trash_delete(client, ids["tuned"])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot)
        await pilot.press("o")
        await settle(pilot)
        shown = [notification.message for notification in pilot.app._notifications]
        assert "This is already the trash of all experiments." in shown  # the key did nothing visible
        assert trash_names(trash.table) == ["tuned"]


async def test_a_slow_load_gives_the_focus_back_to_the_table_with_its_keys(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A load slower than the loading hint's delay covered the table with the loading indicator, which
    # took its focus; the footer then lacked u Restore / P Purge until the table was clicked.
    import time

    client, _ = store
    searched = client.search_runs

    def slow_search(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.4)  # longer than the hint's 0.1 s
        return searched(*args, **kwargs)

    async with make_app(client).run_test(size=(100, 30)) as pilot:
        monkeypatch.setattr(client, "search_runs", slow_search)
        screen = await open_trash(pilot)
        await pilot.press("o")  # reload (all experiments): slow again
        await settle(pilot)
        assert not screen.table.loading
        assert screen.focused is screen.table
        footer_keys = {binding.key for (_, binding, enabled, _) in screen.active_bindings.values() if enabled}
        assert {"u", "P", "space"} <= footer_keys

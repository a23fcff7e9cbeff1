"""Pilot tests of the tree keys (n, r, d, filter) and the table's delete, export and state filter."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import runyard
from helpers import make_app, names, open_resnet, settle
from runyard import TrackingClient
from runyard.tui.modals.confirm import ConfirmModal
from runyard.tui.modals.prompt import PromptModal

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


def tree_labels(pilot: Any) -> list[str]:
    """Every node label of the experiment tree, depth-first."""
    tree = pilot.app.screen.experiment_tree
    labels = []
    stack = [tree.root]
    while stack:
        node = stack.pop()
        labels.append(str(node.label))
        stack.extend(reversed(node.children))
    return labels


async def test_n_creates_an_experiment_and_shows_duplicate_errors_in_place(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        tree = pilot.app.screen.experiment_tree
        tree.focus()
        assert tree.select_view("folder:/vision")
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        prompt = pilot.app.screen
        assert isinstance(prompt, PromptModal)
        field = prompt.query_one("Input")
        assert field.value == "/vision/"
        await pilot.press(*"resnet", "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PromptModal)
        assert "already exists" in prompt.error_text
        assert field.value == "/vision/resnet"
        await pilot.press(*"-v2", "enter")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, PromptModal)
        assert client.get_experiment_by_name("/vision/resnet-v2") is not None
        assert any(label.startswith("resnet-v2") for label in tree_labels(pilot))
        assert tree.highlighted_entry is not None and tree.highlighted_entry.path == "/vision/resnet-v2"


async def test_r_renames_the_highlighted_experiment(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        tree = pilot.app.screen.experiment_tree
        tree.focus()
        tree.select_view(f"experiment:{ids['nlp']}")
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        field = pilot.app.screen.query_one("Input")
        assert field.value == "/nlp/bert"
        field.value = "/nlp/bert-finetune"
        await pilot.press("enter")
        await settle(pilot)
        assert client.get_experiment(ids["nlp"]).name == "/nlp/bert-finetune"
        assert any(label.startswith("bert-finetune") for label in tree_labels(pilot))


async def test_r_on_a_folder_renames_every_experiment_in_it(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        tree = pilot.app.screen.experiment_tree
        tree.focus()
        assert tree.select_view("folder:/vision")
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        field = pilot.app.screen.query_one("Input")
        assert field.value == "/vision"
        field.value = "/cv"
        await pilot.press("enter")
        await settle(pilot)
        names = sorted(e.name for e in client.list_experiments())
        assert "/cv/resnet" in names and not any(name.startswith("/vision/") for name in names)
        assert client.get_experiment(ids["vision"]).name == "/cv/resnet"  # same experiment, same runs
        assert any(label.startswith("cv") for label in tree_labels(pilot))
        shown = [notification.message for notification in pilot.app._notifications]
        assert any(message.startswith("Renamed folder /vision to /cv") for message in shown)


async def test_d_in_the_tree_moves_the_experiment_to_the_trash_after_confirmation(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        tree = pilot.app.screen.experiment_tree
        tree.focus()
        tree.select_view(f"experiment:{ids['nlp']}")
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmModal)
        assert "/nlp/bert" in confirm.message and "2 runs" in confirm.message
        await pilot.press("n")
        await settle(pilot)
        assert client.get_experiment(ids["nlp"]).lifecycle_stage == "active"
        await pilot.press("d", "y")
        await settle(pilot)
        assert client.get_experiment(ids["nlp"]).lifecycle_stage == "deleted"
        assert not any(label.startswith("bert") for label in tree_labels(pilot))


async def test_tree_filter_narrows_experiments_by_name(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pilot.app.screen.experiment_tree.focus()
        await pilot.press("slash")
        assert pilot.app.focused.id == "experiment-filter"
        await pilot.press(*"res")
        await pilot.pause()
        labels = tree_labels(pilot)
        assert any(label.startswith("resnet") for label in labels)
        assert not any(label.startswith("bert") for label in labels)
        await pilot.press("escape")
        assert pilot.app.focused is pilot.app.screen.experiment_tree


async def test_tree_filter_narrows_the_runs_of_the_highlighted_folder(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.experiment_tree.select_view("folder:/")  # All experiments, on the first line
        await settle(pilot)
        assert "bert-base" in names(screen.table) and "tuned" in names(screen.table)
        screen.experiment_tree.focus()
        await pilot.press("slash", *"bert")
        await settle(pilot)
        # the cursor stays on the root line, but the root now holds only /nlp/bert
        assert sorted(names(screen.table)) == ["bert-base", "bert-large"]
        assert "2 runs" in str(screen.query_one("#overview").render())


async def test_d_deletes_selected_runs_naming_count_and_children(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_row = names(table).index("sweep (3)")
        await pilot.press("space")
        table.cursor_row = names(table).index("baseline")
        await pilot.press("space", "d")
        await settle(pilot)
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmModal)
        assert "Move 2 runs to the trash?" in confirm.message
        assert "3 child runs will be deleted too" in confirm.message
        await pilot.press("y")
        await settle(pilot)
        assert len(table.rows) == 5
        assert "sweep (3)" not in names(table) and "baseline" not in names(table)
        assert client.get_run(ids["trial-1"]).info.lifecycle_stage == "deleted"
        assert table.selected == set()


async def test_d_without_selection_deletes_the_cursor_run_and_cancel_keeps_it(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_row = names(table).index("tuned")
        await pilot.press("d")
        await settle(pilot)
        assert "Move 1 run to the trash?" in pilot.app.screen.message
        assert "No child runs" in pilot.app.screen.message
        await pilot.press("escape")
        await settle(pilot)
        assert "tuned" in names(table)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "tuned" not in names(table)
        assert client.get_run(ids["tuned"]).info.lifecycle_stage == "deleted"


async def test_v_cycles_active_deleted_all(store: Store) -> None:
    client, ids = store
    client.delete_run([ids["baseline"]])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        assert len(table.rows) == 9
        await pilot.press("v")
        await settle(pilot)
        assert [n.removesuffix(" (deleted)") for n in names(table)] == ["baseline"]
        assert "Deleted" in str(pilot.app.screen.query_one("#status-line").render())
        await pilot.press("v")
        await settle(pilot)
        assert len(table.rows) == 10
        assert "baseline (deleted)" in names(table)
        await pilot.press("v")
        await settle(pilot)
        assert len(table.rows) == 9


async def test_e_exports_selected_runs_to_the_typed_path(
    store: Store, tmp_path: Path, monkeypatch: Any
) -> None:
    if not hasattr(runyard, "export_runs_csv"):
        pytest.skip("runyard.export_runs_csv is not in the core yet")
    client, _ = store
    monkeypatch.chdir(tmp_path)
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("space", "space", "e")
        await pilot.pause()
        prompt = pilot.app.screen
        assert isinstance(prompt, PromptModal)
        assert "2 selected runs" in prompt.title_text
        assert prompt.query_one("Input").value == "runs.csv"
        await pilot.press("enter")
        await settle(pilot)
        text = (tmp_path / "runs.csv").read_text()
        assert len(text.strip().splitlines()) == 3  # header + 2 runs
        assert table.rows[0].run.info.run_id in text


async def test_e_without_selection_exports_every_matching_run_not_only_loaded_pages(
    store: Store, tmp_path: Path, monkeypatch: Any
) -> None:
    client, _ = store
    monkeypatch.chdir(tmp_path)
    experiment = client.get_experiment_by_name("/vision/resnet")
    assert experiment is not None
    every = client.search_runs([experiment.experiment_id], max_results=1000)
    assert len(every) > 3
    from runyard.tui.widgets.tables.run_table import RunTable

    monkeypatch.setattr(RunTable, "_maybe_want_more", lambda self: None)  # the user never scrolls down
    async with make_app(client, page_size=2, first_page_size=2).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        assert len(table.runs) < len(every)  # only the first page is loaded
        await pilot.press("e")
        await pilot.pause()
        prompt = pilot.app.screen
        assert isinstance(prompt, PromptModal)
        assert "every run matching the search" in prompt.title_text
        await pilot.press("enter")
        await settle(pilot)
        rows = list(csv.DictReader((tmp_path / "runs.csv").open(newline="", encoding="utf-8")))
        assert sorted(row["run_id"] for row in rows) == sorted(run.info.run_id for run in every)
        assert {row["experiment_name"] for row in rows} == {"/vision/resnet"}
        assert "start_time" in rows[0] and any(column.startswith("params.") for column in rows[0])
        shown = [notification.message for notification in pilot.app._notifications]
        assert f"Wrote {len(every)} runs to runs.csv." in shown


async def test_export_to_a_bad_path_keeps_the_dialog_with_the_error_and_the_typed_path(
    store: Store, tmp_path: Path, monkeypatch: Any
) -> None:
    client, _ = store
    monkeypatch.chdir(tmp_path)
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_row = names(table).index("tuned")
        await pilot.press("space", "e")
        await pilot.pause()
        prompt = pilot.app.screen
        assert isinstance(prompt, PromptModal)
        assert "1 selected run as CSV" in prompt.title_text
        prompt.query_one("Input").value = ""
        await pilot.press(*"missing/dir/x.csv", "enter")
        await settle(pilot)
        assert pilot.app.screen is prompt  # still open, nothing written
        assert "Cannot write" in prompt.error_text and "Type another path" in prompt.error_text
        assert prompt.query_one("Input").value == "missing/dir/x.csv"
        prompt.query_one("Input").value = ""
        await pilot.press(*"ok.csv", "enter")
        await settle(pilot)
        assert pilot.app.screen is not prompt
        assert "tuned" in (tmp_path / "ok.csv").read_text()


async def test_d_and_e_on_an_empty_table_say_there_is_nothing_to_act_on(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("slash", *"tags.team = 'nobody'", "enter")
        await settle(pilot)
        assert not table.rows
        await pilot.press("d", "e")
        await pilot.pause()
        shown = [notification.message for notification in pilot.app._notifications]
        assert "No runs here to delete." in shown and "No runs here to export." in shown
        assert not isinstance(pilot.app.screen, PromptModal | ConfirmModal)

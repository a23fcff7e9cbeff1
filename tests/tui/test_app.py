"""Pilot tests of the app: help, palette, focus, quit, narrow terminals, live refresh, memory, paging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import NOW_MS, cell, make_app, names, open_resnet, settle
from runyard import TrackingClient
from runyard.tui.modals.help import HelpModal
from runyard.tui.settings import Settings
from runyard.tui.widgets.tables.run_table import RunTable

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


async def test_question_mark_lists_every_key_by_area(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpModal)
        text = help_screen.text
        for expected in (
            "Runs",
            "s Sort by",
            "C Choose",
            "space Select",
            "d Delete the selected",
            "e Export",
        ):
            assert expected in text
        for expected in (
            "Experiments",
            "n Create an experiment",
            "r Rename",
            "v Show active, deleted",
            "q Back (quits on the main screen)",
        ):
            assert expected in text
        assert "a Select all" in text and "A Select none" in text and "m Metric columns" in text
        assert "z Fold" in text and "/ Search" in text and "b Show or hide the experiment tree" in text
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpModal)


async def test_command_palette_offers_the_table_and_tree_actions(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"select all")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert len(table.selected) == 10
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"fold all")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert len(table.rows) == 7


async def test_tab_moves_focus_between_tree_search_and_table(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert pilot.app.focused is screen.table  # the app opens on the runs
        await pilot.press("tab")
        assert pilot.app.focused.id == "experiment-filter"
        await pilot.press("tab")
        assert pilot.app.focused is screen.experiment_tree
        await pilot.press("tab")
        assert pilot.app.focused is screen.search_box
        await pilot.press("tab")
        assert pilot.app.focused is screen.table
        await pilot.press("shift+tab")
        assert pilot.app.focused is screen.search_box


async def test_q_quits(store: Store) -> None:
    client, _ = store
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_narrow_terminal_shows_table_full_screen_and_b_toggles_the_tree(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        sidebar = screen.query_one("#sidebar")
        assert not sidebar.display or sidebar.region.width == 0
        assert screen.table.region.width >= 78
        assert pilot.app.focused is screen.table
        await pilot.press("b")
        await pilot.pause()
        assert sidebar.region.width >= 78 and screen.table.region.width == 0
        assert pilot.app.focused is screen.experiment_tree
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen.table.region.width >= 78 and pilot.app.focused is screen.table


async def test_wide_terminal_b_hides_and_shows_the_tree(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        wide = screen.table.region.width
        assert screen.query_one("#sidebar").region.width > 20
        screen.table.focus()
        await pilot.press("b")
        await pilot.pause()
        assert screen.table.region.width > wide
        await pilot.press("b")
        await pilot.pause()
        assert screen.table.region.width == wide


async def test_live_refresh_updates_running_runs_and_adds_new_ones_keeping_cursor_and_selection(
    store: Store,
) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_row = names(table).index("tuned")
        await pilot.press("space")
        table.cursor_row = names(table).index("tuned")
        assert cell(table, "live", "metrics.accuracy").strip() == "0.88"
        client.log_metric(ids["live"], "accuracy", 0.91, timestamp=NOW_MS, step=3)
        experiment = client.get_experiment_by_name("/vision/resnet")
        assert experiment is not None
        client.create_run(experiment.experiment_id, start_time=NOW_MS - 1000, run_name="brand-new")
        pilot.app.screen.live_tick()
        await settle(pilot, rounds=5)
        assert cell(table, "live", "metrics.accuracy").strip() == "0.91"
        assert names(table)[0] == "brand-new"
        assert table.cursor_run is not None and table.cursor_run.info.run_name == "tuned"
        assert table.selected == {ids["tuned"]}
        node = pilot.app.screen.experiment_tree.cursor_node
        assert node.data.run_count == 11 and str(node.label).startswith("resnet 11")  # was 10


async def test_idle_refresh_ticks_do_not_reread_the_overview_until_runs_change(
    store: Store, monkeypatch: Any
) -> None:
    client, ids = store
    calls: list[list[str]] = []
    original = client.experiment_overview

    def counted(experiment_ids: Any, now_ms: int | None = None) -> Any:
        calls.append(list(experiment_ids))
        return original(experiment_ids, now_ms)

    monkeypatch.setattr(client, "experiment_overview", counted)
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        screen = pilot.app.screen
        assert screen.overview is not None and screen.overview.lost == 1  # a lost run in view
        before = len(calls)
        for _ in range(5):  # the fixed clock and an unchanged store: nothing to re-read
            screen.live_tick()
            await settle(pilot)
        assert len(calls) == before
        experiment = client.get_experiment_by_name("/vision/resnet")
        assert experiment is not None
        client.create_run(experiment.experiment_id, start_time=NOW_MS - 1000, run_name="arrived")
        screen.live_tick()
        await settle(pilot, rounds=5)
        assert len(calls) > before and screen.overview.total_runs == 11
        before, running = len(calls), screen.overview.running
        client.set_terminated(ids["live"], "FINISHED", end_time=NOW_MS)  # a running run finished
        screen.live_tick()
        await settle(pilot, rounds=5)
        assert len(calls) > before and screen.overview.running == running - 1


async def test_view_is_remembered_between_launches(store: Store, tmp_path: Path) -> None:
    client, _ = store
    settings_file = tmp_path / "state.json"
    async with make_app(client, settings_file).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_column = table.column_index("metrics.loss")
        await pilot.press("s", "m", "v", "v")
        await pilot.press("slash", *"params.optimizer = 'adam'", "enter")
        await settle(pilot)
        pilot.app.theme = "nord"
        await pilot.press("q")
    async with make_app(client, settings_file).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.entry is not None and screen.entry.path == "/vision/resnet"
        assert screen.search_box.value == "params.optimizer = 'adam'"
        assert screen.view_state.state_filter == "ALL"
        assert screen.table.sort_column == "metrics.loss" and screen.table.aggregate == "min"
        assert sorted(names(screen.table)) == ["deep-resnet", "tuned", "wide-resnet"]
        assert pilot.app.theme == "nord"
        assert screen.search_box.history == ["params.optimizer = 'adam'"]


async def test_sort_and_columns_are_saved_as_they_change(store: Store, tmp_path: Path) -> None:
    """A dropped SSH session (no clean exit) keeps what was set: the state file follows each change."""
    client, _ = store
    settings_file = tmp_path / "state.json"
    async with make_app(client, settings_file).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_column = table.column_index("metrics.loss")
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        await pilot.press("enter")  # the chooser applies its (unchanged) columns
        await settle(pilot)
        saved = Settings.load(client.tracking_uri, settings_file)
        view = saved.view(pilot.app.screen.entry.view_key)
        assert view.sort_column == "metrics.loss"
        assert view.columns == table.dynamic_columns
        assert saved.last_view == pilot.app.screen.entry.view_key


async def test_pages_load_as_the_cursor_nears_the_end(tmp_path: Path) -> None:
    client = TrackingClient(f"sqlite:///{tmp_path / 'big.db'}", artifact_root=str(tmp_path / "artifacts"))
    experiment = client.create_experiment("/big")
    store = client.store
    for index in range(1_100):
        store.create_run(
            experiment, f"run-{index:04d}", "alice", start_time=NOW_MS - index * 1000, status="FINISHED"
        )
    app = make_app(client, page_size=500, first_page_size=200)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(RunTable)
        assert len(table.rows) == 200 and table.has_more
        assert "200+ runs" in str(pilot.app.screen.query_one("#status-line").render())
        table.focus()
        await pilot.press("pagedown")  # still far from the end: nothing more is fetched
        await settle(pilot)
        assert len(table.rows) == 200
        await pilot.press("end")
        await settle(pilot)
        assert len(table.rows) == 700
        await pilot.press("end")
        await settle(pilot)
        assert len(table.rows) == 1100 and not table.has_more
        assert names(table)[-1] == "run-1099"
        assert len({row.run.info.run_id for row in table.rows}) == 1100


async def test_key_bar_shows_the_keys_of_the_focused_widget(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        bar = screen.query_one("#keys")
        text = str(bar.render())
        assert "s Sort" in text and "q Quit" in text and "n New experiment" not in text
        screen.experiment_tree.focus()
        await settle(pilot)
        text = str(bar.render())
        assert "n New experiment" in text and "s Sort" not in text and "? Keys" in text


async def test_overview_wraps_instead_of_cutting_off_last_activity(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        await settle(pilot)
        overview = pilot.app.screen.query_one("#overview")
        text = str(overview.render())
        assert "last activity" in text and len(text) > overview.content_size.width
        assert overview.size.height == 2  # all of it on screen, on two lines


async def test_overview_counts_a_stalled_run_as_lost_not_running(store: Store) -> None:
    client, _ = store  # "live" beat 10 s ago, "stalled" 60 min ago
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        await settle(pilot)
        text = str(pilot.app.screen.query_one("#overview").render())
        assert "1 running" in text and "1 lost" in text


async def test_the_remembered_view_shows_its_runs_before_the_tree_has_its_counts(
    store: tuple[TrackingClient, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    client, _ = store
    resnet = client.get_experiment_by_name("/vision/resnet")
    assert resnet is not None
    settings_file = tmp_path / "state.json"
    remembered = Settings.load(client.tracking_uri, settings_file)
    remembered.last_view = f"experiment:{resnet.experiment_id}"
    remembered.save()
    counted = threading.Event()
    real_count = TrackingClient.count_runs

    def slow_count(self: TrackingClient, experiment_ids: Any) -> dict[str, int]:
        assert counted.wait(30), "the test never let the counts through"
        return real_count(self, experiment_ids)

    monkeypatch.setattr(TrackingClient, "count_runs", slow_count)
    async with make_app(client, settings_file).run_test(size=(100, 30)) as pilot:
        screen: Any = pilot.app.screen
        for _ in range(500):  # until the table shows the runs (the counts are still held back)
            if screen.table.runs:
                break
            await pilot.pause(0.01)
        assert screen.table.runs and screen.entry.view_key == remembered.last_view
        assert screen.experiment_tree.counts == {}
        counted.set()
        await settle(pilot)
        assert screen.experiment_tree.counts and screen.entry.view_key == remembered.last_view
        assert {run.info.experiment_id for run in screen.table.runs} == {resnet.experiment_id}

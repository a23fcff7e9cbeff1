"""Pilot tests of the run table: rows, status, children, sort, columns, selection, MIN/MAX, folding."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import cell, make_app, names, open_resnet, settle
from runyard import TrackingClient
from runyard.tui.widgets.tables.run_table import RunTable

pytestmark = pytest.mark.anyio

Store = tuple[TrackingClient, dict[str, str]]


async def test_rows_show_status_times_and_children_under_parent(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        shown = names(table)
        assert len(shown) == 10
        sweep = shown.index("sweep (3)")
        assert shown[sweep + 1 : sweep + 4] == ["trial-2", "trial-1", "trial-0"]  # in the sort order (newest)
        trial_cell = table.row_text(sweep + 1)[table.column_index("name")]
        assert trial_cell.startswith("    ")  # indented under the parent
        assert cell(table, "live", "status").strip() == "RUNNING"
        assert cell(table, "stalled", "status").strip() == "LOST"
        assert cell(table, "deep-resnet", "status").strip() == "FAILED"
        assert cell(table, "tuned", "start").strip() == "2 h ago"
        assert cell(table, "tuned", "duration").strip() == "25m 00s"
        assert cell(table, "live", "duration").strip() == "30m 00s"
        assert cell(table, "tuned", "version").strip() == "3f2a9c1"
        assert cell(table, "tuned", "metrics.accuracy").strip() == "0.95"
        overview = str(pilot.app.screen.query_one("#overview").render())
        assert "/vision/resnet" in overview and "10 runs" in overview and "1 running · 1 lost" in overview
        assert "1 failed" in overview and "alice 7" in overview


async def test_folder_shows_runs_of_every_experiment_below_it(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        screen = pilot.app.screen
        await settle(pilot)
        assert screen.experiment_tree.select_view("folder:/")
        await settle(pilot)
        assert len(screen.table.rows) == 12
        assert screen.experiment_tree.select_view("folder:/nlp")
        await settle(pilot)
        assert sorted(names(screen.table)) == ["bert-base", "bert-large"]


async def test_sort_key_and_header_click_reverse_with_missing_last(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_column = table.column_index("metrics.accuracy")
        await pilot.press("s")
        await settle(pilot)
        values = [
            table.row_text(i)[table.column_index("metrics.accuracy")].strip() for i in range(len(table.rows))
        ]
        assert table.sort_column == "metrics.accuracy" and table.sort_descending
        top = [v for v in values if v]
        assert top[0] == "0.95"
        top_level = [row.run.info.run_name for row in table.rows if row.depth == 0]
        # the sweep parent has no accuracy: its family sits where its best trial (0.9) ranks
        assert top_level[:3] == ["tuned", "wide-resnet", "sweep"]
        shown = [row.run.info.run_name for row in table.rows]
        assert shown[shown.index("sweep") + 1] == "trial-2"
        await pilot.press("s")
        await settle(pilot)
        assert not table.sort_descending
        assert table.row_text(0)[table.column_index("metrics.accuracy")].strip() == "0.42"
        while table.cursor_column > 2:
            await pilot.press("left")  # scrolls back to the start
        await pilot.pause()
        header_x = sum(c.width + 1 for c in table.columns[:2]) + 1  # the "Started" header
        await pilot.click(RunTable, offset=(header_x, 0))
        await settle(pilot)
        assert table.sort_column == "start" and not table.sort_descending
        assert names(table)[0] == "baseline"  # oldest first


async def test_space_selects_and_a_A_select_all_and_none(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("space", "space")
        await pilot.pause()
        assert len(table.selected) == 2
        assert table.row_text(0)[0].startswith("●") and table.row_text(1)[0].startswith("●")
        assert "2 selected" in str(pilot.app.screen.query_one("#status-line").render())
        await pilot.press("up", "space")
        assert len(table.selected) == 1
        await pilot.press("a")
        assert len(table.selected) == 10
        await pilot.press("A")
        assert table.selected == set()
        assert "selected" not in str(pilot.app.screen.query_one("#status-line").render())


async def test_m_cycles_latest_min_max_in_metric_columns(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        assert cell(table, "tuned", "metrics.loss").strip() == "0.17"
        await pilot.press("m")
        await settle(pilot)
        assert "min(loss)" in [c.label for c in table.columns]
        assert cell(table, "tuned", "metrics.loss").strip() == "0.17"
        assert cell(table, "tuned", "metrics.accuracy").strip() == "0.475"
        await pilot.press("m")
        await settle(pilot)
        assert cell(table, "tuned", "metrics.loss").strip() == "0.34"
        await pilot.press("m")
        assert cell(table, "tuned", "metrics.loss").strip() == "0.17"
        assert "loss" in [c.label for c in table.columns]


async def test_z_folds_children_and_Z_folds_all(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_row = names(table).index("trial-1")
        await pilot.press("z")
        await pilot.pause()
        assert "trial-1" not in names(table) and len(table.rows) == 7
        assert table.cursor_run is not None and table.cursor_run.info.run_name == "sweep"
        assert "▸" in table.row_text(table.cursor_row)[table.column_index("name")]
        await pilot.press("z")
        assert len(table.rows) == 10
        await pilot.press("Z")
        assert len(table.rows) == 7
        await pilot.press("Z")
        assert len(table.rows) == 10


async def test_column_chooser_filters_keys_and_adds_a_column(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("C")
        await settle(pilot)
        chooser = pilot.app.screen
        assert "tags.team" in chooser.listed and "params.lr" in chooser.listed
        await pilot.press(*"team")
        await settle(pilot)
        assert chooser.listed == ["tags.team"]
        await pilot.press("down", "space", "enter")
        await settle(pilot)
        assert "tags.team" in table.dynamic_columns
        assert cell(table, "tuned", "tags.team").strip() == "cv"
        await pilot.press("C")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert "tags.team" in table.dynamic_columns


async def test_cursor_moves_and_keeps_visible(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("end")
        assert table.cursor_row == 9
        await pilot.press("home", "down", "down")
        assert table.cursor_row == 2
        await pilot.press("right", "right")
        assert table.columns[table.cursor_column].id == "duration"


async def test_open_and_compare_messages_for_later_screens(store: Store) -> None:
    client, ids = store
    received: list[Any] = []
    async with make_app(client).run_test(size=(100, 30), message_hook=received.append) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("space", "space")
        table.request_compare()
        table.cursor_row = 0
        table.open_cursor_run()
        await pilot.pause()
        opened = [m for m in received if isinstance(m, RunTable.RunOpened)]
        compared = [m for m in received if isinstance(m, RunTable.CompareRequested)]
        assert opened and opened[0].run_id == table.rows[0].run.info.run_id
        assert compared and len(compared[0].run_ids) == 2


async def test_hundreds_of_metric_keys_keep_the_table_and_chooser_usable(tmp_path: Any) -> None:
    client = TrackingClient(f"sqlite:///{tmp_path / 'wide.db'}", artifact_root=str(tmp_path / "artifacts"))
    experiment = client.create_experiment("/wide")
    run = client.create_run(experiment, run_name="many-metrics", start_time=1_000)
    from runyard import Metric

    client.log_batch(
        run.info.run_id, metrics=[Metric(f"layer{i:03d}.grad_norm", i, 1_000, 0) for i in range(600)]
    )
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.table
        assert len(table.dynamic_columns) == 3  # a few columns by default, not 600
        await pilot.press("C")
        await settle(pilot)
        chooser = pilot.app.screen
        assert len(chooser.listed) == 200
        hidden = len(chooser.available) - 200
        assert hidden >= 400 and f"{hidden} not listed" in str(chooser.query_one("#column-count").render())
        await pilot.press(*"layer599")
        await settle(pilot)
        assert chooser.listed == ["metrics.layer599.grad_norm", "trend.layer599.grad_norm"]
        await pilot.press("down", "space", "enter")
        await settle(pilot)
        assert cell(table, "many-metrics", "metrics.layer599.grad_norm").strip() == "599"


async def test_default_columns_are_the_keys_most_runs_have_and_fit_at_100_columns(tmp_path: Any) -> None:
    client = TrackingClient(f"sqlite:///{tmp_path / 'sweep.db'}", artifact_root=str(tmp_path / "artifacts"))
    experiment = client.create_experiment("/vision/resnet")
    parent = client.create_run(experiment, run_name="sweep", start_time=1_000, user_id="a-long-user-name")
    client.log_metric(parent.info.run_id, "best_val_accuracy", 0.9, timestamp=1_000, step=0)
    client.log_param(parent.info.run_id, "a_sweep_only_param", "grid")
    for index in range(4):
        trial = client.create_run(
            experiment, run_name=f"trial-{index}", start_time=2_000 + index, parent_run_id=parent.info.run_id
        )
        client.log_metric(trial.info.run_id, "val_accuracy", 0.5 + index / 10, timestamp=2_000, step=0)
        client.log_param(trial.info.run_id, "lr", str(0.1 / (index + 1)))
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.table
        chosen = table.dynamic_columns
        assert chosen[0] == "metrics.val_accuracy"  # 4 runs have it; only the parent has best_*
        assert chosen.index("params.lr") < chosen.index("params.a_sweep_only_param")
        header = pilot.app.screen.table.render_line(0).text
        assert "val_accuracy" in header  # on screen next to the tree, without scrolling right
        assert cell(table, "trial-3", "metrics.val_accuracy").strip() == "0.8"


async def test_scrolling_sideways_never_cuts_a_cell_on_its_left(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(80, 24)) as pilot:
        table = await open_resnet(pilot)
        scrolling = table.columns[2:]
        starts = {sum(c.width + 1 for c in scrolling[:i]) for i in range(len(scrolling) + 1)}
        for _ in range(len(table.columns)):
            await pilot.press("right")
            await pilot.pause()
            assert int(table.scroll_offset.x) in starts  # whole columns only
        assert table.columns[table.cursor_column].id == "version"
        assert int(table.scroll_offset.x) > 0
        await pilot.resize_terminal(70, 24)
        await pilot.pause()
        assert int(table.scroll_offset.x) in starts
        line = table.render_line(1).text
        frozen = sum(c.width + 1 for c in table.columns[:2])
        first_shown = next(
            c
            for c in scrolling
            if sum(x.width + 1 for x in scrolling[: scrolling.index(c)]) == int(table.scroll_offset.x)
        )
        assert (
            line[frozen : frozen + first_shown.width].strip()
            == table.row_text(0)[table.column_index(first_shown.id)].strip()
        )


async def test_first_s_on_a_metric_sorts_best_first_by_the_lower_is_better_rule(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        table = await open_resnet(pilot)
        table.cursor_column = table.column_index("metrics.loss")
        await pilot.press("s")
        await settle(pilot)
        assert table.sort_column == "metrics.loss" and not table.sort_descending  # lowest loss first
        assert cell(table, names(table)[0], "metrics.loss").strip() == "0.17"
        table.cursor_column = table.column_index("metrics.accuracy")
        await pilot.press("s")
        await settle(pilot)
        assert table.sort_descending  # highest accuracy first


async def test_a_metric_column_writes_all_its_numbers_in_one_notation(store: Store) -> None:
    client, ids = store
    client.log_metric(ids["tuned"], "lr_now", 2.9e-05, step=0)
    client.log_metric(ids["live"], "lr_now", 0.0029, step=0)
    client.log_metric(ids["tuned"], "acc_now", 0.0029, step=0)
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        table = await open_resnet(pilot)
        table.set_columns(["metrics.lr_now", "metrics.acc_now"])
        await settle(pilot)
        # one tiny value puts the whole column in scientific notation: never 2.900e-05 beside 0.0029
        assert cell(table, "tuned", "metrics.lr_now").strip() == "2.900e-05"
        assert cell(table, "live", "metrics.lr_now").strip() == "2.900e-03"
        assert (
            cell(table, "tuned", "metrics.acc_now").strip() == "0.0029"
        )  # a column of plain numbers stays plain


async def test_selected_runs_wear_the_colour_they_get_in_compares_plots(store: Store) -> None:
    from runyard.tui.screens.compare import CompareScreen
    from runyard.tui.widgets.plots.compare_plot import RunLegend, run_colour
    from runyard.tui.widgets.plots.history_plot import HistoryView

    client, _ = store
    async with make_app(client).run_test(size=(120, 34)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("space", "down", "space", "down", "space")  # three runs
        await settle(pilot)
        marks: dict[str, tuple[int, int, int]] = {}
        chosen = [i for i, row in enumerate(table.rows) if row.run.info.run_id in table.selected]
        assert len(chosen) == 3
        for index in chosen:
            name = table.rows[index].run.info.run_name
            first = list(table._render_row(index, 100))[0]
            assert first.text == "●"
            colour = first.style.color.triplet if first.style and first.style.color else None
            assert colour is not None
            marks[name] = (colour.red, colour.green, colour.blue)
        assert sorted(marks.values()) == sorted(run_colour(i) for i in range(3))  # three distinct colours
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(pilot.app.screen, CompareScreen)
        await pilot.press("2")  # History: its legend names each run in its colour
        await settle(pilot)
        view = pilot.app.screen.query_one(HistoryView)
        assert view.compare_data is not None
        compared = [run.run.info.run_name for run in view.compare_data.runs]  # index i: run_colour(i)
        assert {name: run_colour(compared.index(name)) for name in marks} == marks
        legend = view.query_one(RunLegend)  # and the legend shows those colours
        assert legend.entries and all(marks[name] == colour for _, name, colour in legend.entries)

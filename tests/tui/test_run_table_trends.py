"""Sparkline ("trend") columns of the run table: add with `t` or the chooser, glyphs, live update, paging."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from helpers import NOW_MS, cell, make_app, open_resnet, settle
from runyard import Metric, TrackingClient
from runyard.tui.settings import Settings
from runyard.tui.widgets.tables.run_table import RunTable
from runyard.tui.widgets.tables.run_trends import TREND_MARGIN

pytestmark = pytest.mark.anyio

Store = tuple[TrackingClient, dict[str, str]]
RISING = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]  # one glyph each, lowest to highest


def log_series(
    client: TrackingClient, run_id: str, key: str, values: list[float], first_step: int = 0
) -> None:
    """Log values at consecutive steps after the run's existing points."""
    points = [
        Metric(key, value, NOW_MS - 60_000 + first_step + index, first_step + index)
        for index, value in enumerate(values)
    ]
    client.log_batch(run_id, metrics=points)


async def move_to_column(pilot: Any, table: RunTable, column_id: str) -> None:
    """Press → or ← until the column cursor is on column_id."""
    target = table.column_index(column_id)
    while table.cursor_column != target:
        await pilot.press("right" if table.cursor_column < target else "left")
    await pilot.pause()


async def test_t_on_a_metric_column_adds_its_sparkline_and_t_again_removes_it(store: Store) -> None:
    client, ids = store
    log_series(client, ids["tuned"], "loss", RISING, first_step=3)
    async with make_app(client).run_test(size=(140, 30)) as pilot:
        table = await open_resnet(pilot)
        await move_to_column(pilot, table, "metrics.loss")
        await pilot.press("t")
        await settle(pilot)
        columns = table.dynamic_columns
        assert columns[columns.index("metrics.loss") + 1] == "trend.loss"  # right beside its metric
        header = [column.label for column in table.columns]
        assert "loss trend" in header
        # the three seeded points (0.34, 0.21, 0.17) then the eight rising ones (0 to 7), one glyph each
        assert cell(table, "tuned", "trend.loss").strip() == "▁▁▁▁▂▃▄▅▆▇█"
        assert cell(table, "sweep", "trend.loss").strip() == ""  # no loss logged: nothing drawn
        await move_to_column(pilot, table, "trend.loss")
        await pilot.press("t")
        await settle(pilot)
        assert "trend.loss" not in table.dynamic_columns
        await move_to_column(pilot, table, "start")
        await pilot.press("t")
        await settle(pilot)
        assert not any(column.startswith("trend.") for column in table.dynamic_columns)


async def test_a_sparkline_draws_the_last_points_that_fit_and_marks_nan_and_infinity(store: Store) -> None:
    client, ids = store
    series = [float(step % 8) for step in range(40)]
    series[-3], series[-1] = math.nan, math.inf
    log_series(client, ids["wide-resnet"], "grad_norm", series)
    async with make_app(client).run_test(size=(140, 30)) as pilot:
        table = await open_resnet(pilot)
        table.set_columns(["metrics.grad_norm", "trend.grad_norm"])
        await settle(pilot)
        width = table.columns[table.column_index("trend.grad_norm")].width
        text = cell(table, "wide-resnet", "trend.grad_norm").strip()
        assert len(text) == width < 32  # as many of the 32 kept points as the column is wide
        last = [value for value in series[-width:]]
        assert text[-3:] == "!▇!"  # NaN and +inf are marked, the finite 7 between them is the top
        assert text[:8] == "".join("▁▂▃▄▅▆▇█"[int(v)] for v in last[:8])


async def test_the_chooser_offers_a_trend_of_each_metric_and_the_column_is_remembered(
    store: Store, tmp_path: Path
) -> None:
    client, _ = store
    state = tmp_path / "tui-state.json"
    async with make_app(client, state).run_test(size=(120, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("C")
        await settle(pilot)
        chooser = pilot.app.screen
        listed = chooser.listed
        assert listed.index("trend.accuracy") == listed.index("metrics.accuracy") + 1
        await pilot.press(*"trend.acc")
        await settle(pilot)
        assert chooser.listed == ["trend.accuracy"]
        await pilot.press("down", "space", "enter")
        await settle(pilot)
        assert table.dynamic_columns[-1] == "trend.accuracy"
        assert cell(table, "baseline", "trend.accuracy").strip() == "▁▅█"
    saved = json.loads(state.read_text())
    views = next(iter(saved["stores"].values()))["views"]
    assert any("trend.accuracy" in (view["columns"] or []) for view in views.values())
    reopened = Settings.load(client.tracking_uri, state)
    assert any("trend.accuracy" in (view.columns or []) for view in reopened.views.values())
    async with make_app(client, state).run_test(size=(120, 30)) as pilot:
        table = await open_resnet(pilot)
        await settle(pilot)
        assert cell(table, "baseline", "trend.accuracy").strip() == "▁▅█"  # back after a restart
        await move_to_column(pilot, table, "trend.accuracy")
        await pilot.press("t")  # removed with t: saved at once
        await settle(pilot)
    views = next(iter(json.loads(state.read_text())["stores"].values()))["views"]
    assert not any("trend.accuracy" in (view["columns"] or []) for view in views.values())


async def test_a_running_runs_sparkline_follows_the_live_refresh(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(140, 30)) as pilot:
        table = await open_resnet(pilot)
        table.set_columns(["metrics.loss", "trend.loss"])
        await settle(pilot)
        before = cell(table, "live", "trend.loss").strip()
        assert before == "█▂▁"  # 0.3/0.5, 0.3/0.8, 0.3
        log_series(client, ids["live"], "loss", [0.6, math.nan], first_step=3)
        pilot.app.screen.live_tick()  # what the 2 s timer does
        await settle(pilot)
        assert cell(table, "live", "trend.loss").strip() == "█▂▁█!"
        assert cell(table, "tuned", "trend.loss").strip() == "█▂▁"  # finished runs untouched


async def test_sparklines_are_read_for_the_rows_on_screen_in_one_call_per_screen(tmp_path: Path) -> None:
    client = TrackingClient(f"sqlite:///{tmp_path / 'big.db'}", artifact_root=str(tmp_path / "artifacts"))
    experiment_id = client.create_experiment("/big")
    run_ids = []
    for index in range(450):
        run_id = client.create_run(
            experiment_id, run_name=f"r{index:03d}", start_time=NOW_MS - index
        ).info.run_id
        run_ids.append(run_id)
        log_series(client, run_id, "loss", [float(index % 5), 1.0, 2.0])
    asked: list[list[str]] = []
    real = TrackingClient.recent_metrics

    def counting(self: TrackingClient, run_ids: Any, keys: Any = None) -> Any:
        if keys is not None:  # the sparkline column's calls (the alert badges read every key)
            assert list(keys) == ["loss"]
            asked.append(list(run_ids))
        return real(self, run_ids, keys)

    client.recent_metrics = counting.__get__(client)
    app = make_app(client, page_size=200, first_page_size=100, refresh_seconds=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = pilot.app.screen
        await settle(pilot)
        assert screen.experiment_tree.select_view(f"experiment:{experiment_id}")
        await settle(pilot)
        table = screen.table
        table.focus()
        table.set_columns(["trend.loss"])
        await settle(pilot)
        assert len(asked) == 1  # one call for the shown rows (and a margin), not one per run
        assert (
            run_ids[0] in asked[0] and len(asked[0]) <= table.scrollable_content_region.height + TREND_MARGIN
        )
        assert cell(table, "r000", "trend.loss").strip() == "▁▄█"
        for _ in range(5):  # the last loaded run, until every page came: each new screen is asked once
            await pilot.press("end")
            await settle(pilot)
            if not table.has_more and table.cursor_row == len(table.rows) - 1:
                break
        assert len(table.runs) == 450
        assert cell(table, "r449", "trend.loss").strip() == "█▁▃"
        most = table.scrollable_content_region.height + 2 * TREND_MARGIN
        assert all(len(call) <= most for call in asked)  # a screen of rows and a margin per call
        assert len({run_id for call in asked for run_id in call}) < len(run_ids)  # never the whole table
        calls = len(asked)
        table.refresh()
        await pilot.press("up", "down")
        await settle(pilot)
        assert len(asked) == calls  # shown again: nothing asked again


async def test_removing_one_trend_column_asks_nothing_and_adding_one_asks_once(store: Store) -> None:
    client, _ = store
    asked: list[tuple[list[str], list[str]]] = []
    real = TrackingClient.recent_metrics

    def counting(self: TrackingClient, run_ids: Any, keys: Any = None) -> Any:
        if keys is not None:  # the sparkline columns' calls (the alert badges read every key)
            asked.append((list(run_ids), list(keys)))
        return real(self, run_ids, keys)

    client.recent_metrics = counting.__get__(client)
    async with make_app(client, refresh_seconds=3600).run_test(size=(140, 30)) as pilot:
        table = await open_resnet(pilot)
        table.set_columns(["metrics.loss", "trend.loss", "metrics.accuracy"])
        await settle(pilot)
        assert len(asked) == 1 and asked[0][1] == ["loss"]
        await move_to_column(pilot, table, "metrics.accuracy")
        await pilot.press("t")  # a new key: the shown runs are asked once
        await settle(pilot)
        assert len(asked) == 2 and asked[1][1] == ["loss", "accuracy"]
        assert cell(table, "baseline", "trend.accuracy").strip() == "▁▅█"
        await move_to_column(pilot, table, "trend.loss")
        await pilot.press("t")  # removed: nothing to ask
        await settle(pilot)
        await move_to_column(pilot, table, "metrics.loss")
        await pilot.press("t")  # back: its points are still known
        await settle(pilot)
        assert len(asked) == 2 and cell(table, "baseline", "trend.loss").strip() == "█▂▁"

"""Pilot tests of the compare screen's tables: runs from two experiments, differences only, best values,
latest/min/max, NaN values, more than 100 runs selected, going back."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from compare_helpers import CompareHostApp
from helpers import settle
from runyard import TrackingClient
from runyard.tui.screens.compare import CompareScreen
from runyard.tui.widgets.tables.compare_tables import CompareTable

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


def table_of(app: CompareHostApp) -> CompareTable:
    """The compare table of the open screen."""
    return app.compare.query_one(CompareTable)


async def test_runs_of_two_experiments_side_by_side_missing_values_and_best_marked(
    store: Store,
) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["baseline"], ids["wide-resnet"], ids["bert-base"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        title = str(app.compare.query_one("#compare-title").render())
        assert "3 runs from 2 experiments" in title and "/vision/resnet" in title and "/nlp/bert" in title
        table = table_of(app)
        assert table.row_texts("info:name")[1:] == ["baseline", "wide-resnet", "bert-base"]
        assert table.row_texts("info:experiment")[1:] == ["/vision/resnet", "/vision/resnet", "/nlp/bert"]
        assert table.row_texts("param:optimizer")[1:] == ["sgd", "adam", "—"]
        assert table.row_texts("metric:f1")[1:] == ["—", "—", "0.8"]
        # loss: lower is better, so wide-resnet's 0.21 is starred; accuracy: higher is better
        assert table.row_texts("metric:loss") == ["≠ loss ↓", "0.52", "★0.21", "—"]
        assert table.row_texts("metric:accuracy") == ["≠ accuracy ↑", "0.81", "★0.93", "—"]


async def test_d_shows_only_rows_that_differ(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = table_of(app)
        assert "info:user" in table.row_keys and table.row_texts("info:user")[0] == "= user"
        await pilot.press("d")
        await pilot.pause()
        assert "info:user" not in table.row_keys and "info:version" not in table.row_keys
        assert {"param:lr", "param:optimizer", "metric:loss", "info:name"} <= set(table.row_keys)
        assert table.describe().startswith("differences only")
        await pilot.press("d")
        await pilot.pause()
        assert "info:user" in table.row_keys


async def test_m_switches_metric_rows_to_min_and_max(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = table_of(app)
        assert table.row_texts("metric:loss")[1:] == ["0.52", "★0.17"]
        await pilot.press("m")
        await pilot.pause()
        assert table.row_texts("section:metrics")[0].startswith("Metrics, min")
        assert table.row_texts("metric:accuracy")[1:] == ["0.405", "★0.475"]
        await pilot.press("m")
        await pilot.pause()
        assert table.row_texts("metric:loss")[1:] == ["1.04", "★0.34"]  # max of loss/fraction (0.5)


async def test_b_flips_which_end_of_a_metric_is_best(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = table_of(app)
        table.move_cursor(row=table.row_keys.index("metric:accuracy"), column=1)
        await pilot.press("b")
        await pilot.pause()
        assert table.row_texts("metric:accuracy") == ["≠ accuracy ↓", "★0.81", "0.95"]
        assert table.cursor_key == "metric:accuracy"
        await pilot.press("b")
        await pilot.pause()
        assert table.row_texts("metric:accuracy") == ["≠ accuracy ↑", "0.81", "★0.95"]
        table.move_cursor(row=table.row_keys.index("param:lr"))
        await pilot.press("b")  # not a metric row: nothing flips
        await pilot.pause()
        assert table.best_overrides == {"accuracy": False}
        assert table.row_texts("metric:accuracy")[0] == "≠ accuracy ↑"


async def test_nan_values_show_as_nan_and_are_never_best(store: Store) -> None:
    client, ids = store
    client.log_metric(ids["tuned"], "loss", math.nan, step=3)
    app = CompareHostApp(client, [ids["baseline"], ids["wide-resnet"], ids["tuned"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert table_of(app).row_texts("metric:loss")[1:] == ["0.52", "★0.21", "NaN"]


async def test_more_than_100_runs_selected_compares_the_first_100_and_says_so(tmp_path: Path) -> None:
    client = TrackingClient(f"sqlite:///{tmp_path / 'many.db'}", artifact_root=str(tmp_path / "artifacts"))
    experiment = client.create_experiment("/many")
    run_ids = []
    for index in range(105):
        run = client.create_run(experiment, run_name=f"run-{index:03d}", start_time=1_000 + index)
        client.log_batch(run.info.run_id, params={"seed": str(index)})
        run_ids.append(run.info.run_id)
    app = CompareHostApp(client, run_ids)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        warning = str(app.compare.query_one("#compare-warning").render())
        assert "105 runs selected: comparing the first 100" in warning
        assert "Comparing 100 runs" in str(app.compare.query_one("#compare-title").render())
        table = table_of(app)
        names = table.row_texts("info:name")[1:]
        assert len(names) == 100 and names[0] == "run-000" and names[-1] == "run-099"
        await pilot.press("end")  # the cursor scrolls the table sideways to the last run
        await pilot.pause()
        assert table.scroll_x > 0


async def test_escape_goes_back(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)


async def test_run_info_shows_a_stalled_run_as_lost_with_its_duration_to_the_last_heartbeat(
    store: Store,
) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["live"], ids["stalled"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = table_of(app)
        # as in the run table: live started 30 min ago and still beats; stalled's last beat was 60 min ago
        assert table.row_texts("info:status")[1:] == ["RUNNING", "LOST"]
        assert table.row_texts("info:duration")[1:] == ["30m 00s", "30m 00s"]

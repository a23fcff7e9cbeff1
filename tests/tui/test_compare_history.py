"""Pilot tests of the compare screen's metric-history view: lines arriving run by run with progress,
type-to-filter metric choice, x axis / log / EMA toggles, runs missing the metric, nothing to draw."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest
from compare_helpers import CompareHostApp
from helpers import settle
from runyard import TrackingClient
from runyard.tui.widgets.plots.history_plot import HistoryView

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


def history_of(app: CompareHostApp) -> HistoryView:
    """The history view of the open compare screen."""
    return app.compare.query_one(HistoryView)


def fetched_axes(view: HistoryView) -> set[str]:
    """The x axes ('step' or 'time') the drawn histories were bucketed on."""
    return {series.history.x_axis for series in view.plot.series.values()}


async def wait_until(pilot: Any, condition: Any, rounds: int = 500) -> None:
    """Let messages be handled until condition() holds (bounded, no sleeping)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause()
    raise AssertionError("condition never became true")


async def test_lines_appear_run_by_run_with_progress_while_the_rest_load(store: Store) -> None:
    client, ids = store
    release = threading.Event()
    real_fetch = client.get_metric_history_downsampled
    fetched: list[str] = []

    def slow_after_first(run_id: str, key: str, max_points: int, **kwargs: Any) -> Any:
        if fetched:
            release.wait(timeout=30)
        fetched.append(run_id)
        return real_fetch(run_id, key, max_points, **kwargs)

    client.get_metric_history_downsampled = slow_after_first
    runs = [ids["baseline"], ids["wide-resnet"], ids["tuned"], ids["bert-base"]]
    app = CompareHostApp(client, runs, initial_view="history")
    async with app.run_test(size=(100, 30)) as pilot:
        view = history_of(app)
        await wait_until(pilot, lambda: len(view.plot.series) == 1)
        assert view.plot.key == "loss"  # the default: a loss
        assert view.status_text.startswith("loss · loading 1/3 runs… · 1 without it")
        assert view.plot.message is None  # the first line is drawn already
        legend = str(view.query_one("#history-legend").render())
        assert "baseline" in legend and "tuned" not in legend
        release.set()
        await settle(pilot)
        assert sorted(view.plot.series) == [0, 1, 2]  # bert-base has no loss
        assert view.status_text.startswith("loss · 3 runs · 1 without it")
        legend = str(view.query_one("#history-legend").render())
        assert all(name in legend for name in ("baseline", "wide-resnet", "tuned"))
        assert "bert-base" not in legend
        canvas = view.plot.canvas_text()
        assert "step" in canvas and "loss" in canvas


async def test_typing_filters_the_metric_list_and_draws_the_match(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"], ids["bert-base"]], initial_view="history")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = history_of(app)
        assert view.picker.shown == ["accuracy", "f1", "loss"]
        assert view.picker.highlighted_field == view.plot.key == "loss"  # the list shows what is drawn
        await pilot.press("up", "up")  # the list has the focus: up draws the metric above
        await settle(pilot)
        assert view.plot.key == "accuracy" and sorted(view.plot.series) == [0, 1]
        view.picker.query_one("Input").focus()
        await pilot.press(*"f1")
        await settle(pilot)
        assert view.picker.shown == ["f1"]
        assert view.plot.key == "f1" and sorted(view.plot.series) == [2]
        assert "2 without it" in view.status_text
        await pilot.press("enter", "backspace")  # enter moves to the list: typing no longer filters
        await pilot.pause()
        assert view.picker.shown == ["f1"]


async def test_x_axis_log_and_smoothing_toggles(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"]], initial_view="history")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = history_of(app)
        assert view.plot.x_mode == "step"
        await pilot.press("x")
        await settle(pilot)
        assert view.plot.x_mode == "wall time" and "x: wall time" in view.status_text
        assert len(view.plot.series) == 2 and all(
            s.history.x_axis == "time" for s in view.plot.series.values()
        )
        assert "wall time (UTC)" in view.plot.canvas_text()
        await pilot.press("x")
        await settle(pilot)
        assert view.plot.x_mode == "relative time"
        assert "time since run start" in view.plot.canvas_text()
        await pilot.press("l")
        await pilot.pause()
        assert view.plot.log_y and "log y" in view.status_text
        await pilot.press("plus", "plus")
        await pilot.pause()
        assert "EMA 0.8" in view.status_text
        await pilot.press("minus", "minus", "minus")
        await pilot.pause()
        assert "EMA" not in view.status_text
        await pilot.press("x")
        await settle(pilot)
        assert view.plot.x_mode == "step" and all(
            s.history.x_axis == "step" for s in view.plot.series.values()
        )


async def test_nan_points_are_skipped_and_all_nan_says_so(store: Store) -> None:
    client, ids = store
    for step in range(3):
        client.log_metric(ids["baseline"], "diverged", math.nan, step=step)
        client.log_metric(ids["tuned"], "diverged", math.nan, step=step)
    client.log_metric(ids["tuned"], "loss", math.nan, step=3)
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"]], initial_view="history")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = history_of(app)
        assert view.plot.key == "loss" and view.plot.message is None  # tuned's NaN point is left out
        view.select_metric("diverged")
        await settle(pilot)
        assert view.plot.message == "diverged: every value is NaN or infinite."


async def test_runs_without_any_metric_say_there_is_nothing_to_draw(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids["sweep"], ids["trial-0"]], initial_view="history")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = history_of(app)
        assert view.plot.key == "accuracy" and "1 without it" in view.status_text
    experiment = client.create_experiment("/empty")
    bare = [client.create_run(experiment, run_name=f"bare-{i}").info.run_id for i in range(2)]
    app = CompareHostApp(client, bare, initial_view="history")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = history_of(app)
        assert view.plot.message == "None of the selected runs logged a metric: nothing to draw."
        assert view.plot.canvas_text() == view.plot.message

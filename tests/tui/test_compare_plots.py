"""Pilot tests of the compare screen's scatter, parallel-coordinates and distribution views: field choice
by keys, categorical params, runs missing a value, NaN values, nothing to draw, redraw on resize."""

from __future__ import annotations

import math

import pytest
from compare_helpers import CompareHostApp
from helpers import settle
from runyard import TrackingClient
from runyard.tui.widgets.plots.compare_plot import MISSING_COLOUR
from runyard.tui.widgets.plots.distribution_plot import DistributionView
from runyard.tui.widgets.plots.parallel_plot import ParallelView
from runyard.tui.widgets.plots.scatter_plot import ScatterView

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]
RUNS = ("baseline", "wide-resnet", "tuned", "stalled", "trial-0")  # trial-0: no optimizer, no loss


async def pick(pilot: object, view: ScatterView | ParallelView | DistributionView, text: str) -> None:
    """Type text into the view's filter, then move into the list (its first match highlighted)."""
    field = view.picker.query_one("Input")
    field.focus()
    field.value = ""
    await pilot.press(*text, "down")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_scatter_numeric_and_categorical_axes_labelled_with_run_names(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids[name] for name in RUNS], initial_view="scatter")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(ScatterView)
        assert (view.x_field, view.y_field) == ("params.lr", "metrics.loss")
        plot = view.plot
        assert [p.label for p in plot.points] == ["baseline", "wide-resnet", "tuned", "stalled"]
        assert [p.x for p in plot.points] == [0.1, 0.01, 0.003, 0.05]  # params parsed as numbers
        assert "4 of 5 runs" in view.status_text
        canvas = plot.canvas_text()
        assert "baseline" in canvas and "params.lr" in canvas and "metrics.loss" in canvas
        await pick(pilot, view, "optim")
        await pilot.press("x")
        await pilot.pause()
        assert view.x_field == "params.optimizer" and plot.x_axis is not None
        assert plot.x_axis.categories == ["adam", "sgd"]
        assert "params.optimizer (categorical)" in view.status_text
        canvas = plot.canvas_text()
        assert "adam" in canvas and "sgd" in canvas
        await pilot.press("s")
        await pilot.pause()
        assert (view.x_field, view.y_field) == ("metrics.loss", "params.optimizer")


async def test_scatter_says_when_an_axis_has_no_number(store: Store) -> None:
    client, ids = store
    for name in ("baseline", "tuned"):
        client.log_metric(ids[name], "diverged", math.nan, step=0)
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"]], initial_view="scatter")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(ScatterView)
        await pick(pilot, view, "diverged")
        await pilot.press("y")
        await pilot.pause()
        assert view.plot.message == "No selected run has a number for metrics.diverged: nothing to draw."
        assert "nothing to draw" in view.status_text


async def test_parallel_axes_categories_colour_and_missing_values(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids[name] for name in RUNS], initial_view="parallel")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(ParallelView)
        assert view.axis_fields == ["params.lr", "params.optimizer", "metrics.loss"]
        assert view.colour_field == "metrics.loss"
        plot = view.plot
        canvas = plot.canvas_text()
        for label in ("lr", "optimizer", "loss", "adam", "sgd", "0.1", "0.003", "0.9", "0.17"):
            assert label in canvas, label
        trial = next(line for line in plot.lines if line.label == "trial-0")
        assert trial.values[1:] == (None, None) and trial.colour == MISSING_COLOUR
        best = next(line for line in plot.lines if line.label == "tuned")
        worst = next(line for line in plot.lines if line.label == "stalled")
        assert best.values[2] == 0.0 and worst.values[2] == 1.0 and best.colour != worst.colour
        assert "colour: loss" in view.legend_text
        await pick(pilot, view, "accuracy")
        await pilot.press("c")
        await pilot.pause()
        assert view.colour_field == "metrics.accuracy" and "colour: accuracy" in view.legend_text
        await pilot.press("space")  # accuracy becomes the fourth axis
        await pilot.pause()
        assert view.axis_fields[-1] == "metrics.accuracy"
        for field in ("params.lr", "params.optimizer", "metrics.loss"):
            await pick(pilot, view, field)
            await pilot.press("space")
            await pilot.pause()
        assert view.axis_fields == ["metrics.accuracy"]
        assert plot.message == "Choose at least two axes: highlight a param or metric and press space."


async def test_distribution_box_plot_grouped_by_a_param_counts_nan_and_missing(store: Store) -> None:
    client, ids = store
    client.log_metric(ids["stalled"], "loss", math.nan, step=3)
    app = CompareHostApp(client, [ids[name] for name in RUNS], initial_view="distribution")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(DistributionView)
        plot = view.plot
        assert view.metric_field == "metrics.loss"
        assert [(g.name, sorted(g.values)) for g in plot.groups] == [("all runs", [0.17, 0.21, 0.52])]
        assert view.status_text == "metrics.loss · 1 without it · 1 NaN/inf, not drawn"
        await pick(pilot, view, "optimizer")
        await pilot.press("g")
        await pilot.pause()
        assert [(g.name, len(g.values)) for g in plot.groups] == [("adam", 2), ("sgd", 1)]
        canvas = plot.canvas_text()
        assert "adam (n=2)" in canvas and "sgd (n=1)" in canvas and "optimizer" in canvas
        await pilot.press("G")
        await pilot.pause()
        assert [g.name for g in plot.groups] == ["all runs"]
        await pick(pilot, view, "lr")
        await pilot.press("g")  # group by lr, and trial-0 (no loss) still left out
        await pilot.pause()
        assert [g.name for g in plot.groups] == ["0.003", "0.01", "0.1"]


async def test_distribution_of_a_metric_with_only_nan_says_so(store: Store) -> None:
    client, ids = store
    for name in ("baseline", "tuned"):
        client.log_metric(ids[name], "diverged", math.nan, step=0)
    app = CompareHostApp(client, [ids["baseline"], ids["tuned"]], initial_view="distribution")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(DistributionView)
        await pick(pilot, view, "diverged")
        await pilot.press("enter")
        await pilot.pause()
        assert view.plot.message == (
            "The selected runs have only NaN or infinite values for metrics.diverged: nothing to draw."
        )


async def test_plots_redraw_to_the_new_size_and_keys_switch_views(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids[name] for name in RUNS])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.compare.current_view == "tables"
        for key, view in (("2", "history"), ("3", "scatter"), ("4", "parallel"), ("5", "distribution")):
            await pilot.press(key)
            await pilot.pause()
            assert app.compare.current_view == view
        await pilot.press("3")
        await pilot.pause()
        plot = app.compare.query_one(ScatterView).plot
        before = plot.canvas_text().splitlines()
        await pilot.resize_terminal(140, 40)
        await settle(pilot)
        after = plot.canvas_text().splitlines()
        assert len(after) > len(before) and len(after[0]) > len(before[0])
        await pilot.press("1")
        await pilot.pause()
        assert app.compare.current_view == "tables"

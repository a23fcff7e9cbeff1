"""Pilot tests of compare plots on awkward data: log axes across a resize, one diverged run, a constant
field, infinite values, a continuous param to group by."""

from __future__ import annotations

import pytest
from compare_helpers import CompareHostApp
from helpers import settle
from runyard import TrackingClient
from runyard.tui.widgets.plots.compare_plot import ComparePlot, Legend, RunLegend
from runyard.tui.widgets.plots.distribution_plot import DistributionView
from runyard.tui.widgets.plots.history_plot import HistoryView
from runyard.tui.widgets.plots.parallel_plot import ParallelView
from runyard.tui.widgets.plots.scatter_plot import ScatterView
from textual.pilot import Pilot

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]
RUNS = ("baseline", "wide-resnet", "deep-resnet", "tuned", "live", "stalled")


def y_labels(plot: ComparePlot) -> list[str]:
    """The y tick labels as drawn (the text left of each '┤')."""
    return [line.split("┤")[0].strip() for line in plot.canvas_text().splitlines() if "┤" in line]


def add_diverged(client: TrackingClient, ids: dict[str, str]) -> None:
    """val_loss near 0.3 for five runs; 'stalled' diverged to 1e5."""
    for offset, name in enumerate(RUNS):
        for step in range(3):
            value = 1e5 if name == "stalled" and step == 2 else 0.3 + offset / 100 - step / 100
            client.log_metric(ids[name], "val_loss", value, step=step)


async def choose(pilot: Pilot[None], view: ScatterView | DistributionView | HistoryView, text: str) -> None:
    """Type text into the view's filter and move into the list (its first match highlighted)."""
    field = view.picker.query_one("Input")
    field.focus()
    field.value = ""
    await pilot.press(*text, "down")
    await settle(pilot)


async def test_log_axes_survive_a_resize(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids[name] for name in RUNS], initial_view="history")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        compare = app.compare
        checks: list[tuple[str, ComparePlot, list[str]]] = []
        for key, view_type, log_key in (
            ("2", HistoryView, "l"),
            ("3", ScatterView, "L"),
            ("5", DistributionView, "l"),
        ):
            await pilot.press(key)
            await settle(pilot)
            await pilot.press(log_key)
            await settle(pilot)
            plot = compare.query_one(view_type).plot
            assert "(log)" in plot.canvas_text()
            checks.append((key, plot, y_labels(plot)))
        await pilot.resize_terminal(130, 40)  # re-renders every figure without a new plot()
        await settle(pilot)
        for key, plot, before in checks:
            await pilot.press(key)
            await settle(pilot)
            assert y_labels(plot) == before and "(log)" in plot.canvas_text()
        assert checks[0][2][-1] in ("0.1", "1")  # decades, not the log of a log


async def test_one_diverged_run_is_clipped_and_o_shows_it(store: Store) -> None:
    client, ids = store
    add_diverged(client, ids)
    app = CompareHostApp(client, [ids[name] for name in RUNS], initial_view="history")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        history = app.compare.query_one(HistoryView)
        await choose(pilot, history, "val_loss")
        canvas = history.plot.canvas_text()
        assert "clipped: 1 beyond (o: show all)" in canvas and "▲" in canvas
        assert max(float(label) for label in y_labels(history.plot)) < 1
        await pilot.press("o")
        await settle(pilot)
        assert "clipped" not in history.plot.canvas_text()
        assert max(float(label) for label in y_labels(history.plot)) >= 1e5

        await pilot.press("3")
        await settle(pilot)
        scatter = app.compare.query_one(ScatterView)
        await choose(pilot, scatter, "val_loss")
        await pilot.press("y")
        await settle(pilot)
        canvas = scatter.plot.canvas_text()
        assert "clipped: 1 beyond" in canvas and "▲" in canvas and "clipped: 1 beyond" in scatter.status_text
        assert max(float(label) for label in y_labels(scatter.plot)) < 1

        await pilot.press("5")
        await settle(pilot)
        distribution = app.compare.query_one(DistributionView)
        await choose(pilot, distribution, "val_loss")
        await pilot.press("enter")
        await settle(pilot)
        assert "clipped: 1 beyond" in distribution.plot.canvas_text()
        assert max(float(label) for label in y_labels(distribution.plot)) < 1
        await pilot.press("o")
        await settle(pilot)
        assert max(float(label) for label in y_labels(distribution.plot)) >= 1e5

        await pilot.press("4")
        await settle(pilot)
        parallel = app.compare.query_one(ParallelView)
        parallel.colour_field = "metrics.val_loss"
        parallel.redraw()
        await settle(pilot)
        assert (
            "colour: val_loss  0.28 " in parallel.legend_text and "clipped: 1 beyond" in parallel.legend_text
        )


def x_labels(plot: ComparePlot) -> str:
    """The line of x tick labels (under the frame's bottom edge)."""
    lines = plot.canvas_text().splitlines()
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return lines[bottom + 1]


async def test_scatter_of_a_constant_field_and_infinities(store: Store) -> None:
    client, ids = store
    for name in RUNS:
        client.log_param(ids[name], "epochs", "2000")
    client.log_metric(ids["tuned"], "loss", 0.21, step=3)  # tuned and wide-resnet share a point
    client.log_metric(ids["live"], "loss", float("inf"), step=3)
    app = CompareHostApp(client, [ids[name] for name in RUNS], initial_view="scatter")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(ScatterView)
        await choose(pilot, view, "epochs")
        await pilot.press("x")
        await settle(pilot)
        assert (view.x_field, view.y_field) == ("params.epochs", "metrics.loss")
        labels = x_labels(view.plot).split()
        assert "2000" in labels and all("." not in label for label in labels)  # not 2000.013
        canvas = view.plot.canvas_text()
        assert "1 with NaN/inf not drawn" in canvas and "1 with NaN/inf not drawn" in view.status_text
        assert "tuned" in canvas and "wide-resnet" in canvas  # two names at one point, both readable


async def test_distribution_grouped_by_a_continuous_param_uses_quantile_bins(store: Store) -> None:
    client, ids = store
    experiment = client.create_experiment("/sweep/lr")
    run_ids = []
    for index in range(54):
        run = client.create_run(experiment, run_name=f"lr-{index}", start_time=1_000 + index)
        client.log_batch(run.info.run_id, params={"lr": f"{0.0001 * (index + 1):.4f}"})
        client.log_metric(run.info.run_id, "loss", 1.0 - index / 100, step=0)
        run_ids.append(run.info.run_id)
    app = CompareHostApp(client, run_ids, initial_view="distribution")
    async with app.run_test(size=(160, 32)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(DistributionView)
        await choose(pilot, view, "lr")
        await pilot.press("g")
        await settle(pilot)
        groups = view.plot.groups
        assert len(groups) == 8 and sum(len(g.values) for g in groups) == 54
        assert [g.name for g in groups][::7] == ["≤0.0007", "≤0.0054"]
        assert "grouped by params.lr (8 quantile bins)" in view.status_text
        canvas = view.plot.canvas_text()
        assert "≤0.0007" in canvas and "≤0.0054" in canvas and "…" not in canvas


async def test_colours_stay_distinct_past_ten_runs(store: Store) -> None:
    client, _ = store
    experiment = client.create_experiment("/many")
    run_ids = []
    for index in range(14):
        run = client.create_run(experiment, run_name=f"r{index}", start_time=1_000 + index)
        client.log_metric(run.info.run_id, "loss", 1.0 + index / 10, step=0)
        run_ids.append(run.info.run_id)
    app = CompareHostApp(client, run_ids, initial_view="history")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        legend = app.compare.query_one("#history-legend", Legend).render()
        plain, spans = legend.plain, legend.spans
        swatches = {str(span.style) for span in spans if plain[span.start] == "■"}
        assert len(swatches) == 14  # one colour per run, none reused


async def test_legend_space_hides_a_run_and_i_isolates_it(store: Store) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids[name] for name in RUNS], initial_view="history")
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(HistoryView)
        legend = view.query_one(RunLegend)
        legend.focus()
        await pilot.press("right", "space")  # hide wide-resnet
        await settle(pilot)
        assert "□\u00a0wide-resnet" in str(legend.render()) and "1 hidden" in view.status_text
        assert view.plot.hidden == {1}
        await pilot.press("space")  # show it again
        await settle(pilot)
        assert "□" not in str(legend.render()) and "hidden" not in view.status_text
        await pilot.press("i")  # only wide-resnet
        await settle(pilot)
        assert str(legend.render()).count("□") == len(RUNS) - 1 and view.plot.hidden == {0, 2, 3, 4, 5}
        await pilot.press("i")  # every run again
        await settle(pilot)
        assert not view.plot.hidden and "□" not in str(legend.render())


@pytest.mark.parametrize("view_kind", ["scatter", "parallel"])
async def test_scatter_and_parallel_runs_legend_hides_and_isolates_runs(store: Store, view_kind: str) -> None:
    client, ids = store
    app = CompareHostApp(client, [ids[name] for name in RUNS], initial_view=view_kind)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        view_type = ScatterView if view_kind == "scatter" else ParallelView
        view = app.compare.query_one(view_type)
        legend = view.query_one(RunLegend)
        drawn_before = _drawn(view)
        assert len(drawn_before) == len(RUNS) and "□" not in str(legend.render())
        legend.focus()
        await pilot.press("right", "space")  # hide wide-resnet
        await settle(pilot)
        assert "□\u00a0wide-resnet" in str(legend.render()) and "1 hidden" in view.status_text
        assert _drawn(view) == [i for i in drawn_before if i != 1]
        await pilot.press("i")  # only wide-resnet
        await settle(pilot)
        assert _drawn(view) == [1] and str(legend.render()).count("□") == len(RUNS) - 1
        await pilot.press("i")  # every run again
        await settle(pilot)
        assert _drawn(view) == drawn_before and "hidden" not in view.status_text


def _drawn(view: ScatterView | ParallelView) -> list[int]:
    """The run indexes the chart draws."""
    if isinstance(view, ScatterView):
        return sorted(point.index for point in view.plot.points)
    return sorted(line.index for line in view.plot.lines)


async def test_history_says_how_many_nan_and_inf_points_it_left_out(store: Store) -> None:
    client, ids = store
    for step, value in enumerate([0.5, float("nan"), 0.4, float("inf"), 0.3]):
        client.log_metric(ids["live"], "gap", value, step=step)
    client.log_metric(ids["tuned"], "gap", 0.45, step=0)
    app = CompareHostApp(client, [ids["live"], ids["tuned"]], initial_view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        view = app.compare.query_one(HistoryView)
        await choose(pilot, view, "gap")
        await pilot.press("enter")
        await settle(pilot)
        assert view.plot.key == "gap"
        assert "2 NaN/inf points not drawn" in view.plot.canvas_text()
        assert "2 NaN/inf points not drawn" in view.status_text

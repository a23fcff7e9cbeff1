"""HistoryView: one metric's history for every compared run, one coloured line per run with a legend.

A type-to-filter list of metric keys on the left; the chart on the right. One worker fetches the runs'
histories one after another, already downsampled by the core (TrackingClient.get_metric_history_downsampled,
the same path as the run-details chart), and posts each run's history as it arrives, so the lines appear
one by one and a progress count shows meanwhile; choosing another metric cancels the worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runyard import TrackingClient
from runyard.entities import DownsampledHistory
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from ...workers import cancelled, post_outcome
from ..compare_values import CompareData, default_metric
from ..field_picker import FieldPicker
from .compare_plot import ComparePlot, RunLegend, run_colour
from .metric_chart import EMA_WEIGHTS, X_MODES, _finite_pairs, beyond_markers, ema, x_ticks
from .plot_axes import clip_note, value_scale

X_LABELS = {"step": "step", "wall time": "wall time (UTC)", "relative time": "time since run start"}


@dataclass(frozen=True)
class Series:
    """One run's fetched history and what is needed to draw it."""

    index: int  # the run's position among the compared runs (its colour)
    label: str
    start_ms: int
    history: DownsampledHistory


class HistoryPlot(ComparePlot):
    """Draws the fetched histories of one metric: x step / wall time / relative time, log y, EMA."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key: str | None = None
        self.series: dict[int, Series] = {}
        self.x_mode = "step"
        self.log_y = False
        self.ema_index = 0
        self.clip = True  # the y axis cut to robust bounds (o toggles)
        self.hidden: frozenset[int] = frozenset()  # runs hidden from the legend (space / i)
        self.beyond = 0  # points drawn at the edge by the clipping
        self.non_finite = 0  # NaN / inf points of the drawn runs, left out of the lines (said in the title)

    @property
    def ema_weight(self) -> float:
        """The current smoothing weight (0 = raw)."""
        return EMA_WEIGHTS[self.ema_index]

    def start(self, key: str) -> None:
        """Forget the drawn lines: a new metric (or axis) is loading."""
        self.key = key
        self.series = {}
        self.message = f"Loading {key}…"
        self.plt.clear_figure()
        self.refresh()

    def add(self, series: Series) -> None:
        """Draw one more run's line."""
        self.series[series.index] = series
        self.plot()

    def _xs(self, series: Series) -> list[float]:
        history = series.history
        if self.x_mode == "step":
            return [float(step) for step in history.steps]
        if self.x_mode == "wall time":
            return [ts / 1000.0 for ts in history.timestamps]
        return [(ts - series.start_ms) / 1000.0 for ts in history.timestamps]

    def plot(self) -> None:
        """Rebuild the figure from the fetched histories."""
        plt = self.plt
        plt.clear_figure()
        drawable = [s for i, s in sorted(self.series.items()) if s.history.steps and i not in self.hidden]
        if self.key is None or not drawable:
            if self.key is not None and set(self.series) <= self.hidden:
                self.message = "Every run is hidden: space on a legend entry shows it again."
            elif self.key is not None and self.series:  # histories arrived, all empty
                self.message = f"{self.key}: the runs logged no points."
            self.refresh()
            return
        lines: list[tuple[int, list[float], list[float]]] = []
        self.non_finite = sum(1 for s in drawable for v in s.history.values if not math.isfinite(v))
        for series in drawable:
            xs = self._xs(series)
            values = list(series.history.values)
            if self.x_mode != "step":
                order = sorted(range(len(xs)), key=xs.__getitem__)
                xs = [xs[i] for i in order]
                values = [values[i] for i in order]
            if self.ema_weight:
                values = ema(values, self.ema_weight)
            px, py = _finite_pairs(xs, values, self.log_y)
            if px:
                lines.append((series.index, px, py))
        self.beyond = 0
        if not lines:
            self.message = (
                f"{self.key}: no positive values to draw on a log axis (press l)."
                if self.log_y
                else f"{self.key}: every value is NaN or infinite."
            )
            self.refresh()
            return
        self.message = None
        drawn = [y for _, _, ys in lines for y in ys]
        scale = value_scale(drawn, self.log_y, self.clip)
        self.beyond = scale.beyond(drawn)
        all_xs: list[float] = []
        for index, xs, ys in lines:  # lists built per plot(): plotext never keeps data between renders
            all_xs += xs
            plt.plot(xs, [scale.position(y) for y in ys], marker="braille", color=run_colour(index))
        if scale.clipped:
            for _, xs, ys in lines:
                beyond_markers(plt, scale, xs, ys)
        plt.ylim(*scale.limits(drawn))
        plt.yticks(*scale.ticks(drawn))
        notes = [clip_note(self.beyond)] if self.beyond else []
        if self.non_finite:
            notes.append(non_finite_note(self.non_finite))
        if notes:
            plt.title(" · ".join(notes))
        plt.xticks(*x_ticks(self.x_mode, all_xs))
        plt.xlabel(X_LABELS[self.x_mode])
        plt.ylabel(self.key + (" (log)" if self.log_y else ""))
        self.refresh()


def non_finite_note(count: int) -> str:
    """Says how many NaN / infinite points a chart left out."""
    return f"{count:,} NaN/inf point{'s' if count != 1 else ''} not drawn"


class HistoryView(Horizontal):
    """Metric keys (type to filter) and the chart of the highlighted one for every compared run."""

    COMMAND_AREA = "History"

    DEFAULT_CSS = """
    HistoryView { height: 1fr; }
    HistoryView > Vertical { width: 1fr; }
    HistoryView .plot-status { height: 1; padding: 0 1; background: $boost; }
    """

    BINDINGS = [
        Binding("x", "cycle_x", "X axis", id="history.x_axis", tooltip="step, wall time, relative time"),
        Binding("l", "toggle_log", "Log y", id="history.log_y"),
        Binding(
            "o",
            "toggle_clip",
            "Outliers",
            show=False,  # in the hint line and ? help: the footer keeps its room
            id="history.clip",
            tooltip="Clip y to the bulk of the values, or show all",
        ),
        Binding("plus,equals_sign", "smooth(1)", "Smooth +", id="history.smooth_more"),
        Binding("minus", "smooth(-1)", "Smooth -", id="history.smooth_less"),
    ]

    class HistoryLoaded(Message):
        """A worker fetched one run's downsampled history of the metric being drawn."""

        def __init__(self, generation: int, index: int, history: DownsampledHistory) -> None:
            self.generation = generation
            self.index = index
            self.history = history
            super().__init__()

    class HistoryFailed(Message):
        """Fetching one run's history raised a runyard error."""

        def __init__(self, generation: int, index: int, error: str) -> None:
            self.generation = generation
            self.index = index
            self.error = error
            super().__init__()

    def __init__(self, client: TrackingClient, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.compare_data: CompareData | None = None
        self.generation = 0
        self.expected: list[int] = []  # run indexes being fetched for the current metric
        self.failed: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        """Metric list, status line, chart, legend."""
        yield FieldPicker("/ filter metrics", id="history-metrics")
        with Vertical():
            yield Static("", classes="plot-status", id="history-status")
            yield HistoryPlot(id="history-plot")
            yield RunLegend(id="history-legend")

    @property
    def plot(self) -> HistoryPlot:
        """The chart."""
        return self.query_one(HistoryPlot)

    @property
    def picker(self) -> FieldPicker:
        """The metric list."""
        return self.query_one(FieldPicker)

    def set_data(self, data: CompareData) -> None:
        """The compared runs arrived: offer their metrics and draw the first one."""
        self.compare_data = data
        keys = data.metric_keys
        chosen = self.plot.key if self.plot.key in keys else default_metric(keys)
        self.picker.set_fields(keys, chosen)
        if not keys or chosen is None:
            self.plot.key = None
            self.plot.show_message("None of the selected runs logged a metric: nothing to draw.")
            self._status("no metrics")
            return
        self.select_metric(chosen)

    @property
    def max_points(self) -> int:
        """Buckets per run: one per cell of the chart's width (overlaid lines need no finer), at least 64."""
        return max(64, self.plot.size.width)

    def _x_axis(self) -> str:
        return "step" if self.plot.x_mode == "step" else "time"

    def select_metric(self, key: str) -> None:
        """Fetch and draw this metric for every run that logged it."""
        data = self.compare_data
        if data is None:
            return
        self.generation += 1
        self.failed = {}
        self.expected = [i for i, run in enumerate(data.runs) if key in run.run.data.metric_summaries]
        self.plot.start(key)
        self._update_status()
        run_ids = [data.runs[i].run_id for i in self.expected]
        self.load_histories(self.generation, key, self._x_axis(), self.expected, run_ids, self.max_points)

    @work(thread=True, exclusive=True, group="compare-history", exit_on_error=False)
    def load_histories(
        self,
        generation: int,
        key: str,
        x_axis: str,
        indexes: list[int],
        run_ids: list[str],
        max_points: int,
    ) -> None:
        """Fetch the runs' downsampled histories one after another, posting each as it arrives."""
        for index, run_id in zip(indexes, run_ids, strict=True):
            if cancelled():  # a newer metric or axis was chosen: stop here
                return
            self._post_history(generation, index, run_id, key, x_axis, max_points)

    def _post_history(
        self, generation: int, index: int, run_id: str, key: str, x_axis: str, max_points: int
    ) -> None:
        """In the worker: fetch one run's history and post it (or why it failed)."""
        post_outcome(
            self,
            lambda: self.client.get_metric_history_downsampled(run_id, key, max_points, x_axis=x_axis),
            lambda history: self.HistoryLoaded(generation, index, history),
            lambda error: self.HistoryFailed(generation, index, error),
        )

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        if message.generation != self.generation or self.compare_data is None:
            return
        run = self.compare_data.runs[message.index]
        timestamps = message.history.timestamps
        start = run.run.info.start_time or (timestamps[0] if timestamps else 0)
        self.plot.add(Series(message.index, run.label, start, message.history))
        self._update_status()

    @on(HistoryFailed)
    def _history_failed(self, message: HistoryFailed) -> None:
        if message.generation != self.generation:
            return
        self.failed[message.index] = message.error
        self._update_status()

    @property
    def histories_loading(self) -> bool:
        """True while some run's history of the current metric is still being fetched."""
        return len(self.plot.series) + len(self.failed) < len(self.expected)

    def _update_status(self) -> None:
        data, plot = self.compare_data, self.plot
        if data is None or plot.key is None:
            return
        parts = [plot.key]
        done = len(plot.series) + len(self.failed)
        if self.histories_loading:
            parts.append(f"loading {done}/{len(self.expected)} runs…")
        else:
            parts.append(f"{len(plot.series)} runs")
        missing = len(data.runs) - len(self.expected)
        if missing:
            parts.append(f"{missing} without it")
        if self.failed:
            parts.append(f"{len(self.failed)} failed: {next(iter(self.failed.values()))}")
        parts.append(f"x: {plot.x_mode}")
        if plot.log_y:
            parts.append("log y")
        if plot.ema_weight:
            parts.append(f"EMA {plot.ema_weight:g}")
        if plot.beyond:
            parts.append(clip_note(plot.beyond))
        if plot.non_finite:
            parts.append(non_finite_note(plot.non_finite))
        hidden = len(plot.hidden & set(plot.series))
        if hidden:
            parts.append(f"{hidden} hidden (legend: space / i)")
        self._status(" · ".join(parts))
        entries = [(i, data.runs[i].label, run_colour(i)) for i in sorted(plot.series)]
        self.query_one(RunLegend).set_entries(entries)

    def _status(self, text: str) -> None:
        self.query_one("#history-status", Static).update(text)

    @property
    def status_text(self) -> str:
        """The status line as shown (for tests)."""
        return str(self.query_one("#history-status", Static).render())

    @on(FieldPicker.Highlighted, "#history-metrics")
    @on(FieldPicker.Chosen, "#history-metrics")
    def _metric_picked(self, message: FieldPicker.Highlighted | FieldPicker.Chosen) -> None:
        if message.field != self.plot.key:
            self.select_metric(message.field)

    def action_cycle_x(self) -> None:
        """Step -> wall time -> relative time; refetch when switching between step and time buckets."""
        before = self._x_axis()
        plot = self.plot
        plot.x_mode = X_MODES[(X_MODES.index(plot.x_mode) + 1) % len(X_MODES)]
        if plot.key is not None and before != self._x_axis():
            self.select_metric(plot.key)
        else:
            plot.plot()
            self._update_status()

    def action_toggle_log(self) -> None:
        """Linear <-> log y."""
        self.plot.log_y = not self.plot.log_y
        self.plot.plot()
        self._update_status()

    def action_toggle_clip(self) -> None:
        """Clip the y axis to robust bounds (outliers marked at the edge) or show every value."""
        self.plot.clip = not self.plot.clip
        self.plot.plot()
        self._update_status()

    @on(RunLegend.Changed)
    def _legend_changed(self, message: RunLegend.Changed) -> None:
        self.plot.hidden = message.hidden
        self.plot.plot()
        self._update_status()

    def action_smooth(self, direction: int) -> None:
        """More (+1) or less (-1) EMA smoothing."""
        plot = self.plot
        plot.ema_index = min(max(plot.ema_index + direction, 0), len(EMA_WEIGHTS) - 1)
        plot.plot()
        self._update_status()

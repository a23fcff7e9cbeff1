"""MetricChart: one metric's downsampled history drawn with plotext; MetricsPanel: summary table + chart.

The chart never queries the store: MetricsPanel's workers fetch a DownsampledHistory from the core
(already cut to about twice the chart's width, with per-bucket min and max) and `plot()` only draws
it. While the run is RUNNING the panel fetches just the points newer than the last drawn step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from runyard import MetricSummary, TrackingClient
from runyard.entities import DownsampledHistory
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ...formatting import duration
from ...formatting import number as format_number
from ...messages import ErrorMessage
from ...workers import post_outcome
from ..tables.kv_table import KVRow, KVTable
from .plot_axes import ABOVE, BELOW, ValueScale, clip_note, value_scale

X_MODES = ("step", "wall time", "relative time")
EMA_WEIGHTS = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)


def ema(values: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average (TensorBoard's smoothing, debiased); NaN points stay NaN."""
    if weight <= 0:
        return list(values)
    smoothed: list[float] = []
    last, debias_steps = 0.0, 0
    for value in values:
        if not math.isfinite(value):
            smoothed.append(value)
            continue
        debias_steps += 1
        last = last * weight + (1 - weight) * value
        smoothed.append(last / (1 - weight**debias_steps))
    return smoothed


def _finite_pairs(xs: Sequence[float], ys: Sequence[float], log_y: bool) -> tuple[list[float], list[float]]:
    """Points plotext can draw: finite, and positive on a log axis."""
    keep_x: list[float] = []
    keep_y: list[float] = []
    for x, y in zip(xs, ys, strict=False):
        if math.isfinite(y) and (not log_y or y > 0):
            keep_x.append(x)
            keep_y.append(y)
    return keep_x, keep_y


def beyond_markers(plt: Any, scale: ValueScale, xs: Sequence[float], ys: Sequence[float]) -> None:
    """▲ / ▼ at the edge where values lie beyond the clip bounds (shared with the compare charts)."""
    for side, marker in ((1, ABOVE), (-1, BELOW)):
        px = [x for x, y in zip(xs, ys, strict=True) if scale.side(y) == side]
        edge = scale.high if side > 0 else scale.low
        if px and edge is not None:
            plt.scatter(px, [scale.position(edge)] * len(px), marker=marker, color="red")


class MetricChart(PlotextPlot):
    """Draws the history it was given: last value per bucket as a line, min and max as a faint band."""

    DEFAULT_CSS = """
    MetricChart { height: 18; min-height: 10; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history: DownsampledHistory | None = None
        self.run_start_ms: int = 0
        self.x_mode = "step"
        self.log_y = False
        self.ema_index = 0
        self.clip = True  # the y axis cut to robust bounds (o toggles)
        self.beyond = 0  # points drawn at the edge by the clipping
        self.message_text = "Select a metric above (enter) to draw its history."

    @property
    def ema_weight(self) -> float:
        """The current smoothing weight (0 = raw)."""
        return EMA_WEIGHTS[self.ema_index]

    def show(self, history: DownsampledHistory | None, run_start_ms: int = 0) -> None:
        """Draw this (already downsampled) history."""
        self.history = history
        self.run_start_ms = run_start_ms
        self.plot()

    def describe(self) -> str:
        """A one-line summary of what is drawn, for the title and the tests."""
        if self.history is None:
            return self.message_text
        parts = [self.history.key, f"x: {self.x_mode}"]
        if self.log_y:
            parts.append("log y")
        if self.ema_weight:
            parts.append(f"EMA {self.ema_weight:g}")
        parts.append(f"{self.history.total_points:,} points in {len(self.history):,} buckets")
        if self.beyond:
            parts.append(clip_note(self.beyond))
        return " · ".join(parts)

    def _xs(self, history: DownsampledHistory) -> list[float]:
        if self.x_mode == "step":
            return [float(step) for step in history.steps]
        if self.x_mode == "wall time":
            return [ts / 1000.0 for ts in history.timestamps]
        return [(ts - self.run_start_ms) / 1000.0 for ts in history.timestamps]

    def plot(self) -> None:
        """Rebuild the plotext figure from the fetched history (no store access here).

        Every list handed to plotext is built here, in plot coordinates (log10 and clipping applied by
        ValueScale), so a re-render without a new plot() (a resize) draws the same figure."""
        plt = self.plt
        plt.clear_figure()
        history = self.history
        self.beyond = 0
        if history is None or not history.steps:
            plt.title(self.message_text if history is None else f"{history.key}: no points")
            self.refresh()
            return
        xs = self._xs(history)
        if self.x_mode != "step":
            order = sorted(range(len(xs)), key=xs.__getitem__)
            xs = [xs[i] for i in order]
            values = [history.values[i] for i in order]
            mins = [history.mins[i] for i in order]
            maxs = [history.maxs[i] for i in order]
        else:
            values, mins, maxs = list(history.values), list(history.mins), list(history.maxs)
        lines: list[tuple[list[float], list[float], str | None]] = []
        if any(count > 1 for count in history.counts):
            lines.append((*_finite_pairs(xs, maxs, self.log_y), "gray"))
            lines.append((*_finite_pairs(xs, mins, self.log_y), "gray"))
        if self.ema_weight:
            lines.append((*_finite_pairs(xs, values, self.log_y), "gray"))
            lines.append((*_finite_pairs(xs, ema(values, self.ema_weight), self.log_y), None))
        else:
            lines.append((*_finite_pairs(xs, values, self.log_y), None))
        drawn = [y for _, ys, _ in lines for y in ys]
        if not drawn:
            plt.title(f"{history.key}: no positive values to draw on a log axis (press l)")
            self.refresh()
            return
        scale = value_scale(drawn, self.log_y, self.clip)
        # points beyond: buckets whose last value, maximum or minimum lies outside the bounds
        outside = {x for line_xs, ys, _ in lines for x, y in zip(line_xs, ys, strict=True) if scale.side(y)}
        self.beyond = len(outside)
        for line_xs, line_ys, colour in lines:
            plot_ys = [scale.position(y) for y in line_ys]
            if colour is None:
                plt.plot(line_xs, plot_ys, marker="braille")
            else:
                plt.plot(line_xs, plot_ys, marker="braille", color=colour)
        if scale.clipped:
            for line_xs, line_ys, _ in lines:
                beyond_markers(plt, scale, line_xs, line_ys)
        plt.ylim(*scale.limits(drawn))
        plt.yticks(*scale.ticks(drawn))
        plt.title(self.describe())
        self._time_ticks(xs)
        plt.xlabel(
            {"step": "step", "wall time": "time (UTC)", "relative time": "time since start"}[self.x_mode]
        )
        self.refresh()

    def _time_ticks(self, xs: Sequence[float]) -> None:
        if xs:
            self.plt.xticks(*x_ticks(self.x_mode, xs))


def x_ticks(x_mode: str, xs: Sequence[float]) -> tuple[list[float], list[str]]:
    """Five x ticks and their labels for an X_MODES axis (steps, UTC clock times, durations); shared with
    the compare screen's history chart."""
    lo, hi = min(xs), max(xs)
    ticks = [lo + (hi - lo) * i / 4 for i in range(5)] if hi > lo else [lo]
    if x_mode == "step":
        labels = [f"{round(t):,}" for t in ticks]
    elif x_mode == "wall time":
        labels = [datetime.fromtimestamp(t, tz=UTC).strftime("%H:%M:%S") for t in ticks]
    else:
        labels = [duration(int(t * 1000)) or "0 s" for t in ticks]
    return ticks, labels


class MetricsPanel(Vertical):
    """Metric summaries (key, latest, min, max, steps, last step) and the chart of the chosen metric."""

    COMMAND_AREA = "Chart"

    DEFAULT_CSS = """
    MetricsPanel { height: auto; }
    MetricsPanel > .chart-hint { color: $text-muted; height: 1; padding: 0 1; }
    """

    BINDINGS = [
        Binding("x", "cycle_x", "X axis", id="chart.x_axis"),
        Binding("l", "toggle_log", "Log y", id="chart.log_y"),
        Binding(
            "o",
            "toggle_clip",
            "Outliers",
            show=False,  # in the hint line and ? help: the footer keeps its room
            id="chart.clip",
            tooltip="Clip y to the bulk of the values, or show all",
        ),
        Binding("plus,equals_sign", "smooth(1)", "Smooth +", id="chart.smooth_more"),
        Binding("minus", "smooth(-1)", "Smooth -", id="chart.smooth_less"),
    ]

    class HistoryLoaded(Message):
        """A worker fetched a history (replace) or a newer tail (append)."""

        def __init__(self, key: str, x_axis: str, history: DownsampledHistory, append: bool) -> None:
            self.key = key
            self.x_axis = x_axis
            self.history = history
            self.append = append
            super().__init__()

    class HistoryFailed(ErrorMessage):
        """A history fetch raised a runyard error."""

    def __init__(self, client: TrackingClient, run_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.run_id = run_id
        self.run_start_ms = 0
        self.selected_key: str | None = None

    def compose(self) -> ComposeResult:
        """Summary table, hint line, chart."""
        yield KVTable(
            ["key", "latest", "min", "max", "steps", "last step"], noun="metrics", id="metrics-table"
        )
        yield Static(
            "enter: draw · x: x axis · l: log y · o: outliers · +/-: smoothing", classes="chart-hint"
        )
        yield MetricChart(id="metric-chart")

    @property
    def chart(self) -> MetricChart:
        """The chart widget."""
        return self.query_one(MetricChart)

    @property
    def max_points(self) -> int:
        """Buckets to ask for: two per character cell (braille resolution), at least 100."""
        return max(100, 2 * max(self.chart.size.width, 80))

    def set_summaries(self, rows: Sequence[KVRow], run_start_ms: int) -> None:
        """Show the metric summaries (from the run entity); a loss-like one is drawn until one is chosen."""
        self.run_start_ms = run_start_ms
        table = self.query_one(KVTable)
        table.set_rows(rows)
        if self.selected_key is None and table.shown:
            self.select_metric(default_chart_metric([row.key for row in table.shown]))

    @on(KVTable.RowChosen, "#metrics-table")
    def _metric_chosen(self, event: KVTable.RowChosen) -> None:
        event.stop()
        self.select_metric(event.key)

    def select_metric(self, key: str) -> None:
        """Fetch and draw a metric's history."""
        self.selected_key = key
        self.chart.message_text = f"Loading {key}…"
        self.chart.show(None, self.run_start_ms)
        self.load_history(key, self._x_axis(), None)

    def _x_axis(self) -> str:
        return "step" if self.chart.x_mode == "step" else "time"

    @work(thread=True, exclusive=True, group="metric-history", exit_on_error=False)
    def load_history(self, key: str, x_axis: str, since_step: int | None) -> None:
        """Fetch the downsampled history (or only its newer tail) off the UI thread."""
        post_outcome(
            self,
            lambda: self.client.get_metric_history_downsampled(
                self.run_id, key, self.max_points, x_axis=x_axis, since_step=since_step
            ),
            lambda history: self.HistoryLoaded(key, x_axis, history, append=since_step is not None),
            self.HistoryFailed,
        )

    def refresh_live(self) -> None:
        """Fetch the points newer than those drawn (called by the screen while the run is RUNNING)."""
        history = self.chart.history
        if self.selected_key is None or history is None or history.key != self.selected_key:
            return
        self.load_history(self.selected_key, self._x_axis(), history.last_step)

    def on_metrics_panel_history_loaded(self, message: HistoryLoaded) -> None:
        """Draw what the worker fetched (ignoring answers for another metric or axis)."""
        if message.key != self.selected_key or message.x_axis != self._x_axis():
            return
        current = self.chart.history
        if message.append and current is not None and current.key == message.key:
            self.chart.show(current.extended(message.history, self.max_points), self.run_start_ms)
        else:
            self.chart.show(message.history, self.run_start_ms)

    def on_metrics_panel_history_failed(self, message: HistoryFailed) -> None:
        """Show the error in the chart title."""
        self.chart.message_text = message.error
        self.chart.show(None, self.run_start_ms)

    def action_cycle_x(self) -> None:
        """Step -> wall time -> relative time; refetch when switching between step and time buckets."""
        before = self._x_axis()
        chart = self.chart
        chart.x_mode = X_MODES[(X_MODES.index(chart.x_mode) + 1) % len(X_MODES)]
        if self.selected_key is not None and before != self._x_axis():
            self.load_history(self.selected_key, self._x_axis(), None)
        else:
            chart.plot()

    def action_toggle_log(self) -> None:
        """Linear <-> log y."""
        self.chart.log_y = not self.chart.log_y
        self.chart.plot()

    def action_toggle_clip(self) -> None:
        """Clip the y axis to robust bounds (outliers marked at the edge) or show every value."""
        self.chart.clip = not self.chart.clip
        self.chart.plot()

    def action_smooth(self, direction: int) -> None:
        """More (+1) or less (-1) EMA smoothing."""
        chart = self.chart
        chart.ema_index = min(max(chart.ema_index + direction, 0), len(EMA_WEIGHTS) - 1)
        chart.plot()


def metric_rows(summaries: Sequence[MetricSummary]) -> list[KVRow]:
    """KVRows of metric summaries: key, latest, min, max, steps (count), last step."""
    number = format_number
    return [
        KVRow(
            s.key,
            (
                s.key,
                number(s.latest_value),
                number(s.min_value),
                number(s.max_value),
                f"{s.count:,}",
                str(s.latest_step),
            ),
            (s.key, s.latest_value, s.min_value, s.max_value, s.count, s.latest_step),
        )
        for s in summaries
    ]


def default_chart_metric(keys: Sequence[str]) -> str:
    """The metric drawn first: a validation loss, else a loss, else lower-is-better, else the first."""
    from ..compare_values import lower_is_better

    def rank(key: str) -> int:
        lowered = key.lower()
        if "loss" in lowered:
            return 0 if "val" in lowered else 1
        return 2 if lower_is_better(key) and "time" not in lowered else 3

    return min(keys, key=lambda key: (rank(key), keys.index(key)))

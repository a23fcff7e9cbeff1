"""ScatterView: one point per run, x and y each chosen from every param and metric of the compared runs.

Numeric params are parsed as numbers; categorical params sit on labelled positions. Points are labelled
with their run's name (all of them up to MAX_LABELS runs; past that the EXTREMES highest and lowest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual import on
from textual.binding import Binding

from ..compare_values import Axis, CompareData, default_metric, middle_truncate, varying_numeric_params
from ..field_picker import FieldPicker
from .compare_plot import ComparePlot, PlotView, run_colour
from .plot_axes import ABOVE, BELOW, ValueScale, clip_note, value_scale

MAX_LABELS = 25
EXTREMES = 3


def labelled_points(points: list[Point]) -> list[Point]:
    """The points to label: all of them, or past MAX_LABELS the EXTREMES lowest and highest in y."""
    if len(points) <= MAX_LABELS:
        return points
    ordered = sorted(points, key=lambda p: p.y)
    chosen = {p.index for p in ordered[:EXTREMES] + ordered[-EXTREMES:]}
    return [p for p in points if p.index in chosen]


def non_finite_runs(data: CompareData, fields: list[str]) -> int:
    """How many runs have a NaN or infinite value for one of these metric fields (not drawn)."""
    keys = [f.split(".", 1)[1] for f in fields if f.startswith("metrics.")]
    count = 0
    for run in data.runs:
        values = [data.metric(run, key) for key in keys]
        if any(v is not None and not math.isfinite(v) for v in values):
            count += 1
    return count


@dataclass(frozen=True)
class Point:
    """One run's point (in data coordinates; categories as their positions)."""

    index: int
    label: str
    x: float
    y: float


def fit_categories(categories: list[str], width: int) -> list[str]:
    """Category labels cut so that they fit side by side in width cells."""
    room = max(3, width // max(1, len(categories)) - 1)
    return [middle_truncate(c, room) for c in categories]


class ScatterPlot(ComparePlot):
    """Draws the points it was given on numeric or categorical axes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.x_axis: Axis | None = None
        self.y_axis: Axis | None = None
        self.points: list[Point] = []
        self.log_x = False
        self.log_y = False
        self.clip = True  # numeric axes cut to robust bounds (o toggles)
        self.beyond = 0  # points drawn at an edge by the clipping
        self.note = ""  # what was left out, e.g. '2 runs with inf not drawn'

    def set_points(self, x_axis: Axis, y_axis: Axis, points: list[Point]) -> None:
        """Draw these points."""
        self.x_axis, self.y_axis, self.points = x_axis, y_axis, points
        self.message = None
        self.plot()

    def _usable_log(self, axis: Axis, wanted: bool, values: list[float]) -> bool:
        return wanted and axis.kind == "numeric" and bool(values) and min(values) > 0

    def _scale(self, axis: Axis, values: list[float], log: bool) -> ValueScale:
        if axis.kind != "numeric":
            return ValueScale()
        return value_scale(values, log, self.clip)

    def plot(self) -> None:
        """Rebuild the figure (log10 and clipping applied here, in plot coordinates: plotext keeps no
        data it would rescale on the next render)."""
        plt = self.plt
        plt.clear_figure()
        self.beyond = 0
        if self.message is not None or self.x_axis is None or self.y_axis is None:
            self.refresh()
            return
        x_axis, y_axis, points = self.x_axis, self.y_axis, self.points
        xs, ys = [p.x for p in points], [p.y for p in points]
        log_x = self._usable_log(x_axis, self.log_x, xs)
        log_y = self._usable_log(y_axis, self.log_y, ys)
        x_scale, y_scale = self._scale(x_axis, xs, log_x), self._scale(y_axis, ys, log_y)
        for point in points:
            side_x, side_y = x_scale.side(point.x), y_scale.side(point.y)
            if side_x or side_y:
                self.beyond += 1
            marker = {1: ABOVE, -1: BELOW}.get(side_y) or {1: "►", -1: "◄"}.get(side_x) or "●"
            plt.scatter(
                [x_scale.position(point.x)],
                [y_scale.position(point.y)],
                marker=marker,
                color=run_colour(point.index),
            )
        self._ticks(x_axis, "x", x_scale, xs)
        self._ticks(y_axis, "y", y_scale, ys)
        self._labels(labelled_points(points), x_scale, y_scale)
        title = [note for note in (clip_note(self.beyond), self.note) if note]
        if title:
            plt.title(" · ".join(title))
        plt.xlabel(x_axis.field + (" (log)" if log_x else ""))
        plt.ylabel(y_axis.field + (" (log)" if log_y else ""))
        self.refresh()

    def _limits(self, axis: Axis, scale: ValueScale, values: list[float]) -> tuple[float, float]:
        if axis.kind == "categorical":
            return -0.5, len(axis.categories) - 0.5
        return scale.limits(values)

    def _labels(self, labelled: list[Point], x_scale: ValueScale, y_scale: ValueScale) -> None:
        """Run names beside their points, inside the plot and never over another name (the legend lists
        every colour): right of the point, or left of it when the right edge would cut it."""
        assert self.x_axis is not None and self.y_axis is not None
        x_low, x_high = self._limits(self.x_axis, x_scale, [p.x for p in self.points])
        y_low, y_high = self._limits(self.y_axis, y_scale, [p.y for p in self.points])
        cols = max(10, self.size.width - 12)
        rows = max(4, self.size.height - 5)
        per_col = (x_high - x_low) / cols
        taken: dict[int, list[tuple[int, int]]] = {}
        for point in labelled:
            text = middle_truncate(point.label, 14)
            x, y = x_scale.position(point.x), y_scale.position(point.y)
            col = round((x - x_low) / per_col)
            row = round((y_high - y) / (y_high - y_low) * rows)
            right = (col + 2, col + 2 + len(text))
            left = (col - 2 - len(text), col - 2)
            for span, side in ((right, 1), (left, -1)):
                inside = 0 <= span[0] and span[1] <= cols
                free = all(span[1] < a or span[0] > b for a, b in taken.get(row, []))
                if inside and free:
                    taken.setdefault(row, []).append(span)
                    self.label(text, x + side * 2 * per_col, y, "left" if side > 0 else "right")
                    break

    def _ticks(self, axis: Axis, which: str, scale: ValueScale, values: list[float]) -> None:
        plt = self.plt
        if axis.kind != "categorical":
            count = max(3, min(8, self.size.width // 14)) if which == "x" else 5
            low, high = scale.limits(values)
            ticks, labels = scale.ticks(values, count)
            if which == "x":
                plt.xlim(low, high)
                plt.xticks(ticks, labels)
            else:
                plt.ylim(low, high)
                plt.yticks(ticks, labels)
            return
        positions = [float(i) for i in range(len(axis.categories))]
        if which == "x":
            plt.xlim(-0.5, len(positions) - 0.5)
            plt.xticks(positions, fit_categories(axis.categories, max(20, self.size.width - 10)))
        else:
            plt.ylim(-0.5, len(positions) - 0.5)
            plt.yticks(positions, [middle_truncate(c, 10) for c in axis.categories])


class ScatterView(PlotView):
    """Fields on the left: `x` / `y` put the highlighted one on that axis; `l` / `L` log x / log y."""

    COMMAND_AREA = "Scatter"
    PLACEHOLDER = "/ filter params/metrics"

    BINDINGS = [
        Binding("x", "set_x", "Set X", id="scatter.set_x", tooltip="Put the highlighted field on the x axis"),
        Binding("y", "set_y", "Set Y", id="scatter.set_y", tooltip="Put the highlighted field on y"),
        Binding("s", "swap", "Swap axes", id="scatter.swap"),
        Binding("l", "log_x", "Log x", id="scatter.log_x"),
        Binding("L", "log_y", "Log y", id="scatter.log_y"),
        Binding(
            "o",
            "toggle_clip",
            "Outliers",
            show=False,  # in the hint line and ? help: the footer keeps its room
            id="scatter.clip",
            tooltip="Clip to the bulk of the runs, or show all",
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.x_field: str | None = None
        self.y_field: str | None = None

    def make_plot(self) -> ComparePlot:
        """A scatter chart."""
        return ScatterPlot(id="scatter-plot")

    @property
    def plot(self) -> ScatterPlot:
        """The chart."""
        return self.query_one(ScatterPlot)

    def mark(self, field: str) -> str:
        """'x' / 'y' on the chosen fields."""
        return (
            "xy"
            if field == self.x_field == self.y_field
            else ("x" if field == self.x_field else "y" if field == self.y_field else "")
        )

    def choose_defaults(self, data: CompareData) -> None:
        """x: the first numeric param that varies (else any field); y: the first metric."""
        fields = data.fields
        if self.x_field not in fields:
            varying = varying_numeric_params(data)
            candidates: list[str | None] = [*varying, *fields, None]
            self.x_field = candidates[0]
        if self.y_field not in fields:
            metric = default_metric(data.metric_keys)
            metrics = [f"metrics.{metric}"] if metric else []
            others = [f for f in fields if f != self.x_field]
            self.y_field = [*metrics, *others, None][0]

    def redraw(self) -> None:
        """Draw the chosen x and y."""
        super().redraw()
        data, plot = self.compare_data, self.plot
        if data is None:
            return
        if self.x_field is None or self.y_field is None:
            plot.show_message("The selected runs have no params or metrics: nothing to draw.")
            self.set_status("scatter: nothing to draw")
            return
        x_axis, y_axis = data.axis(self.x_field), data.axis(self.y_field)
        for axis in (x_axis, y_axis):
            if axis.kind == "empty":
                what = "a number for" if axis.field.startswith("metrics.") else "a value for"
                plot.show_message(f"No selected run has {what} {axis.field}: nothing to draw.")
                self.set_status(f"x: {self.x_field} · y: {self.y_field} · nothing to draw")
                return
        drawable = [
            Point(i, run.label, x, y)
            for i, (run, x, y) in enumerate(zip(data.runs, x_axis.positions, y_axis.positions, strict=True))
            if x is not None and y is not None
        ]
        self.set_runs([(p.index, p.label, run_colour(p.index)) for p in drawable])
        points = [point for point in drawable if self.shown(point.index)]
        if drawable and not points:
            plot.show_message("Every run is hidden: space on an entry of the runs legend shows it again.")
            self.set_status(f"x: {self.x_field} · y: {self.y_field} · every run hidden")
            return
        if not points:
            plot.show_message(f"No run has both {self.x_field} and {self.y_field}: nothing to draw.")
            self.set_status(f"x: {self.x_field} · y: {self.y_field} · nothing to draw")
            return
        infinite = non_finite_runs(data, [self.x_field, self.y_field])
        plot.note = f"{infinite} with NaN/inf not drawn" if infinite else ""
        plot.set_points(x_axis, y_axis, points)
        parts = [f"x: {self.x_field} ({x_axis.kind})", f"y: {self.y_field} ({y_axis.kind})"]
        parts.append(f"{len(drawable)} of {len(data.runs)} runs")
        if plot.note:
            parts.append(plot.note)
        if plot.beyond:
            parts.append(clip_note(plot.beyond))
        labelled = labelled_points(points)
        if len(labelled) < len(points):
            parts.append(f"names of the {EXTREMES} highest and lowest shown")
        self.set_status(" · ".join(parts))  # the runs legend below names every colour

    @on(FieldPicker.Chosen)
    def _chosen(self, message: FieldPicker.Chosen) -> None:
        """Enter on a field puts it on the y axis."""
        self.y_field = message.field
        self.redraw()

    def action_set_x(self) -> None:
        """Put the highlighted field on the x axis."""
        field = self.highlighted()
        if field is not None:
            self.x_field = field
            self.redraw()

    def action_set_y(self) -> None:
        """Put the highlighted field on the y axis."""
        field = self.highlighted()
        if field is not None:
            self.y_field = field
            self.redraw()

    def action_swap(self) -> None:
        """Swap the x and y fields."""
        self.x_field, self.y_field = self.y_field, self.x_field
        self.redraw()

    def action_log_x(self) -> None:
        """Linear <-> log x (numeric axes with positive values only)."""
        self.plot.log_x = not self.plot.log_x
        self.plot.plot()

    def action_log_y(self) -> None:
        """Linear <-> log y."""
        self.plot.log_y = not self.plot.log_y
        self.plot.plot()

    def action_toggle_clip(self) -> None:
        """Clip numeric axes to robust bounds (outliers marked at the edge) or show every run."""
        self.plot.clip = not self.plot.clip
        self.redraw()

"""ScatterView: one point per run, x and y each chosen from every param and metric of the compared runs.

Numeric params are parsed as numbers; categorical params sit on labelled positions. Points are labelled
with their run's name (all of them up to MAX_LABELS runs; past that the EXTREMES highest and lowest).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.binding import Binding

from .compare_plot import ComparePlot, PlotView, legend_text, run_colour
from .compare_values import Axis, CompareData, default_metric, middle_truncate, varying_numeric_params
from .field_picker import FieldPicker

MAX_LABELS = 25
EXTREMES = 3


def labelled_points(points: list[Point]) -> list[Point]:
    """The points to label: all of them, or past MAX_LABELS the EXTREMES lowest and highest in y."""
    if len(points) <= MAX_LABELS:
        return points
    ordered = sorted(points, key=lambda p: p.y)
    chosen = {p.index for p in ordered[:EXTREMES] + ordered[-EXTREMES:]}
    return [p for p in points if p.index in chosen]


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

    def set_points(self, x_axis: Axis, y_axis: Axis, points: list[Point]) -> None:
        """Draw these points."""
        self.x_axis, self.y_axis, self.points = x_axis, y_axis, points
        self.message = None
        self.plot()

    def _usable_log(self, axis: Axis, wanted: bool, values: list[float]) -> bool:
        return wanted and axis.kind == "numeric" and bool(values) and min(values) > 0

    def plot(self) -> None:
        """Rebuild the figure."""
        plt = self.plt
        plt.clear_figure()
        if self.message is not None or self.x_axis is None or self.y_axis is None:
            self.refresh()
            return
        x_axis, y_axis, points = self.x_axis, self.y_axis, self.points
        log_x = self._usable_log(x_axis, self.log_x, [p.x for p in points])
        log_y = self._usable_log(y_axis, self.log_y, [p.y for p in points])
        if log_x:
            plt.xscale("log")
        if log_y:
            plt.yscale("log")
        for point in points:
            plt.scatter([point.x], [point.y], marker="●", color=run_colour(point.index))
        self._labels(points, labelled_points(points), log_x)
        self._ticks(x_axis, "x")
        self._ticks(y_axis, "y")
        plt.xlabel(x_axis.field + (" (log)" if log_x else ""))
        plt.ylabel(y_axis.field + (" (log)" if log_y else ""))
        self.refresh()

    def _labels(self, points: list[Point], labelled: list[Point], log_x: bool) -> None:
        """Run names just right of their points (two cells over; left of them near the right edge)."""
        xs = [p.x for p in points]
        low, high = min(xs), max(xs)
        cells = max(10, self.size.width - 12)
        for point in labelled:
            # labels of points in the right third go on their left, so the plot's edge never cuts them
            side = -1 if high > low and point.x > low + (high - low) * 0.66 else 1
            if log_x:
                x = point.x * ((high / low) if high > low else 10.0) ** (side * 2 / cells)
            else:
                x = point.x + side * 2 * ((high - low) or 1.0) / cells
            self.label(middle_truncate(point.label, 14), x, point.y, "left" if side > 0 else "right")

    def _ticks(self, axis: Axis, which: str) -> None:
        plt = self.plt
        if axis.kind != "categorical":
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
        points = [
            Point(i, run.label, x, y)
            for i, (run, x, y) in enumerate(zip(data.runs, x_axis.positions, y_axis.positions, strict=True))
            if x is not None and y is not None
        ]
        if not points:
            plot.show_message(f"No run has both {self.x_field} and {self.y_field}: nothing to draw.")
            self.set_status(f"x: {self.x_field} · y: {self.y_field} · nothing to draw")
            return
        plot.set_points(x_axis, y_axis, points)
        parts = [f"x: {self.x_field} ({x_axis.kind})", f"y: {self.y_field} ({y_axis.kind})"]
        parts.append(f"{len(points)} of {len(data.runs)} runs")
        labelled = labelled_points(points)
        if len(labelled) < len(points):
            parts.append(f"names of the {EXTREMES} highest and lowest shown")
        legend = legend_text([(p.label, run_colour(p.index)) for p in labelled], width=16)
        self.set_status(" · ".join(parts), legend)

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

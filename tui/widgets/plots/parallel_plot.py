"""ParallelView: parallel coordinates drawn from plotext lines on one canvas (plotext has no such chart).

Each chosen field is a vertical axis normalised to 0..1 and labelled with its min and max (categorical
axes with their values); each run is a polyline across the axes, coloured by one metric on a low..high
scale (grey when the run lacks it). A run missing a value on an axis has its line broken there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.binding import Binding

from ...formatting import number
from ..compare_values import Axis, CompareData, default_metric, middle_truncate, short_number, varying_params
from ..field_picker import FieldPicker
from .compare_plot import MISSING_COLOUR, ComparePlot, PlotView, scale_colour, scale_text
from .plot_axes import clip_note, robust_bounds

MAX_DEFAULT_AXES = 5
MAX_CATEGORY_LABELS = 8
AXIS_COLOUR = (150, 150, 150)


@dataclass(frozen=True)
class Polyline:
    """One run's normalised values per axis (None where missing) and its colour."""

    index: int
    label: str
    values: tuple[float | None, ...]
    colour: tuple[int, int, int]


LOG_RATIO = 1000.0


def is_log_axis(axis: Axis) -> bool:
    """Positive numbers spanning three decades or more (learning rates, weight decay) get a log scale."""
    present = axis.present
    if axis.kind != "numeric" or not present or min(present) <= 0:
        return False
    return max(present) >= LOG_RATIO * min(present)


def clip_bounds(axis: Axis, clip: bool) -> tuple[float, float] | None:
    """Robust bounds of a linear numeric axis whose outliers would flatten the other runs (None: none)."""
    if not clip or axis.kind != "numeric":
        return None
    return robust_bounds(axis.present)


def normalise(axis: Axis, clip: bool = False) -> list[float | None]:
    """Positions scaled to 0..1 (0.5 when all equal; log-scaled when is_log_axis); categories evenly;
    with clip, a numeric axis scaled to its robust bounds and outliers held at 0 or 1."""
    bounds = clip_bounds(axis, clip)
    if bounds is not None:
        low, high = bounds
        return [None if p is None else min(max((p - low) / (high - low), 0.0), 1.0) for p in axis.positions]
    if is_log_axis(axis):
        axis = Axis(axis.field, axis.kind, [None if p is None else math.log10(p) for p in axis.positions])
    present = axis.present
    if not present:
        return [None] * len(axis.positions)
    if axis.kind == "categorical":
        top = max(1, len(axis.categories) - 1)
        return [None if p is None else (p / top if len(axis.categories) > 1 else 0.5) for p in axis.positions]
    low, high = min(present), max(present)
    if high == low:
        return [None if p is None else 0.5 for p in axis.positions]
    return [None if p is None else (p - low) / (high - low) for p in axis.positions]


class ParallelPlot(ComparePlot):
    """Draws axes and polylines it was given."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.axes: list[Axis] = []
        self.lines: list[Polyline] = []
        self.clip = True  # numeric axes cut to robust bounds (o toggles)

    def set_lines(self, axes: list[Axis], lines: list[Polyline]) -> None:
        """Draw these axes and polylines."""
        self.axes, self.lines = axes, lines
        self.message = None
        self.plot()

    def plot(self) -> None:
        """Rebuild the figure: vertical axes with their labels, then one polyline (segments) per run."""
        plt = self.plt
        plt.clear_figure()
        if self.message is not None or len(self.axes) < 2:
            self.refresh()
            return
        count = len(self.axes)
        plt.xlim(-0.15, count - 1 + 0.15)
        plt.ylim(-0.14, 1.14)
        for position in range(count):
            plt.vertical_line(position, color=AXIS_COLOUR)
        for line in self.lines:
            segment_x: list[float] = []
            segment_y: list[float] = []
            for position, value in enumerate((*line.values, None)):
                if value is not None:
                    segment_x.append(float(position))
                    segment_y.append(value)
                    continue
                if len(segment_x) > 1:
                    plt.plot(segment_x, segment_y, marker="braille", color=line.colour)
                elif len(segment_x) == 1:
                    plt.scatter(segment_x, segment_y, marker="•", color=line.colour)
                segment_x, segment_y = [], []
        room = max(4, (max(self.size.width, 40) - 8) // count - 1)
        for position, axis in enumerate(self.axes):
            self._axis_labels(position, axis, count, room)
        plt.xticks(list(range(count)), [middle_truncate(axis.name, room) for axis in self.axes])
        plt.yticks([], [])
        self.refresh()

    def _axis_labels(self, position: int, axis: Axis, count: int, room: int) -> None:
        alignment: Literal["left", "center", "right"] = (
            "left" if position == 0 else "right" if position == count - 1 else "center"
        )
        if axis.kind == "categorical":
            shown = axis.categories
            if len(shown) > MAX_CATEGORY_LABELS:
                shown = [shown[0], shown[-1]]
            top = max(1, len(axis.categories) - 1)
            for category in shown:
                y = axis.categories.index(category) / top if len(axis.categories) > 1 else 0.5
                self.label(middle_truncate(category, room), position, y, alignment)
            return
        present = axis.present
        if not present:
            self.label("(none)", position, 1.08, alignment)
            return
        bounds = clip_bounds(axis, self.clip)
        low, high = bounds or (min(present), max(present))
        highest = short_number(high) + (" log" if bounds is None and is_log_axis(axis) else "")  # says log
        if high < max(present):
            highest = "▲" + highest  # values above are held at the top
        lowest = ("▼" if low > min(present) else "") + short_number(low)
        self.label(middle_truncate(highest, room), position, 1.08, alignment)
        self.label(middle_truncate(lowest, room), position, -0.08, alignment)


class ParallelView(PlotView):
    """Fields on the left: `space` adds/removes an axis, `enter`/`c` colours the lines by that field."""

    COMMAND_AREA = "Parallel coordinates"
    PLACEHOLDER = "/ filter params/metrics"

    BINDINGS = [
        Binding("space", "toggle_axis", "Axis on/off", id="parallel.toggle_axis"),
        Binding("c", "colour_by", "Colour by", id="parallel.colour_by"),
        Binding(
            "o",
            "toggle_clip",
            "Outliers",
            show=False,  # in the hint line and ? help: the footer keeps its room
            id="parallel.clip",
            tooltip="Scale axes to the bulk of the runs, or all",
        ),
        Binding("left_square_bracket", "move_axis(-1)", "Axis left", id="parallel.axis_left"),
        Binding("right_square_bracket", "move_axis(1)", "Axis right", id="parallel.axis_right"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.axis_fields: list[str] = []
        self.colour_field: str | None = None

    def make_plot(self) -> ComparePlot:
        """A parallel-coordinates chart."""
        return ParallelPlot(id="parallel-plot")

    @property
    def plot(self) -> ParallelPlot:
        """The chart."""
        return self.query_one(ParallelPlot)

    def mark(self, field: str) -> str:
        """The axis number on chosen axes, ● on the colour field."""
        marks = ""
        if field in self.axis_fields:
            marks += str(self.axis_fields.index(field) + 1)
        if field == self.colour_field:
            marks += "●"
        return marks

    def choose_defaults(self, data: CompareData) -> None:
        """Axes: the params that vary (at most five) then the colour metric; colour: the first metric."""
        fields = data.fields
        self.axis_fields = [f for f in self.axis_fields if f in fields]
        if self.colour_field not in fields:
            metric = default_metric(data.metric_keys)
            self.colour_field = f"metrics.{metric}" if metric else None
        if not self.axis_fields:
            axes = varying_params(data)[:MAX_DEFAULT_AXES] or [f"params.{k}" for k in data.param_keys][:3]
            if self.colour_field is not None:
                axes.append(self.colour_field)
            self.axis_fields = axes

    def redraw(self) -> None:
        """Draw the chosen axes, coloured by the chosen field."""
        super().redraw()
        data, plot = self.compare_data, self.plot
        if data is None:
            return
        if len(self.axis_fields) < 2:
            plot.show_message(
                "Choose at least two axes: highlight a param or metric and press space."
                if data.fields
                else "The selected runs have no params or metrics: nothing to draw."
            )
            self.set_status(f"{len(self.axis_fields)} axis chosen · nothing to draw")
            return
        clip = plot.clip
        axes = [data.axis(field) for field in self.axis_fields]
        columns = [normalise(axis, clip) for axis in axes]
        colour_values: list[float | None] = [None] * len(data.runs)
        legend: Text | str = ""
        beyond = 0
        for axis in axes:
            bounds = clip_bounds(axis, clip)
            if bounds is not None:
                beyond += sum(1 for v in axis.present if not bounds[0] <= v <= bounds[1])
        if self.colour_field is not None:
            colour_axis = data.axis(self.colour_field)
            colour_values = normalise(colour_axis, clip)
            present = colour_axis.present
            if present and colour_axis.kind == "numeric":
                bounds = clip_bounds(colour_axis, clip)
                low, high = bounds or (min(present), max(present))
                legend = scale_text(colour_axis.name, number(low), number(high))
                if bounds is not None:
                    outside = sum(1 for v in present if not low <= v <= high)
                    legend.append(f"  (clipped: {outside} beyond, drawn at the ends · o: show all)")
            elif present:
                cats = colour_axis.categories
                legend = scale_text(colour_axis.name, cats[0], cats[-1])
            else:
                legend = f"colour: no run has {self.colour_field} (grey)"
        lines = []
        for index, run in enumerate(data.runs):
            values = tuple(column[index] for column in columns)
            if all(v is None for v in values):
                continue
            colour_value = colour_values[index]
            colour = MISSING_COLOUR if colour_value is None else scale_colour(colour_value)
            lines.append(Polyline(index, run.label, values, colour))
        if not lines:
            plot.show_message("No selected run has a value on these axes: nothing to draw.")
            self.set_status(f"{len(axes)} axes · nothing to draw")
            return
        self.set_runs([(line.index, line.label, line.colour) for line in lines])  # swatch: its line colour
        drawn = [line for line in lines if self.shown(line.index)]
        if not drawn:
            plot.show_message("Every run is hidden: space on an entry of the runs legend shows it again.")
            self.set_status(f"{len(axes)} axes · every run hidden", legend)
            return
        plot.set_lines(axes, drawn)
        empty = [axis.field for axis in axes if axis.kind == "empty"]
        parts = [f"{len(axes)} axes (each scaled to its min..max)", f"{len(lines)} of {len(data.runs)} runs"]
        if empty:
            parts.append("no values on " + ", ".join(empty))
        if beyond:
            parts.append(clip_note(beyond))
        self.set_status(" · ".join(parts), legend)

    @on(FieldPicker.Chosen)
    def _chosen(self, message: FieldPicker.Chosen) -> None:
        """Enter on a field colours the lines by it."""
        self.colour_field = message.field
        self.redraw()

    def action_toggle_axis(self) -> None:
        """Add the highlighted field as the last axis, or remove it."""
        field = self.highlighted()
        if field is None:
            return
        if field in self.axis_fields:
            self.axis_fields.remove(field)
        else:
            self.axis_fields.append(field)
        self.redraw()

    def action_colour_by(self) -> None:
        """Colour the lines by the highlighted field."""
        field = self.highlighted()
        if field is not None:
            self.colour_field = field
            self.redraw()

    def action_move_axis(self, direction: int) -> None:
        """Move the highlighted axis one place left or right."""
        field = self.picker.highlighted_field
        if field not in self.axis_fields:
            self.notify("Highlight a chosen axis (numbered in the list) to move it.")
            return
        index = self.axis_fields.index(field)
        target = min(max(index + direction, 0), len(self.axis_fields) - 1)
        self.axis_fields.insert(target, self.axis_fields.pop(index))
        self.redraw()

    def action_toggle_clip(self) -> None:
        """Scale numeric axes and the colours to robust bounds (outliers at the ends) or to min..max."""
        self.plot.clip = not self.plot.clip
        self.redraw()

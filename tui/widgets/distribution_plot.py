"""DistributionView: a box plot of one metric across the compared runs, optionally grouped by a param value.

Boxes are drawn from plotext lines (Tukey whiskers, box first..third quartile, a bar at the median),
with every run's value as a dot beside its box. NaN values and runs without the metric are counted, not
drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual import on
from textual.binding import Binding

from ..formatting import number
from .compare_plot import ComparePlot, PlotView, run_colour
from .compare_values import CompareData, default_metric, middle_truncate, natural_key, quartiles
from .field_picker import FieldPicker

BOX_HALF_WIDTH = 0.22
BOX_COLOUR = (31, 119, 180)
MEDIAN_COLOUR = (255, 127, 14)
NO_VALUE = "(no value)"


@dataclass(frozen=True)
class Group:
    """The metric values of the runs sharing one value of the grouping param."""

    name: str
    values: tuple[float, ...]

    @property
    def stats(self) -> tuple[float, float, float, float, float]:
        """min, first quartile, median, third quartile, max."""
        return quartiles(self.values)


def whiskers(values: tuple[float, ...], q1: float, q3: float) -> tuple[float, float]:
    """Tukey's whiskers: the furthest values within 1.5 interquartile ranges of the box."""
    reach = 1.5 * (q3 - q1)
    inside = [v for v in values if q1 - reach <= v <= q3 + reach]
    return min(inside), max(inside)


class DistributionPlot(ComparePlot):
    """Draws the groups it was given as boxes side by side."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric: str = ""
        self.group_by: str | None = None
        self.groups: list[Group] = []
        self.log_y = False

    def set_groups(self, metric: str, group_by: str | None, groups: list[Group]) -> None:
        """Draw these groups."""
        self.metric, self.group_by, self.groups = metric, group_by, groups
        self.message = None
        self.plot()

    def plot(self) -> None:
        """Rebuild the figure."""
        plt = self.plt
        plt.clear_figure()
        if self.message is not None or not self.groups:
            self.refresh()
            return
        log_y = self.log_y and all(v > 0 for g in self.groups for v in g.values)
        if log_y:
            plt.yscale("log")
        w = BOX_HALF_WIDTH
        for position, group in enumerate(self.groups, start=1):
            _, q1, median, q3, _ = group.stats
            low, high = whiskers(group.values, q1, q3)
            plt.plot([position, position], [low, q1], marker="braille", color=BOX_COLOUR)
            plt.plot([position, position], [q3, high], marker="braille", color=BOX_COLOUR)
            plt.plot([position - w / 2, position + w / 2], [low, low], marker="braille", color=BOX_COLOUR)
            plt.plot([position - w / 2, position + w / 2], [high, high], marker="braille", color=BOX_COLOUR)
            plt.plot(
                [position - w, position + w, position + w, position - w, position - w],
                [q1, q1, q3, q3, q1],
                marker="braille",
                color=BOX_COLOUR,
            )
            plt.plot([position - w, position + w], [median, median], marker="braille", color=MEDIAN_COLOUR)
            plt.scatter(
                [position + w + 0.12] * len(group.values),
                list(group.values),
                marker="•",
                color=run_colour(position - 1),
            )
        count = len(self.groups)
        plt.xlim(0.4, count + 0.6)
        room = max(4, (max(self.size.width, 40) - 10) // count - 1)
        labels = [middle_truncate(f"{g.name} (n={len(g.values)})", room) for g in self.groups]
        plt.xticks(list(range(1, count + 1)), labels)
        plt.xlabel(self.group_by if self.group_by else "all compared runs")
        plt.ylabel(self.metric + (" (log)" if log_y else ""))
        self.refresh()


class DistributionView(PlotView):
    """Fields on the left: `enter` draws a metric, `g` groups by the highlighted param (again: ungroup)."""

    COMMAND_AREA = "Distribution"
    PLACEHOLDER = "/ filter metrics/params"

    BINDINGS = [
        Binding("g", "group_by", "Group by", id="distribution.group_by", tooltip="Group by this param"),
        Binding("G", "ungroup", "No groups", id="distribution.ungroup"),
        Binding("l", "toggle_log", "Log y", id="distribution.log_y"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric_field: str | None = None
        self.group_field: str | None = None

    def make_plot(self) -> ComparePlot:
        """A box-plot chart."""
        return DistributionPlot(id="distribution-plot")

    @property
    def plot(self) -> DistributionPlot:
        """The chart."""
        return self.query_one(DistributionPlot)

    def mark(self, field: str) -> str:
        """● on the metric, g on the grouping param."""
        return "●" if field == self.metric_field else "g" if field == self.group_field else ""

    def offered_fields(self, data: CompareData) -> list[str]:
        """Metrics first (what is drawn), then params (what groups)."""
        return [f"metrics.{k}" for k in data.metric_keys] + [f"params.{k}" for k in data.param_keys]

    def choose_defaults(self, data: CompareData) -> None:
        """The first metric, not grouped."""
        if self.metric_field not in data.fields:
            metric = default_metric(data.metric_keys)
            self.metric_field = f"metrics.{metric}" if metric else None
        if self.group_field not in data.fields:
            self.group_field = None

    def redraw(self) -> None:
        """Draw the chosen metric's distribution."""
        super().redraw()
        data, plot = self.compare_data, self.plot
        if data is None:
            return
        if self.metric_field is None:
            plot.show_message("None of the selected runs logged a metric: nothing to draw.")
            self.set_status("distribution: nothing to draw")
            return
        key = self.metric_field.split(".", 1)[1]
        buckets: dict[str, list[float]] = {}
        missing = nan = 0
        for run in data.runs:
            value = data.metric(run, key)
            if value is None:
                missing += 1
                continue
            if not math.isfinite(value):
                nan += 1
                continue
            group = "all runs"
            if self.group_field is not None:
                group = run.run.data.params.get(self.group_field.split(".", 1)[1], NO_VALUE)
            buckets.setdefault(group, []).append(value)
        parts = [self.metric_field]
        if self.group_field:
            parts.append(f"grouped by {self.group_field}")
        if missing:
            parts.append(f"{missing} without it")
        if nan:
            parts.append(f"{nan} NaN/inf, not drawn")
        if not buckets:
            why = "only NaN or infinite values" if nan else "no value"
            plot.show_message(f"The selected runs have {why} for {self.metric_field}: nothing to draw.")
            self.set_status(" · ".join(parts))
            return
        names = sorted(buckets, key=lambda n: (n == NO_VALUE, natural_key(n)))
        groups = [Group(name, tuple(buckets[name])) for name in names]
        plot.set_groups(key, self.group_field, groups)
        legend = "  ".join(
            f"{g.name}: median {number(g.stats[2])}, {number(g.stats[0])}..{number(g.stats[4])}"
            for g in groups[:6]
        )
        self.set_status(" · ".join(parts), legend)

    @on(FieldPicker.Chosen)
    def _chosen(self, message: FieldPicker.Chosen) -> None:
        """Enter on a metric draws it; on a param, groups by it."""
        if message.field.startswith("metrics."):
            self.metric_field = message.field
        else:
            self.group_field = None if self.group_field == message.field else message.field
        self.redraw()

    def action_group_by(self) -> None:
        """Group by the highlighted param (again: no grouping)."""
        field = self.highlighted()
        if field is None:
            return
        if not field.startswith("params."):
            self.notify("Group by a param: highlight a params.… field and press g.")
            return
        self.group_field = None if self.group_field == field else field
        self.redraw()

    def action_ungroup(self) -> None:
        """One box of every run."""
        self.group_field = None
        self.redraw()

    def action_toggle_log(self) -> None:
        """Linear <-> log y."""
        self.plot.log_y = not self.plot.log_y
        self.plot.plot()

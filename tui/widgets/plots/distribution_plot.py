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

from ...formatting import number
from ..compare_values import (
    CompareData,
    default_metric,
    middle_truncate,
    natural_key,
    parse_number,
    quartiles,
    short_number,
)
from ..field_picker import FieldPicker
from .compare_plot import ComparePlot, PlotView, run_colour
from .plot_axes import ABOVE, BELOW, bin_index, clip_note, quantile_bins, value_scale

BOX_HALF_WIDTH = 0.22
BOX_COLOUR = (31, 119, 180)
MEDIAN_COLOUR = (255, 127, 14)
NO_VALUE = "(no value)"
MAX_GROUPS = 8  # a numeric param with more distinct values is grouped in this many quantile bins


@dataclass(frozen=True)
class Group:
    """The metric values of the runs sharing one value of the grouping param."""

    name: str
    values: tuple[float, ...]
    runs: tuple[int, ...] = ()  # the compared-run index of each value (its colour)

    @property
    def stats(self) -> tuple[float, float, float, float, float]:
        """min, first quartile, median, third quartile, max."""
        return quartiles(self.values)


def whiskers(values: tuple[float, ...], q1: float, q3: float) -> tuple[float, float]:
    """Tukey's whiskers: the furthest values within 1.5 interquartile ranges of the box."""
    reach = 1.5 * (q3 - q1)
    inside = [v for v in values if q1 - reach <= v <= q3 + reach]
    return min(inside), max(inside)


def param_bins(data: CompareData, field: str) -> dict[str, str]:
    """Group names of a numeric param with more than MAX_GROUPS values: each value -> its quantile bin,
    named by its highest value ('≤0.003'); empty when the values make few enough groups as they are."""
    key = field.split(".", 1)[1]
    raw = {run.run.data.params[key] for run in data.runs if key in run.run.data.params}
    numbers = {value: parse_number(value) for value in raw}
    if len(raw) <= MAX_GROUPS or any(n is None for n in numbers.values()):
        return {}
    values = sorted(n for n in numbers.values() if n is not None)
    edges = quantile_bins(values, MAX_GROUPS)
    members: dict[int, list[float]] = {}
    for value in values:
        members.setdefault(bin_index(value, edges), []).append(value)
    names = {
        index: short_number(vs[0]) if vs[0] == vs[-1] else f"≤{short_number(vs[-1])}"
        for index, vs in members.items()
    }
    return {text: names[bin_index(n, edges)] for text, n in numbers.items() if n is not None}


def group_label(group: Group, room: int) -> str:
    """'adam (n=2)', or the name alone when the count does not fit, cut in the middle when it must be."""
    full = f"{group.name} (n={len(group.values)})"
    return full if len(full) <= room else middle_truncate(group.name, room)


def bin_order(name: str) -> float:
    """The value of a bin named '≤0.003' or '0.003' (bins sort by value)."""
    return parse_number(name.removeprefix("≤")) or 0.0


class DistributionPlot(ComparePlot):
    """Draws the groups it was given as boxes side by side."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric: str = ""
        self.group_by: str | None = None
        self.groups: list[Group] = []
        self.log_y = False
        self.clip = True  # the y axis cut to robust bounds (o toggles)
        self.beyond = 0  # values drawn at an edge by the clipping

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
        every = [v for g in self.groups for v in g.values]
        scale = value_scale(every, log_y, self.clip)
        self.beyond = scale.beyond(every)
        y = scale.position  # data -> plot coordinates (clamped, log10): plotext never rescales them
        w = BOX_HALF_WIDTH
        for position, group in enumerate(self.groups, start=1):
            _, q1, median, q3, _ = group.stats
            low, high = whiskers(group.values, q1, q3)
            plt.plot([position, position], [y(low), y(q1)], marker="braille", color=BOX_COLOUR)
            plt.plot([position, position], [y(q3), y(high)], marker="braille", color=BOX_COLOUR)
            for end in (low, high):
                plt.plot(
                    [position - w / 2, position + w / 2], [y(end), y(end)], marker="braille", color=BOX_COLOUR
                )
            plt.plot(
                [position - w, position + w, position + w, position - w, position - w],
                [y(q1), y(q1), y(q3), y(q3), y(q1)],
                marker="braille",
                color=BOX_COLOUR,
            )
            plt.plot(
                [position - w, position + w], [y(median), y(median)], marker="braille", color=MEDIAN_COLOUR
            )
            runs = group.runs or tuple(range(len(group.values)))
            for value, run in zip(group.values, runs, strict=True):  # each dot in its run's colour
                marker = {1: ABOVE, -1: BELOW}.get(scale.side(value), "•")
                plt.scatter([position + w + 0.12], [y(value)], marker=marker, color=run_colour(run))
        plt.ylim(*scale.limits(every))
        plt.yticks(*scale.ticks(every))
        if self.beyond:
            plt.title(clip_note(self.beyond))
        count = len(self.groups)
        plt.xlim(0.4, count + 0.6)
        room = max(4, (max(self.size.width, 40) - 10) // count - 1)
        labels = [group_label(g, room) for g in self.groups]
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
        Binding(
            "o",
            "toggle_clip",
            "Outliers",
            show=False,  # in the hint line and ? help: the footer keeps its room
            id="distribution.clip",
            tooltip="Clip y to the bulk of the runs, or show all",
        ),
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
        members: dict[str, list[int]] = {}
        missing = nan = 0
        binned = param_bins(data, self.group_field) if self.group_field else {}
        for index, run in enumerate(data.runs):
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
                group = binned.get(group, group)
            buckets.setdefault(group, []).append(value)
            members.setdefault(group, []).append(index)
        parts = [self.metric_field]
        if self.group_field:
            bins = f" ({len(set(binned.values()))} quantile bins)" if binned else ""
            parts.append(f"grouped by {self.group_field}{bins}")
        if missing:
            parts.append(f"{missing} without it")
        if nan:
            parts.append(f"{nan} NaN/inf, not drawn")
        if not buckets:
            why = "only NaN or infinite values" if nan else "no value"
            plot.show_message(f"The selected runs have {why} for {self.metric_field}: nothing to draw.")
            self.set_status(" · ".join(parts))
            return
        order = {
            name: index for index, name in enumerate(dict.fromkeys(sorted(binned.values(), key=bin_order)))
        }
        names = sorted(buckets, key=lambda n: (n == NO_VALUE, order.get(n, 0), natural_key(n)))
        groups = [Group(name, tuple(buckets[name]), tuple(members[name])) for name in names]
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

    def action_toggle_clip(self) -> None:
        """Clip the y axis to robust bounds (outliers marked at the edge) or show every value."""
        self.plot.clip = not self.plot.clip
        self.redraw()

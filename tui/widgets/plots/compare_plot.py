"""ComparePlot: the base of the compare screen's plotext charts (a plain message when there is nothing to
draw, redraw on resize), run colours, a colour scale, and the legend line shown under a chart.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from typing import Literal

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ..compare_values import CompareData, middle_truncate
from ..field_picker import FieldPicker

RGB = tuple[int, int, int]
Alignment = Literal["left", "center", "right"]

# Tableau 10: distinguishable on dark and light themes; runs past ten get generated hues (run_colour).
RUN_COLOURS: tuple[RGB, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)
MISSING_COLOUR: RGB = (110, 110, 110)
# Low (blue) .. high (red) for "coloured by the metric": every step readable on dark and light themes.
SCALE: tuple[RGB, ...] = ((66, 133, 244), (0, 172, 193), (67, 160, 71), (251, 188, 5), (234, 67, 53))


def run_colour(index: int) -> RGB:
    """The colour of the index-th run: Tableau 10, then hues a golden angle apart in three shades, so
    that runs past ten stay distinct (the same run has the same colour in every plot of the screen)."""
    if index < len(RUN_COLOURS):
        return RUN_COLOURS[index]
    extra = index - len(RUN_COLOURS)
    hue = (0.07 + extra * 0.618033988749895) % 1.0
    value = (0.95, 0.75, 0.6)[extra % 3]
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.7, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def scale_colour(fraction: float) -> RGB:
    """A colour on the low..high scale for a fraction in [0, 1]."""
    fraction = min(max(fraction, 0.0), 1.0) * (len(SCALE) - 1)
    low = int(fraction)
    high = min(low + 1, len(SCALE) - 1)
    t = fraction - low
    a, b = SCALE[low], SCALE[high]
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def hex_colour(rgb: RGB) -> str:
    """'#rrggbb' for Rich styles."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def legend_text(entries: Sequence[tuple[str, RGB]], width: int = 24) -> Text:
    """'■ name' entries separated by spaces (names middle-truncated), wrapped by the Static showing them."""
    text = Text()
    for index, (name, colour) in enumerate(entries):
        if index:
            text.append("  ")
        text.append("■\u00a0", style=hex_colour(colour))  # no-break: a name never wraps off its swatch
        text.append(middle_truncate(name, width).replace(" ", "\u00a0"))
    return text


def scale_text(name: str, low: str, high: str) -> Text:
    """'colour: val_loss 0.12 ■■■■■ 0.95' for plots coloured by a metric."""
    text = Text(f"colour: {name}  {low} ")
    for step in range(10):
        text.append("■", style=hex_colour(scale_colour(step / 9)))
    text.append(f" {high}")
    return text


class ComparePlot(PlotextPlot):
    """A plotext chart that draws already-fetched data; with `message` set it shows that text instead."""

    DEFAULT_CSS = """
    ComparePlot { height: 1fr; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.message: str | None = "Loading…"

    def render(self) -> RenderResult:
        """The plot, or the plain message saying why there is nothing to draw."""
        if self.message is not None:
            return Text(self.message, justify="center", style="italic")
        return super().render()

    def plot(self) -> None:
        """Rebuild the figure from the data (subclasses); no store access."""
        self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        """Labels and ticks depend on the size: redraw."""
        self.plot()

    def label(self, text: str, x: float, y: float, alignment: Alignment = "left") -> None:
        """A text label on the canvas in the theme's foreground colour (plotext's default is garish)."""
        foreground, background = self._theme_colours()
        self.plt.text(text, x, y, color=foreground, background=background, alignment=alignment)

    def _theme_colours(self) -> tuple[RGB, RGB]:
        try:
            variables = self.app.theme_variables
            return Color.parse(variables["foreground"]).rgb, Color.parse(variables["surface"]).rgb
        except Exception:  # not mounted (tests drawing off-screen): plain grey on black
            return (200, 200, 200), (0, 0, 0)

    def show_message(self, message: str) -> None:
        """Show message instead of a chart."""
        self.message = message
        self.plt.clear_figure()
        self.refresh()

    def canvas_text(self) -> str:
        """The chart as plain text at its current size (tests read labels from it)."""
        if self.message is not None:
            return self.message
        width, height = max(self.size.width, 20), max(self.size.height, 8)
        self.plt.plotsize(width, height)
        self.plt._set_size(width, height)  # as PlotextPlot.render does
        return Text.from_ansi(self.plt.build()).plain


class Legend(Static):
    """A line (or a few) naming what the colours mean."""

    DEFAULT_CSS = """
    Legend { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    """


class RunLegend(Legend, can_focus=True):
    """A legend of runs to act on: ←/→ move along the entries, space hides or shows a run, i isolates it
    (again: shows every run)."""

    COMMAND_AREA = "Legend"

    DEFAULT_CSS = """
    RunLegend:focus { background: $boost; }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "Previous run", show=False, id="legend.previous"),
        Binding("right", "move(1)", "Next run", show=False, id="legend.next"),
        Binding("space", "toggle_run", "Hide/show run", id="legend.toggle"),
        Binding("i", "isolate_run", "Isolate run", id="legend.isolate"),
    ]

    class Changed(Message):
        """The set of hidden runs changed."""

        def __init__(self, hidden: frozenset[int]) -> None:
            self.hidden = hidden
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.entries: list[tuple[int, str, RGB]] = []
        self.hidden: set[int] = set()
        self.cursor = 0

    def set_entries(self, entries: Sequence[tuple[int, str, RGB]]) -> None:
        """The runs drawn (run index, name, colour)."""
        self.entries = list(entries)
        self.cursor = min(self.cursor, max(0, len(self.entries) - 1))
        self._show()

    def _show(self) -> None:
        self.display = bool(self.entries)  # nothing to act on (a distribution): no line, no focus stop
        text = Text()
        for position, (index, name, colour) in enumerate(self.entries):
            if position:
                text.append("  ")
            hidden = index in self.hidden
            style = "reverse" if self.has_focus and position == self.cursor else ""
            text.append("□\u00a0" if hidden else "■\u00a0", style=hex_colour(colour))
            label = middle_truncate(name, 24).replace(" ", "\u00a0")
            text.append(label, style=f"{style} strike dim" if hidden else style)
        self.update(text)

    def on_focus(self) -> None:
        """Show the cursor."""
        self._show()

    def on_blur(self) -> None:
        """Hide the cursor."""
        self._show()

    def action_move(self, step: int) -> None:
        """Move the cursor to the previous or next run."""
        if self.entries:
            self.cursor = (self.cursor + step) % len(self.entries)
            self._show()

    def action_toggle_run(self) -> None:
        """Hide or show the run under the cursor."""
        if self.entries:
            index = self.entries[self.cursor][0]
            self.hidden.symmetric_difference_update({index})
            self._changed()

    def action_isolate_run(self) -> None:
        """Show only the run under the cursor (again: show every run)."""
        if self.entries:
            index = self.entries[self.cursor][0]
            others = {i for i, _, _ in self.entries if i != index}
            self.hidden = set() if self.hidden == others else others
            self._changed()

    def _changed(self) -> None:
        self._show()
        self.post_message(self.Changed(frozenset(self.hidden)))


class PlotView(Horizontal):
    """A field list on the left, a status line, a chart and a legend on the right (scatter, parallel,
    distribution); subclasses set the chart class and what keys do with the highlighted field."""

    DEFAULT_CSS = """
    PlotView { height: 1fr; }
    PlotView > Vertical { width: 1fr; }
    PlotView .plot-status { height: 1; padding: 0 1; background: $boost; }
    """

    PLACEHOLDER = "type to filter"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.compare_data: CompareData | None = None
        self.hidden: frozenset[int] = frozenset()  # runs hidden from the run legend (space / i)

    def make_plot(self) -> ComparePlot:
        """The chart widget of this view."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        """Field list, status line, chart, legend."""
        yield FieldPicker(self.PLACEHOLDER, id=f"{self.id}-fields")
        with Vertical():
            yield Static("", classes="plot-status")
            yield self.make_plot()
            yield Legend("", classes="plot-legend")
            yield RunLegend(id=f"{self.id}-runs")

    def on_mount(self) -> None:
        """The field list shows what is chosen."""
        self.picker.marks = self.mark

    @property
    def picker(self) -> FieldPicker:
        """The field list."""
        return self.query_one(FieldPicker)

    @property
    def status_text(self) -> str:
        """The status line as shown (for tests)."""
        return str(self.query_one(".plot-status", Static).render())

    @property
    def legend_text(self) -> str:
        """The legend as shown (for tests)."""
        return str(self.query_one(".plot-legend", Legend).render())

    def mark(self, field: str) -> str:
        """The mark shown before a field in the list ('x', 'y', '●', ...)."""
        return ""

    def set_status(self, text: str, legend: Text | str = "") -> None:
        """Update the status line and the legend."""
        if self.hidden:
            text += f" · {len(self.hidden)} hidden (runs legend: space / i)"
        self.query_one(".plot-status", Static).update(text)
        self.query_one(".plot-legend", Legend).update(legend)

    def set_runs(self, entries: Sequence[tuple[int, str, RGB]]) -> None:
        """The runs drawn, for the runs legend (run index, name, colour)."""
        self.query_one(RunLegend).set_entries(entries)

    def shown(self, index: int) -> bool:
        """False for a run hidden from the runs legend."""
        return index not in self.hidden

    @on(RunLegend.Changed)
    def _runs_hidden(self, message: RunLegend.Changed) -> None:
        """space / i on the runs legend: redraw without the hidden runs."""
        message.stop()
        self.hidden = message.hidden
        self.redraw()

    def set_data(self, data: CompareData) -> None:
        """The compared runs arrived: choose defaults and draw."""
        self.compare_data = data
        self.choose_defaults(data)
        self.picker.set_fields(self.offered_fields(data))
        self.redraw()

    def offered_fields(self, data: CompareData) -> list[str]:
        """The fields offered in the list."""
        return data.fields

    def choose_defaults(self, data: CompareData) -> None:
        """Pick what to draw first (subclasses)."""

    def redraw(self) -> None:
        """Draw the chosen fields (subclasses), then refresh the marks in the list."""
        self.picker.refresh_marks()

    def highlighted(self) -> str | None:
        """The field under the list's highlight (None, with a hint, when the list is empty)."""
        field = self.picker.highlighted_field
        if field is None:
            self.notify("Nothing highlighted: clear the filter or pick a field in the list.")
        return field

"""CompareTable: run info, params and metrics side by side, one column per run and one row per key.

`d` hides rows identical across the runs, `m` shows latest/min/max metric values, `b` flips which end of a
metric is best. Differing values are highlighted, the best value of each metric row is starred.
It never queries the store: the screen hands it a CompareData built from runs a worker fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from ...formatting import needs_scientific, number
from ..compare_values import (
    AGGREGATES,
    INFO_ROWS,
    CompareData,
    best_indexes,
    lower_is_better,
    middle_truncate,
    values_differ,
)
from ..control_message import ControlMessage
from .kv_table import one_line

RUN_COLUMN_WIDTH = 14
KEY_COLUMN_WIDTH = 20
MISSING = "—"


@dataclass(frozen=True)
class TableLine:
    """One row as plain data: its key ('section:params', 'param:lr', ...), key text and cell texts."""

    key: str
    title: str
    cells: tuple[str, ...]
    differs: bool = False
    best: frozenset[int] = frozenset()
    section: bool = False


class CompareTable(DataTable[Text]):
    """Runs as columns (the key column stays while scrolling sideways); sections for info, params, metrics."""

    COMMAND_AREA = "Compare table"

    DEFAULT_CSS = """
    CompareTable { height: 1fr; }
    CompareTable > .compare-table--differs { color: $warning; }
    CompareTable > .compare-table--best { color: $success; text-style: bold; }
    CompareTable > .compare-table--missing { color: $text-disabled; }
    CompareTable > .compare-table--section { color: $accent; text-style: bold; }
    CompareTable > .compare-table--same { color: $text-muted; }
    """

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "compare-table--differs",
        "compare-table--best",
        "compare-table--missing",
        "compare-table--section",
        "compare-table--same",
    }

    BINDINGS = [
        Binding("d", "toggle_differences", "Differences only", id="compare.differences"),
        Binding("m", "cycle_aggregate", "Latest/Min/Max", id="compare.aggregate"),
        Binding("b", "flip_best", "Best: lower/higher", id="compare.best"),
    ]

    class ViewChanged(ControlMessage):
        """A toggle changed what the table shows (the screen updates its hint line)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, fixed_columns=1, cursor_type="cell", zebra_stripes=False)
        self.compare_data: CompareData | None = None
        self.only_differences = False
        self.aggregate = "latest"
        self.best_overrides: dict[str, bool] = {}  # metric key -> lower is better
        self.lines: list[TableLine] = []
        self.now_ms: int | None = None

    # ----------------------------------------------------------------- data in
    def set_data(self, data: CompareData, now_ms: int | None = None) -> None:
        """Show these runs (columns rebuilt)."""
        self.compare_data = data
        self.now_ms = now_ms
        self.rebuild()

    def lower_better(self, key: str) -> bool:
        """Whether lower values of this metric are better (by its name unless overridden with `b`)."""
        return self.best_overrides.get(key, lower_is_better(key))

    def build_lines(self) -> list[TableLine]:
        """Every row as plain data, after the differences-only filter."""
        data = self.compare_data
        if data is None:
            return []
        lines: list[TableLine] = [TableLine("section:info", "Run info", ())]
        for row in INFO_ROWS:
            cells = tuple(data.info_value(run, row, self.now_ms) for run in data.runs)
            lines.append(TableLine(f"info:{row}", row, cells, values_differ(cells)))
        lines.append(TableLine("section:params", f"Parameters ({len(data.param_keys)})", ()))
        for key in data.param_keys:
            raw = [run.run.data.params.get(key) for run in data.runs]
            cells = tuple(MISSING if v is None else one_line(v) for v in raw)
            lines.append(TableLine(f"param:{key}", key, cells, values_differ(raw)))
        lines.append(TableLine("section:metrics", f"Metrics, {self.aggregate} ({len(data.metric_keys)})", ()))
        for key in data.metric_keys:
            values = [data.metric(run, key, self.aggregate) for run in data.runs]
            scientific = any(needs_scientific(v) for v in values)  # one notation across the runs
            cells = tuple(MISSING if v is None else number(v, scientific) for v in values)
            arrow = "↓" if self.lower_better(key) else "↑"
            lines.append(
                TableLine(
                    f"metric:{key}",
                    f"{key} {arrow}",
                    cells,
                    values_differ(values),
                    frozenset(best_indexes(values, self.lower_better(key))),
                )
            )
        if self.only_differences:
            lines = [line for line in lines if line.key.startswith("section:") or line.differs]
        return [
            TableLine(line.key, line.title, line.cells, line.differs, line.best, True)
            if line.key.startswith("section:")
            else line
            for line in lines
        ]

    def rebuild(self) -> None:
        """Rebuild columns and rows from the data and the toggles (keeps the cursor on its key)."""
        data = self.compare_data
        keep = self.cursor_key
        column = self.cursor_column
        self.clear(columns=True)
        if data is None:
            return
        self.lines = self.build_lines()
        self.add_column(Text("key"), width=KEY_COLUMN_WIDTH, key="key")
        widths = []
        for index, run in enumerate(data.runs):
            cells = [len(line.cells[index]) + 1 for line in self.lines if line.cells]
            longest = max([len(run.label), *cells])
            widths.append(min(RUN_COLUMN_WIDTH, max(6, longest)))
            label = Text(middle_truncate(run.label, widths[-1]), style="bold")
            self.add_column(label, width=widths[-1], key=f"run:{index}")
        for line in self.lines:
            self.add_row(*self._line_cells(line, widths), key=line.key)
        if keep is not None:
            for index, line in enumerate(self.lines):
                if line.key == keep:
                    self.move_cursor(row=index, column=column, animate=False)
                    break

    def _line_cells(self, line: TableLine, widths: list[int]) -> list[Text]:
        style = self.get_component_rich_style
        if line.section:
            count = len(self.compare_data.runs) if self.compare_data else 0
            return [Text(line.title, style=style("compare-table--section"))] + [Text("")] * count
        title_style = style("compare-table--differs") if line.differs else Style()
        if line.differs:
            cells = [Text("≠ " + middle_truncate(line.title, KEY_COLUMN_WIDTH - 2), style=title_style)]
        else:
            cells = [Text("= ", style=style("compare-table--same"))]
            cells[0].append(middle_truncate(line.title, KEY_COLUMN_WIDTH - 2))
        for index, cell in enumerate(line.cells):
            width = widths[index]
            text = middle_truncate(cell, width)
            if cell == MISSING:
                cells.append(Text(text, style=style("compare-table--missing")))
            elif index in line.best:
                cells.append(Text("★" + middle_truncate(cell, width - 1), style=style("compare-table--best")))
            elif line.differs:
                cells.append(Text(text, style=style("compare-table--differs")))
            else:
                cells.append(Text(text, style=style("compare-table--same")))
        return cells

    # ----------------------------------------------------------------- data out
    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor ('metric:val_loss', ...)."""
        if not self.lines or not 0 <= self.cursor_row < len(self.lines):
            return None
        return self.lines[self.cursor_row].key

    def row_texts(self, key: str) -> list[str]:
        """The plain texts of a row as shown (key cell first), for tests and screen readers."""
        return [cell.plain for cell in self.get_row(key)]

    @property
    def row_keys(self) -> list[str]:
        """The keys of the shown rows, in order."""
        return [line.key for line in self.lines]

    def describe(self) -> str:
        """The state of the toggles in words."""
        parts = ["differences only" if self.only_differences else "all rows", f"metrics: {self.aggregate}"]
        return " · ".join(parts)

    # ----------------------------------------------------------------- actions
    def action_toggle_differences(self) -> None:
        """Show only rows whose values differ between the runs (again: all rows)."""
        self.only_differences = not self.only_differences
        self.rebuild()
        self.post_message(self.ViewChanged(self))

    def action_cycle_aggregate(self) -> None:
        """Metric rows show latest -> min -> max values."""
        self.aggregate = AGGREGATES[(AGGREGATES.index(self.aggregate) + 1) % len(AGGREGATES)]
        self.rebuild()
        self.post_message(self.ViewChanged(self))

    def action_flip_best(self) -> None:
        """On a metric row: flip whether lower or higher values are best."""
        key = self.cursor_key
        if key is None or not key.startswith("metric:"):
            self.notify("Put the cursor on a metric row to choose whether lower or higher is best.")
            return
        metric = key.split(":", 1)[1]
        self.best_overrides[metric] = not self.lower_better(metric)
        self.rebuild()
        which = "lower" if self.lower_better(metric) else "higher"
        self.notify(f"{metric}: {which} is better.")
        self.post_message(self.ViewChanged(self))

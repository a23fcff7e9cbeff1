"""RunTable: a line-API table of runs that renders only the visible lines, fed page by page.

It holds plain Run entities (a few hundred bytes each) and draws the ~30 visible lines on demand,
so 100,000 loaded runs cost no widgets; status and name stay in place when scrolling sideways.
The table never calls the store: it posts messages and the screen fetches in workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from runyard import Run
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from ...formatting import system_clock_ms, truncate
from ..compare_values import lower_is_better
from ..control_message import ControlMessage
from .run_rows import (
    AGGREGATES,
    DATASETS_COLUMN,
    FITTED_COLUMNS,
    FROZEN_COLUMNS,
    TREND_PREFIX,
    Column,
    TableRow,
    build_columns,
    cell_text,
    layout_rows,
    scientific_columns,
    status_text,
)
from .run_trends import TrendColumns, trend_keys

RGB = tuple[int, int, int]
LOAD_MORE_MARGIN = 100  # ask for the next page when the cursor or view is this close to the end


class RunTable(TrendColumns, can_focus=True):
    """Runs as rows; cursor, multi-selection, collapsible children, sort markers; pages appended lazily."""

    COMMAND_AREA = "Runs"
    EMPTY_CLASS = "run-table--empty"
    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False, id="runs.up"),
        Binding("down", "cursor_down", "Down", show=False, id="runs.down"),
        Binding("left", "cursor_left", "Left", show=False, id="runs.left"),
        Binding("right", "cursor_right", "Right", show=False, id="runs.right"),
        Binding("pageup", "page_up", "Page up", show=False, id="runs.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="runs.page_down"),
        Binding("home", "first", "First run", show=False, id="runs.first"),
        Binding("end", "last", "Last run", show=False, id="runs.last"),
        Binding(  # priority: keys typed right after `/` must reach the search box, not the table
            "slash",
            "search",
            "Search",
            id="runs.search",
            tooltip="Search runs (query language)",
            priority=True,
        ),
        Binding(
            "s",
            "sort",
            "Sort",
            id="runs.sort",
            tooltip="Sort by the column under the cursor (again: reverse)",
        ),
        Binding(
            "C", "choose_columns", "Columns", id="runs.columns", tooltip="Choose param/metric/tag columns"
        ),
        Binding("space", "toggle_select", "Select", id="runs.select", tooltip="Select or unselect the run"),
        Binding("a", "select_all", "All", show=False, id="runs.select_all", tooltip="Select all loaded runs"),
        Binding(
            "A",
            "select_none",
            "None",
            show=False,
            id="runs.select_none",
            tooltip="Select none (clear the selection)",
        ),
        Binding(
            "d",
            "delete",
            "Delete",
            id="runs.delete",
            tooltip="Delete the selected runs (or the run under the cursor)",
        ),
        Binding(
            "e",
            "export",
            "Export CSV",
            id="runs.export",
            tooltip="Export the selected (or all matching) runs as CSV",
        ),
        Binding(
            "v",
            "state_filter",
            "State",
            id="runs.state_filter",
            tooltip="Show active, deleted or all runs",
        ),
        Binding(
            "m",
            "aggregate",
            "Latest/Min/Max",
            show=False,
            id="runs.aggregate",
            tooltip="Metric columns show latest, min or max",
        ),
        Binding(
            "z",
            "collapse",
            "Fold children",
            show=False,
            id="runs.collapse",
            tooltip="Fold or unfold the children of this run",
        ),
        Binding(
            "Z",
            "collapse_all",
            "Fold all",
            show=False,
            id="runs.collapse_all",
            tooltip="Fold or unfold all children",
        ),
        Binding("enter", "open_run", "Open", id="runs.open", tooltip="Open the run's details"),  # issue 6
        Binding(
            "c", "compare", "Compare", id="runs.compare", tooltip="Compare the selected runs side by side"
        ),  # issue 7
    ]

    COMPONENT_CLASSES = {
        "run-table--header",
        "run-table--header-cursor",
        "run-table--cursor",
        "run-table--cursor-cell",
        "run-table--selected",
        "run-table--dim",
        "run-table--status-running",
        "run-table--status-finished",
        "run-table--status-failed",
        "run-table--status-killed",
        "run-table--status-lost",
        "run-table--status-scheduled",
        "run-table--metric",
        "run-table--trend-alert",
        "run-table--empty",
    }

    class RunOpened(ControlMessage):
        """The user asked for the details of a run (bound by the run-details screen)."""

        def __init__(self, widget: Widget, run_id: str) -> None:
            self.run_id = run_id
            super().__init__(widget)

    class CompareRequested(ControlMessage):
        """The user asked to compare the selected runs (bound by the compare screen)."""

        def __init__(self, widget: Widget, run_ids: list[str]) -> None:
            self.run_ids = run_ids
            super().__init__(widget)

    class SortRequested(ControlMessage):
        """Sort by this column (descending when already sorted ascending by it)."""

        def __init__(self, widget: Widget, column_id: str, descending: bool) -> None:
            self.column_id = column_id
            self.descending = descending
            super().__init__(widget)

    class MoreRunsWanted(ControlMessage):
        """The cursor or view is near the end of the loaded runs and more pages exist."""

    class DeleteRequested(ControlMessage):
        """Move these runs to the trash (after confirmation)."""

        def __init__(self, widget: Widget, run_ids: list[str]) -> None:
            self.run_ids = run_ids
            super().__init__(widget)

    class ExportRequested(ControlMessage):
        """Export these runs as CSV (None: every run matching the search, loaded or not)."""

        def __init__(self, widget: Widget, runs: list[Run] | None) -> None:
            self.runs = runs
            super().__init__(widget)

    class ColumnsRequested(ControlMessage):
        """Open the column chooser."""

    class SearchRequested(ControlMessage):
        """Focus the search box."""

    class StateFilterRequested(ControlMessage):
        """Cycle the lifecycle filter Active -> Deleted -> All."""

    class AggregateChanged(ControlMessage):
        """Metric columns now show latest, min or max."""

        def __init__(self, widget: Widget, aggregate: str) -> None:
            self.aggregate = aggregate
            super().__init__(widget)

    class SelectionChanged(ControlMessage):
        """The set of selected runs changed."""

        def __init__(self, widget: Widget, run_ids: list[str]) -> None:
            self.run_ids = run_ids
            super().__init__(widget)

    cursor_column: reactive[int] = reactive(1, repaint=False)

    def __init__(
        self,
        *,
        clock: Callable[[], int] = system_clock_ms,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(clock=clock, empty_text="No runs.", name=name, id=id, classes=classes)
        self.columns: list[Column] = build_columns([])
        self.dynamic_columns: list[str] = []
        self.collapsed: set[str] = set()
        self.scientific: set[str] = set()  # metric columns written in scientific notation
        # (runs list identity and length, selected run ids, their colours): built once per selection
        self._selection_colours: tuple[tuple[int, int], set[str], dict[str, tuple[int, int, int]]] | None = (
            None
        )
        self.parent_names: dict[str, str] = {}
        self.has_more = False
        self.aggregate = "latest"
        self.sort_column: str | None = None
        self.sort_descending = False
        self._index_of: dict[str, int] = {}
        self.alerting: frozenset[str] = frozenset()  # RUNNING runs with an active alert: a ⚠ badge

    # ----------------------------------------------------------------- data in
    def set_alerting(self, run_ids: frozenset[str]) -> None:
        """Mark these runs with the ⚠ badge (an alert of the watch: NaN, lost, stalled, GPU idle)."""
        if run_ids != self.alerting:
            self.alerting = run_ids
            self.refresh()

    def set_runs(
        self, runs: Sequence[Run], has_more: bool, parent_names: dict[str, str] | None = None
    ) -> None:
        """Replace the rows (new search or refresh); the cursor stays on its run when still shown."""
        current = self.cursor_run_id
        self.runs = list(runs)
        self.parent_names = dict(parent_names or {})
        self.has_more = has_more
        known = {run.info.run_id for run in self.runs}
        if self.selected - known:
            self.selected &= known
            self.post_message(self.SelectionChanged(self, self.selected_run_ids))
        self._relayout(current)

    def append_runs(
        self, runs: Sequence[Run], has_more: bool, parent_names: dict[str, str] | None = None
    ) -> None:
        """Add the next page of runs (already-shown runs are not repeated)."""
        known = {run.info.run_id for run in self.runs}
        self.runs.extend(run for run in runs if run.info.run_id not in known)
        self.parent_names.update(parent_names or {})
        self.has_more = has_more
        self._relayout(self.cursor_run_id)

    def update_runs(self, runs: Sequence[Run]) -> None:
        """Replace loaded runs by fresher copies (live refresh); nothing moves."""
        fresh = {run.info.run_id: run for run in runs}
        if not fresh:
            return
        self.runs = [fresh.get(run.info.run_id, run) for run in self.runs]
        self.rows = [
            TableRow(fresh[row.run.info.run_id], row.depth, row.child_count, row.parent_name)
            if row.run.info.run_id in fresh
            else row
            for row in self.rows
        ]
        self.refresh()
        self._want_recent()

    def set_columns(self, dynamic_ids: Sequence[str]) -> None:
        """Show these param/metric/tag columns after the fixed ones."""
        self.dynamic_columns = list(dict.fromkeys(dynamic_ids))
        self.trends.set_keys(trend_keys(self.dynamic_columns))
        self._rebuild_columns()
        self._want_recent()

    def set_aggregate(self, aggregate: str) -> None:
        """Metric columns show latest, min or max."""
        self.aggregate = aggregate if aggregate in AGGREGATES else "latest"
        self._rebuild_columns()

    def set_sort(self, column_id: str | None, descending: bool) -> None:
        """Show the sort marker on this column (the rows come sorted from the store)."""
        self.sort_column = column_id
        self.sort_descending = descending
        self._relayout(self.cursor_run_id)

    def clear(self, empty_text: str = "No runs.") -> None:
        """Remove every row and show a message instead."""
        self.empty_text = empty_text
        self.selected.clear()
        self.set_runs([], False)

    # ----------------------------------------------------------------- data out
    @property
    def selected_run_ids(self) -> list[str]:
        """Selected run ids in the order of the loaded runs."""
        return [run.info.run_id for run in self.runs if run.info.run_id in self.selected]

    @property
    def running_run_ids(self) -> list[str]:
        """Loaded runs that are RUNNING (the live refresh re-reads them)."""
        return [run.info.run_id for run in self.runs if run.info.status == "RUNNING"]

    def row_text(self, index: int) -> list[str]:
        """The cell texts of a row, as shown (for tests and screen readers)."""
        now = self.clock()
        row = self.rows[index]
        return [self._cell(row, column, now) for column in self.columns]

    def _cell(self, row: TableRow, column: Column, now: int) -> str:
        column_id = column.id
        if column_id.startswith(TREND_PREFIX):
            return self.trend_cell(row, column)
        scientific = column_id in self.scientific
        text = cell_text(row, column_id, now, self.aggregate, self.collapsed, scientific)
        if column_id == "status":
            run_id = row.run.info.run_id
            return ("●" if run_id in self.selected else "⚠" if run_id in self.alerting else " ") + text
        return text

    def column_index(self, column_id: str) -> int:
        """The position of a column (ValueError when not shown)."""
        return [column.id for column in self.columns].index(column_id)

    def action_open_run(self) -> None:
        """Open the run under the cursor (run-details screen, issue 6)."""
        self.open_cursor_run()

    def open_cursor_run(self) -> None:
        """Post RunOpened for the run under the cursor (the run-details screen binds a key to this)."""
        run_id = self.cursor_run_id
        if run_id:
            self.post_message(self.RunOpened(self, run_id))

    def request_compare(self) -> None:
        """Post CompareRequested for the selected runs (the compare screen binds a key to this)."""
        if self.selected:
            self.post_message(self.CompareRequested(self, self.selected_run_ids))

    def action_compare(self) -> None:
        """Compare the selected runs (compare screen, issue 7); says how when fewer than two are selected."""
        if len(self.selected) < 2:
            self.notify("Select two or more runs with space (a: all) to compare them.", severity="warning")
            return
        self.request_compare()

    # ----------------------------------------------------------------- layout
    def _rebuild_columns(self) -> None:
        widths = {}
        sample = self.rows[:2000]
        for column_id, (narrowest, widest) in FITTED_COLUMNS.items():
            longest = max(
                (len(cell_text(row, column_id, 0, "latest", self.collapsed)) for row in sample), default=0
            )
            widths[column_id] = min(max(longest + (1 if column_id == "name" else 0), narrowest), widest)
        self.columns = build_columns(self.dynamic_columns, self.aggregate, widths)
        self.scientific = scientific_columns(self.rows, self.dynamic_columns, self.aggregate)
        self.cursor_column = min(self.cursor_column, len(self.columns) - 1)
        self._update_virtual_size()
        self.refresh()

    def _relayout(self, keep_run_id: str | None) -> None:
        self.rows = layout_rows(self.runs, self.collapsed, self.parent_names, self.sort_column is not None)
        self._index_of = {row.run.info.run_id: index for index, row in enumerate(self.rows)}
        self._rebuild_columns()
        if keep_run_id is not None and keep_run_id in self._index_of:
            self.cursor_row = self._index_of[keep_run_id]
        else:
            self.cursor_row = min(self.cursor_row, max(0, len(self.rows) - 1))
        self._scroll_cursor_into_view()

    def _update_virtual_size(self) -> None:
        width = sum(column.width + 1 for column in self.columns)
        if self.is_mounted and width > self.scrollable_content_region.width:
            # room to scroll the last column to the left edge: sideways scrolling stops at column starts
            width += max((column.width + 1 for column in self.columns[FROZEN_COLUMNS:]), default=0)
        self.virtual_size = Size(width, len(self.rows) + 1)

    @property
    def _frozen_width(self) -> int:
        return sum(column.width + 1 for column in self.columns[:FROZEN_COLUMNS])

    def _scroll_cursor_into_view(self) -> None:
        top = self._cursor_top()
        left = int(self.scroll_offset.x)
        if self.cursor_column >= FROZEN_COLUMNS:
            start = sum(c.width + 1 for c in self.columns[FROZEN_COLUMNS : self.cursor_column])
            end = start + self.columns[self.cursor_column].width + 1
            room = max(1, self.scrollable_content_region.width - self._frozen_width)
            if start < left:
                left = start
            elif end > left + room:
                left = end - room
            left = min(self._column_start_at_or_after(left), start)  # never past the cursor's column
        else:
            left = self._column_start_at_or_after(left)
        self.scroll_to(x=left, y=top, animate=False, force=True)
        self._maybe_want_more()
        self._want_recent()

    def _column_start_at_or_after(self, left: int) -> int:
        """Scroll sideways by whole columns: a column cut on its left would show a wrong value
        ("16m 58s" as "6m 58s", "0.31" as ".31"), so start at the next column instead."""
        start = 0
        for column in self.columns[FROZEN_COLUMNS:]:
            if start >= left:
                return start
            start += column.width + 1
        return left if left <= 0 else start

    def _maybe_want_more(self) -> None:
        bottom = int(self.scroll_offset.y) + self.scrollable_content_region.height
        if self.has_more and max(self.cursor_row, bottom) >= len(self.rows) - LOAD_MORE_MARGIN:
            self.post_message(self.MoreRunsWanted(self))

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Ask for more runs when scrolled near the end (mouse wheel, scrollbar)."""
        super().watch_scroll_y(old, new)
        self._maybe_want_more()
        self._want_recent()

    # ----------------------------------------------------------------- rendering
    def _compose_line(self, cells: list[list[tuple[str, Style]]], width: int, base: Style) -> Strip:
        """One line from its cells (each cell one or more (text, style) pieces); frozen columns stay put."""
        frozen = Strip([Segment(text, style) for cell in cells[:FROZEN_COLUMNS] for text, style in cell])
        scrolling = Strip([Segment(text, style) for cell in cells[FROZEN_COLUMNS:] for text, style in cell])
        left = int(self.scroll_offset.x)
        room = max(0, width - frozen.cell_length)
        line = Strip.join([frozen, scrolling.crop(left, left + room)])
        return line.extend_cell_length(width, base).crop(0, width)

    def _render_header(self, width: int) -> Strip:
        header = self.get_component_rich_style("run-table--header")
        header_cursor = self.get_component_rich_style("run-table--header-cursor")
        cells = []
        for index, column in enumerate(self.columns):
            label = column.label
            if column.id == self.sort_column:
                label = f"{label} {'▼' if self.sort_descending else '▲'}"
            text = truncate(label, column.width)
            text = text.rjust(column.width) if column.numeric else text.ljust(column.width)
            style = header + header_cursor if index == self.cursor_column and self.has_focus else header
            cells.append([(text + " ", style)])
        return self._compose_line(cells, width, header)

    def _render_row(self, index: int, width: int) -> Strip:
        row = self.rows[index]
        now = self.clock()
        base = self.rich_style
        selected = row.run.info.run_id in self.selected
        if selected:
            base = base + self.get_component_rich_style("run-table--selected")
        is_cursor = index == self.cursor_row
        if is_cursor and self.has_focus:
            base = base + self.get_component_rich_style("run-table--cursor")
        cells = []
        colour = self.selection_colours.get(row.run.info.run_id) if selected else None
        for column_index, column in enumerate(self.columns):
            text = self._cell(row, column, now)
            style = base
            if column.id.startswith(TREND_PREFIX) and "!" in text:  # a NaN or an infinity
                style = base + self.get_component_rich_style("run-table--trend-alert", partial=True)
            elif column.id == "status":
                word = status_text(row.run, now).lower()
                style = base + self.get_component_rich_style(f"run-table--status-{word}", partial=True)
            elif column.id == "name" and (row.parent_name or row.run.info.lifecycle_stage == "deleted"):
                style = base + self.get_component_rich_style("run-table--dim", partial=True)
            if is_cursor and column_index == self.cursor_column and self.has_focus:
                style = style + self.get_component_rich_style("run-table--cursor-cell", partial=True)
            text = truncate(text, column.width)
            text = text.rjust(column.width) if column.numeric else text.ljust(column.width)
            if column.id == "status" and colour is not None:  # the run's colour in compare's plots
                marker = style + Style(color=f"rgb({colour[0]},{colour[1]},{colour[2]})", bold=True)
                cells.append([(text[:1], marker), (text[1:] + " ", style)])
            else:
                cells.append([(text + " ", style)])
        return self._compose_line(cells, width, base)

    @property
    def selection_colours(self) -> dict[str, RGB]:
        """Each selected run's colour: the one it gets in compare's plots (same order, same palette)."""
        from ..plots.compare_plot import run_colour

        key = (id(self.runs), len(self.runs))
        cached = self._selection_colours
        if cached is None or cached[0] != key or cached[1] != self.selected:  # set comparison: fast, in C
            colours = {run_id: run_colour(index) for index, run_id in enumerate(self.selected_run_ids)}
            cached = self._selection_colours = (key, set(self.selected), colours)
        return cached[2]

    def watch_cursor_column(self) -> None:
        """Repaint when the column cursor moves."""
        self.refresh()

    # ----------------------------------------------------------------- mouse
    def on_click(self, event: events.Click) -> None:
        """Header click sorts by that column; a row click moves the cursor there, a double click opens it."""
        column = self._column_at(event.x)
        if event.y == 0:
            if column is not None:
                self.cursor_column = column
                self.action_sort()
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self.rows):
            self.cursor_row = index
            if column is not None:
                self.cursor_column = column
            self._scroll_cursor_into_view()
            if event.chain == 2:  # a double click opens the run
                self.open_cursor_run()

    def _column_at(self, x: int) -> int | None:
        position = 0
        for index, column in enumerate(self.columns):
            if index == FROZEN_COLUMNS:
                position -= int(self.scroll_offset.x)
            if position <= x < position + column.width + 1 and (
                index < FROZEN_COLUMNS or x >= self._frozen_width
            ):
                return index
            position += column.width + 1
        return None

    # ----------------------------------------------------------------- actions
    def action_cursor_left(self) -> None:
        """Move the column cursor left."""
        self.cursor_column = max(0, self.cursor_column - 1)
        self._scroll_cursor_into_view()

    def action_cursor_right(self) -> None:
        """Move the column cursor right."""
        self.cursor_column = min(len(self.columns) - 1, self.cursor_column + 1)
        self._scroll_cursor_into_view()

    def action_sort(self) -> None:
        """Sort by the column under the cursor (metrics: best first, by lower_is_better); again reverses."""
        column = self.columns[self.cursor_column]
        if column.id == DATASETS_COLUMN:
            self.notify("The Datasets column cannot be sorted: filter with datasets.name = '...'.")
            return
        column_id = column.id  # a sparkline column sorts by its metric
        if column_id.startswith(TREND_PREFIX):
            column_id = "metrics." + column_id[len(TREND_PREFIX) :]
        if column_id == self.sort_column:
            descending = not self.sort_descending
        elif column_id.startswith("metrics."):
            descending = not lower_is_better(column_id.partition(".")[2])  # best first
        else:
            descending = column.numeric
        self.post_message(self.SortRequested(self, column_id, descending))

    def action_choose_columns(self) -> None:
        """Open the column chooser."""
        self.post_message(self.ColumnsRequested(self))

    def action_delete(self) -> None:
        """Ask to move the selected runs (or the run under the cursor) to the trash."""
        run_ids = self.target_run_ids()
        if run_ids:
            self.post_message(self.DeleteRequested(self, run_ids))
        else:
            self.notify("No runs here to delete.", severity="warning")

    def action_export(self) -> None:
        """Ask to export the selected runs (or every run matching the search) as CSV."""
        chosen = self.selected
        runs = [run for run in self.runs if run.info.run_id in chosen] if chosen else None
        if runs or (runs is None and self.runs):
            self.post_message(self.ExportRequested(self, runs))
        else:
            self.notify("No runs here to export.", severity="warning")

    def action_state_filter(self) -> None:
        """Cycle Active -> Deleted -> All."""
        self.post_message(self.StateFilterRequested(self))

    def action_aggregate(self) -> None:
        """Metric columns: latest -> min -> max."""
        following = AGGREGATES[(AGGREGATES.index(self.aggregate) + 1) % len(AGGREGATES)]
        self.set_aggregate(following)
        self.post_message(self.AggregateChanged(self, following))

    def action_collapse(self) -> None:
        """Fold or unfold the children of the run under the cursor (or of its parent)."""
        if not self.rows:
            return
        row = self.rows[self.cursor_row]
        target = row.run.info.run_id
        if not row.child_count:
            parent = row.run.info.parent_run_id
            if not parent or parent not in self._index_of:
                return
            target = parent
        self.collapsed.symmetric_difference_update({target})
        self._relayout(target if target in self.collapsed else self.cursor_run_id)

    def action_collapse_all(self) -> None:
        """Fold every parent, or unfold all when some are folded."""
        parents = {row.run.info.run_id for row in self.rows if row.child_count}
        self.collapsed = set() if self.collapsed else parents
        self._relayout(self.cursor_run_id)

    def _post_selection_changed(self) -> None:
        self.post_message(self.SelectionChanged(self, self.selected_run_ids))

    def _post_search_requested(self) -> None:
        self.post_message(self.SearchRequested(self))

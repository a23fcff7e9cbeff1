"""Trash tables: deleted runs (line API, children under their parent) and deleted experiments.

TrashTable draws only the visible lines of plain Run entities (like RunTable), with the columns the
trash needs: status, name (indented under its parent), experiment, deleted time, days left before
garbage collection, start time. The tables never call the store: they post messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from runyard import Experiment, Run
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from ... import formatting
from ...formatting import system_clock_ms, truncate
from ..control_message import ControlMessage
from .line_table import LineTable
from .run_rows import TableRow, layout_rows, name_text, status_text

DAY_MS = 86_400_000
SOON_DAYS = 3  # rows this close to garbage collection are highlighted


def days_left(deleted_time: int | None, now_ms: int, retention_days: float) -> int | None:
    """Whole days (rounded up) before gc may remove something deleted at deleted_time; 0 when due."""
    if deleted_time is None:
        return None
    remaining = deleted_time + retention_days * DAY_MS - now_ms
    return max(0, math.ceil(remaining / DAY_MS))


def days_left_text(days: int | None) -> str:
    """'29 days', '1 day', 'gc due' (0), '' (unknown)."""
    if days is None:
        return ""
    if days == 0:
        return "gc due"
    return "1 day" if days == 1 else f"{days} days"


class TrashTable(LineTable, can_focus=True):
    """Deleted runs: cursor, multi-selection, children under their parent; `u` restores, `P` purges."""

    COMMAND_AREA = "Deleted runs"
    EMPTY_CLASS = "trash-table--empty"
    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False, id="trash_runs.up"),
        Binding("down", "cursor_down", "Down", show=False, id="trash_runs.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="trash_runs.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="trash_runs.page_down"),
        Binding("home", "first", "First run", show=False, id="trash_runs.first"),
        Binding("end", "last", "Last run", show=False, id="trash_runs.last"),
        Binding("u", "restore", "Restore", id="trash_runs.restore", tooltip="Restore the selected runs"),
        Binding(
            "P",
            "purge",
            "Purge",
            id="trash_runs.purge",
            tooltip="Delete the selected runs permanently (cannot be undone)",
        ),
        Binding("space", "toggle_select", "Select", id="trash_runs.select", tooltip="Select or unselect"),
        Binding("a", "select_all", "All", show=False, id="trash_runs.select_all", tooltip="Select all"),
        Binding("A", "select_none", "None", show=False, id="trash_runs.select_none", tooltip="Select none"),
        Binding(  # priority: keys typed right after `/` must reach the search box
            "slash",
            "search",
            "Search",
            show=False,
            id="trash_runs.search",
            tooltip="Search the trash",
            priority=True,
        ),
    ]

    COMPONENT_CLASSES = {
        "trash-table--header",
        "trash-table--cursor",
        "trash-table--selected",
        "trash-table--dim",
        "trash-table--soon",
        "trash-table--empty",
    }

    DEFAULT_CSS = """
    TrashTable { height: 1fr; scrollbar-size-vertical: 1; }
    TrashTable > .trash-table--header { text-style: bold; background: $panel; color: $text; }
    TrashTable > .trash-table--cursor { background: $primary 30%; }
    TrashTable > .trash-table--selected { background: $accent 25%; }
    TrashTable > .trash-table--dim { color: $text-muted; }
    TrashTable > .trash-table--soon { color: $warning; text-style: bold; }
    TrashTable > .trash-table--empty { color: $text-muted; text-style: italic; }
    """

    class RestoreRequested(ControlMessage):
        """Restore these runs (after a dialog that counts the children coming back)."""

        def __init__(self, widget: Widget, run_ids: list[str]) -> None:
            self.run_ids = run_ids
            super().__init__(widget)

    class PurgeRequested(ControlMessage):
        """Remove these runs permanently (after confirmation)."""

        def __init__(self, widget: Widget, run_ids: list[str]) -> None:
            self.run_ids = run_ids
            super().__init__(widget)

    class SearchRequested(ControlMessage):
        """Focus the search box."""

    class SelectionChanged(ControlMessage):
        """The set of selected runs changed."""

    def __init__(
        self,
        *,
        clock: Callable[[], int] = system_clock_ms,
        retention_days: float = 30.0,
        id: str | None = None,
    ) -> None:
        super().__init__(clock=clock, empty_text="The trash is empty.", id=id)
        self.retention_days = retention_days
        self.experiment_names: dict[str, str] = {}
        self.show_experiment = False
        self._longest_name = 0  # widths fitted once per set_runs, not per painted line
        self._longest_experiment = 10

    # ----------------------------------------------------------------- data
    def set_runs(
        self,
        runs: Sequence[Run],
        parent_names: dict[str, str] | None = None,
        experiment_names: dict[str, str] | None = None,
    ) -> None:
        """Show these deleted runs, most recently deleted first, children under their parent."""
        current = self.cursor_run_id
        ordered = sorted(runs, key=lambda run: -(run.info.deleted_time or 0))
        self.runs = ordered
        self.experiment_names = dict(experiment_names or {})
        self.show_experiment = len({run.info.experiment_id for run in ordered}) > 1
        self.selected &= {run.info.run_id for run in ordered}
        self.rows = layout_rows(ordered, set(), dict(parent_names or {}))
        self._longest_name = max((len(name_text(row, set())) for row in self.rows[:2000]), default=0)
        shown = {run.info.experiment_id for run in ordered}
        self._longest_experiment = max((len(self.experiment_names.get(e, e[:8])) for e in shown), default=10)
        index = next((i for i, row in enumerate(self.rows) if row.run.info.run_id == current), None)
        self.cursor_row = index if index is not None else min(self.cursor_row, max(0, len(self.rows) - 1))
        self._update_virtual_size()
        self._scroll_cursor_into_view()
        self.refresh()

    def columns(self, width: int) -> list[tuple[str, str, int]]:
        """(id, label, width) of the shown columns; the name takes the room the others leave."""
        fixed = [("status", " Status", 9)]
        rest = [("deleted", "Deleted", 11), ("left", "Days left", 9), ("start", "Started", 11)]
        if self.show_experiment:
            rest.insert(0, ("experiment", "Experiment", min(max(self._longest_experiment, 10), 24)))
        used = sum(w + 1 for _, _, w in fixed + rest)
        name_width = max(16, min(self._longest_name + 2, 48, width - used - 1))
        return [*fixed, ("name", "Run", name_width), *rest]

    def cell(self, row: TableRow, column_id: str, now: int) -> str:
        """The text of one cell."""
        info = row.run.info
        if column_id == "status":
            return ("●" if info.run_id in self.selected else " ") + status_text(row.run, now)
        if column_id == "name":
            return name_text(row, set()).replace(" (deleted)", "")
        if column_id == "experiment":
            return self.experiment_names.get(info.experiment_id, info.experiment_id[:8])
        if column_id == "deleted":
            return formatting.relative_time(info.deleted_time, now)
        if column_id == "left":
            return days_left_text(days_left(info.deleted_time, now, self.retention_days))
        if column_id == "start":
            return formatting.relative_time(info.start_time, now)
        return ""

    def row_text(self, index: int) -> dict[str, str]:
        """The cells of a row by column id, as shown (for tests)."""
        now = self.clock()
        row = self.rows[index]
        return {cid: self.cell(row, cid, now) for cid, _, _ in self.columns(self.size.width or 100)}

    # ----------------------------------------------------------------- rendering
    def _render_header(self, width: int) -> Strip:
        header = self.get_component_rich_style("trash-table--header")
        text = "".join(truncate(label, w).ljust(w) + " " for _, label, w in self.columns(width))
        return Strip([Segment(text, header)]).extend_cell_length(width, header).crop(0, width)

    def _render_row(self, index: int, width: int) -> Strip:
        columns = self.columns(width)
        row = self.rows[index]
        now = self.clock()
        base = self.rich_style
        if row.run.info.run_id in self.selected:
            base = base + self.get_component_rich_style("trash-table--selected")
        if index == self.cursor_row and self.has_focus:
            base = base + self.get_component_rich_style("trash-table--cursor")
        segments = []
        for column_id, _, column_width in columns:
            style: Style = base
            if column_id in ("start", "deleted", "experiment") or (column_id == "name" and row.depth):
                style = base + self.get_component_rich_style("trash-table--dim", partial=True)
            if column_id == "left":
                left = days_left(row.run.info.deleted_time, now, self.retention_days)
                if left is not None and left <= SOON_DAYS:
                    style = base + self.get_component_rich_style("trash-table--soon", partial=True)
            text = truncate(self.cell(row, column_id, now), column_width).ljust(column_width)
            segments.append(Segment(text + " ", style))
        return Strip(segments).extend_cell_length(width, base).crop(0, width)

    def on_click(self, event: object) -> None:
        """A click on a row moves the cursor there."""
        y = getattr(event, "y", 0)
        index = int(self.scroll_offset.y) + y - 1
        if y > 0 and 0 <= index < len(self.rows):
            self.cursor_row = index

    def _post_selection_changed(self) -> None:
        self.post_message(self.SelectionChanged(self))

    def _post_search_requested(self) -> None:
        self.post_message(self.SearchRequested(self))

    # ----------------------------------------------------------------- actions
    def action_restore(self) -> None:
        """Ask to restore the selected runs (or the run under the cursor)."""
        run_ids = self.target_run_ids()
        if run_ids:
            self.post_message(self.RestoreRequested(self, run_ids))

    def action_purge(self) -> None:
        """Ask to remove the selected runs (or the run under the cursor) permanently."""
        run_ids = self.target_run_ids()
        if run_ids:
            self.post_message(self.PurgeRequested(self, run_ids))


class DeletedExperimentsTable(DataTable[str]):
    """Experiments in the trash with their deleted time, days left and runs; `u` restores, `P` purges."""

    COMMAND_AREA = "Deleted experiments"
    BINDINGS = [
        Binding(
            "u",
            "restore",
            "Restore",
            id="trash_experiments.restore",
            tooltip="Restore the experiment with its runs",
        ),
        Binding(
            "P",
            "purge",
            "Purge",
            id="trash_experiments.purge",
            tooltip="Delete the experiment and all its runs permanently",
        ),
    ]

    class RestoreRequested(ControlMessage):
        """Restore this experiment."""

        def __init__(self, widget: Widget, experiment: Experiment) -> None:
            self.experiment = experiment
            super().__init__(widget)

    class PurgeRequested(ControlMessage):
        """Remove this experiment and its runs permanently (after confirmation)."""

        def __init__(self, widget: Widget, experiment: Experiment) -> None:
            self.experiment = experiment
            super().__init__(widget)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=False)
        self.experiments: list[Experiment] = []
        self.run_counts: dict[str, int] = {}  # active runs, which come back with the experiment

    def on_focus(self) -> None:
        """Show the row cursor only while focused (so it is clear which table keys act on)."""
        self.show_cursor = True

    def on_blur(self) -> None:
        """Hide the row cursor."""
        self.show_cursor = False

    def on_mount(self) -> None:
        """The columns."""
        self.add_column("Experiment", key="name", width=34)
        self.add_column("Deleted", key="deleted", width=11)
        self.add_column("Days left", key="left", width=9)
        self.add_column("Runs", key="runs", width=8)

    def set_experiments(
        self, experiments: Sequence[Experiment], run_counts: dict[str, int], now_ms: int, retention: float
    ) -> None:
        """Show these trashed experiments, most recently deleted first."""
        self.experiments = sorted(experiments, key=lambda e: -(e.deleted_time or 0))
        self.run_counts = dict(run_counts)
        self.clear()
        for experiment in self.experiments:
            count = run_counts.get(experiment.experiment_id, 0)
            self.add_row(
                experiment.name,
                formatting.relative_time(experiment.deleted_time, now_ms),
                days_left_text(days_left(experiment.deleted_time, now_ms, retention)),
                formatting.count(count),
                key=experiment.experiment_id,
            )

    @property
    def cursor_experiment(self) -> Experiment | None:
        """The experiment under the cursor."""
        if 0 <= self.cursor_row < len(self.experiments):
            return self.experiments[self.cursor_row]
        return None

    def action_restore(self) -> None:
        """Ask to restore the experiment under the cursor."""
        if self.cursor_experiment is not None:
            self.post_message(self.RestoreRequested(self, self.cursor_experiment))

    def action_purge(self) -> None:
        """Ask to purge the experiment under the cursor."""
        if self.cursor_experiment is not None:
            self.post_message(self.PurgeRequested(self, self.cursor_experiment))

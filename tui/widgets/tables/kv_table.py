"""KVTable: a filterable, sortable table of rows (params, tags, metric summaries) for the run-details screen.

It holds plain tuples, never queries the store, and rebuilds its DataTable only on filter or sort
changes (1,000 rows rebuild in a few ms). Long values are cut to one line; `enter` posts RowChosen so
the screen can open the full value in a viewer (or, for tags, an editor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from ..in_order_input import InOrderInput

MAX_CELL_CHARS = 80


@dataclass(frozen=True)
class KVRow:
    """One row: its key, the cell texts, values to sort by (numbers sort as numbers) and a dim flag."""

    key: str
    cells: tuple[str, ...]
    sort_values: tuple[object, ...]
    dim: bool = False


def one_line(text: str, limit: int = MAX_CELL_CHARS) -> str:
    """A value on one line, cut to limit characters with an ellipsis."""
    flat = text.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\t", " ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _sort_key(value: object) -> tuple[int, float, str]:
    """Numbers before text, NaN and missing last."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value:
            return (2, 0.0, "")
        return (0, float(value), "")
    if value is None or value == "":
        return (2, 0.0, "")
    return (1, 0.0, str(value).lower())


class KVTable(Vertical):
    """A filter input above a DataTable; `s` cycles the sort column, `r` reverses, `/` filters."""

    COMMAND_AREA = "Table"

    DEFAULT_CSS = """
    KVTable { height: auto; }
    KVTable > .kv-filter { height: 1; border: none; padding: 0 1; background: $boost; }
    KVTable > .kv-filter:focus { background: $surface-lighten-1; }
    KVTable > DataTable { height: auto; max-height: 18; }
    KVTable > .kv-count { color: $text-muted; height: 1; padding: 0 1; }
    """

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="kv.filter"),
        Binding("s", "cycle_sort", "Sort", id="kv.sort"),
        Binding("r", "reverse_sort", "Reverse", show=False, id="kv.reverse"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="kv.clear_filter"),
    ]

    class RowChosen(Message):
        """Enter on a row: the screen opens its value (viewer, or editor for tags)."""

        def __init__(self, table: KVTable, key: str) -> None:
            self.table = table
            self.key = key
            super().__init__()

        @property
        def control(self) -> KVTable:
            """The table the row belongs to (for @on selectors)."""
            return self.table

    def __init__(self, columns: Sequence[str], *, noun: str = "rows", id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self.noun = noun
        self.rows: list[KVRow] = []
        self.shown: list[KVRow] = []
        self.sort_column = 0
        self.sort_reverse = False
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        """Filter input, table, count line."""
        yield InOrderInput(placeholder=f"/ filter {self.noun}", classes="kv-filter")
        table: DataTable[Text | str] = DataTable(cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", classes="kv-count")

    def on_mount(self) -> None:
        """Header row."""
        table = self.data_table
        for index, name in enumerate(self.columns):
            table.add_column(name, key=str(index))

    @property
    def data_table(self) -> DataTable[Text | str]:
        """The inner DataTable."""
        return self.query_one(DataTable)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor (None when empty)."""
        table = self.data_table
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row].key

    def set_rows(self, rows: Sequence[KVRow]) -> None:
        """Replace every row, keeping filter, sort and (when still there) the cursor's key."""
        self.rows = list(rows)
        self._rebuild(keep_key=self.selected_key)

    def _rebuild(self, keep_key: str | None = None) -> None:
        needle = self.filter_text.lower()
        shown = [
            row
            for row in self.rows
            if not needle or needle in row.key.lower() or any(needle in cell.lower() for cell in row.cells)
        ]
        column = self.sort_column
        shown.sort(key=lambda row: _sort_key(row.sort_values[column]), reverse=self.sort_reverse)
        self.shown = shown
        table = self.data_table
        table.clear()
        for row in shown:
            style = "dim" if row.dim else ""
            table.add_row(*(Text(one_line(cell), style=style) for cell in row.cells), key=row.key)
        for index, name in enumerate(self.columns):
            marker = (" ▼" if self.sort_reverse else " ▲") if index == column else ""
            table.columns[list(table.columns)[index]].label = Text(name + marker)
        if keep_key is not None:
            for index, row in enumerate(shown):
                if row.key == keep_key:
                    table.move_cursor(row=index)
                    break
        count = (
            f"{len(shown):,} of {len(self.rows):,} {self.noun}"
            if needle
            else f"{len(self.rows):,} {self.noun}"
        )
        self.query_one(".kv-count", Static).update(count)

    @on(Input.Changed, ".kv-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._rebuild(keep_key=self.selected_key)

    @on(Input.Submitted, ".kv-filter")
    def _filter_submitted(self) -> None:
        self.data_table.focus()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.RowChosen(self, str(event.row_key.value)))

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        index = event.column_index
        if index == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = index, False
        self._rebuild(keep_key=self.selected_key)

    def action_focus_filter(self) -> None:
        """Move to the filter input."""
        self.query_one(".kv-filter", Input).focus()

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        self.sort_column = (self.sort_column + 1) % len(self.columns)
        self._rebuild(keep_key=self.selected_key)

    def action_reverse_sort(self) -> None:
        """Reverse the sort order."""
        self.sort_reverse = not self.sort_reverse
        self._rebuild(keep_key=self.selected_key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape only clears a filter; with none, it goes on to the screen (back)."""
        if action == "clear_filter":
            return bool(self.filter_text) or self.query_one(".kv-filter", Input).has_focus
        return True

    def action_clear_filter(self) -> None:
        """Clear the filter and return to the table."""
        filter_input = self.query_one(".kv-filter", Input)
        if filter_input.value:
            filter_input.value = ""
        self.data_table.focus()


class TagTable(KVTable):
    """KVTable of a run's tags: `t` adds, `enter` edits, `delete` removes, `v` views the whole value.

    It only posts requests; the screen asks for confirmation and writes through the core.
    """

    COMMAND_AREA = "Tags"

    BINDINGS = [
        Binding("t", "add_tag", "Add tag", id="tags.add"),
        Binding("delete", "delete_tag", "Delete tag", id="tags.delete"),
        Binding("v", "view_tag", "View value", id="tags.view"),
    ]

    class AddRequested(Message):
        """`t`: the user wants to add a tag."""

    class DeleteRequested(Message):
        """`delete` on a tag."""

        def __init__(self, key: str) -> None:
            self.key = key
            super().__init__()

    class ViewRequested(Message):
        """`v` on a tag."""

        def __init__(self, key: str) -> None:
            self.key = key
            super().__init__()

    def action_add_tag(self) -> None:
        """Ask the screen for the add-tag modal."""
        self.post_message(self.AddRequested())

    def action_delete_tag(self) -> None:
        """Ask the screen to delete the tag under the cursor."""
        if self.selected_key is not None:
            self.post_message(self.DeleteRequested(self.selected_key))

    def action_view_tag(self) -> None:
        """Ask the screen to show the whole value."""
        if self.selected_key is not None:
            self.post_message(self.ViewRequested(self.selected_key))

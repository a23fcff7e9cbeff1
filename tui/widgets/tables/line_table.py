"""LineTable: the line-API base shared by the run table and the trash table.

It holds plain Run entities and the rows laid out from them, draws only the visible lines
(a header on line 0, then rows, or an empty message), and owns the cursor movement,
multi-selection and scroll-into-view logic both tables use. Subclasses give the header,
the row rendering, their bindings and their messages.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from runyard import Run
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from ...formatting import system_clock_ms
from ..control_message import focus_now
from .run_rows import TableRow


class LineTable(ScrollView, can_focus=True):
    """Rows of runs drawn line by line: cursor, selection, paging; subclasses render header and rows."""

    EMPTY_CLASS = ""  # component class of the empty message, set by subclasses
    BINDINGS = [  # vim keys, besides the arrows, pgup/pgdn and home/end of each table
        Binding("j", "cursor_down", "Down", show=False, id="table.vim_down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.vim_up"),
        Binding("ctrl+d", "page_down", "Page down", show=False, id="table.vim_page_down"),
        Binding("ctrl+u", "page_up", "Page up", show=False, id="table.vim_page_up"),
        Binding("g", "first", "First", show=False, id="table.vim_first"),
        Binding("G", "last", "Last", show=False, id="table.vim_last"),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    def __init__(
        self,
        *,
        clock: Callable[[], int] = system_clock_ms,
        empty_text: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clock = clock
        self.runs: list[Run] = []
        self.rows: list[TableRow] = []
        self.selected: set[str] = set()
        self.empty_text = empty_text
        self.search_target: Widget | None = None

    # ----------------------------------------------------------------- hooks
    def _post_selection_changed(self) -> None:
        """Tell the screen the selection changed (each table has its own message)."""
        raise NotImplementedError

    def _post_search_requested(self) -> None:
        """Ask the screen to focus the search box (each table has its own message)."""
        raise NotImplementedError

    def _render_header(self, width: int) -> Strip:
        """The header line."""
        raise NotImplementedError

    def _render_row(self, index: int, width: int) -> Strip:
        """The line of row `index`."""
        raise NotImplementedError

    def _update_virtual_size(self) -> None:
        """One line per row plus the header."""
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)

    # ----------------------------------------------------------------- data out
    @property
    def cursor_run(self) -> Run | None:
        """The run under the cursor."""
        if 0 <= self.cursor_row < len(self.rows):
            return self.rows[self.cursor_row].run
        return None

    @property
    def cursor_run_id(self) -> str | None:
        """The id of the run under the cursor."""
        run = self.cursor_run
        return run.info.run_id if run else None

    @property
    def selected_run_ids(self) -> list[str]:
        """Selected run ids in table order."""
        return [row.run.info.run_id for row in self.rows if row.run.info.run_id in self.selected]

    def target_run_ids(self) -> list[str]:
        """The selected runs, else the run under the cursor."""
        if self.selected:
            return self.selected_run_ids
        run_id = self.cursor_run_id
        return [run_id] if run_id else []

    # ----------------------------------------------------------------- rendering
    def render_line(self, y: int) -> Strip:
        """One screen line: the header on line 0, else a run row (or the empty message)."""
        width = self.scrollable_content_region.width
        if y == 0:
            return self._render_header(width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self.rows):
            if not self.rows and y == 2:
                style = self.get_component_rich_style(self.EMPTY_CLASS)
                line = Strip([Segment(f"  {self.empty_text}", style)])
                return line.extend_cell_length(width, self.rich_style).crop(0, width)
            return Strip.blank(width, self.rich_style)
        return self._render_row(index, width)

    def watch_cursor_row(self, old: int, new: int) -> None:
        """Repaint the lines of the old and new cursor."""
        top = int(self.scroll_offset.y)
        self.refresh_line(old - top + 1)
        self.refresh_line(new - top + 1)

    def on_focus(self) -> None:
        """Show the cursor."""
        self.refresh()

    def on_blur(self) -> None:
        """Hide the cursor."""
        self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        """Widths follow the terminal; the cursor stays visible."""
        self._update_virtual_size()
        self._scroll_cursor_into_view()

    # ----------------------------------------------------------------- movement
    def _cursor_top(self) -> int:
        """The first shown row that keeps the cursor row visible."""
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            top = self.cursor_row
        elif self.cursor_row >= top + visible:
            top = self.cursor_row - visible + 1
        return top

    def _scroll_cursor_into_view(self) -> None:
        self.scroll_to(y=self._cursor_top(), animate=False, force=True)

    def _move(self, rows: int) -> None:
        if self.rows:
            self.cursor_row = max(0, min(len(self.rows) - 1, self.cursor_row + rows))
            self._scroll_cursor_into_view()

    def action_cursor_up(self) -> None:
        """Move the cursor up."""
        self._move(-1)

    def action_cursor_down(self) -> None:
        """Move the cursor down."""
        self._move(1)

    def action_page_up(self) -> None:
        """Move up a page."""
        self._move(-max(1, self.scrollable_content_region.height - 2))

    def action_page_down(self) -> None:
        """Move down a page."""
        self._move(max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        """Go to the first run."""
        self._move(-len(self.rows))

    def action_last(self) -> None:
        """Go to the last loaded run."""
        self._move(len(self.rows))

    # ----------------------------------------------------------------- selection
    def action_toggle_select(self) -> None:
        """Select or unselect the run under the cursor, then move down."""
        run_id = self.cursor_run_id
        if run_id is not None:
            self.selected.symmetric_difference_update({run_id})
            self._post_selection_changed()
            self.refresh()
            self._move(1)

    def action_select_all(self) -> None:
        """Select every loaded run."""
        self.selected = {run.info.run_id for run in self.runs}
        self._post_selection_changed()
        self.refresh()

    def action_select_none(self) -> None:
        """Clear the selection."""
        self.selected.clear()
        self._post_selection_changed()
        self.refresh()

    def action_search(self) -> None:
        """Go to the search box (at once when the screen gave the table its `search_target`)."""
        if self.search_target is not None:
            focus_now(self.search_target)
        else:
            self._post_search_requested()

"""ColumnChooserModal: pick param/metric/tag columns (and metrics' sparkline columns) from a filtered list."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from ..widgets.in_order_input import InOrderInput
from ..widgets.tables.run_rows import TREND_PREFIX

MAX_LISTED = 200  # more matches than this: ask the user to type more


class ColumnChooserModal(ModalScreen[list[str] | None]):
    """Type to filter, space to toggle, Enter to apply, Escape to cancel; dismisses with column ids."""

    BINDINGS = [
        Binding("escape,q", "cancel", "Cancel", id="columns.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="columns.apply"),
    ]

    def __init__(self, available: Sequence[str], chosen: Sequence[str]) -> None:
        super().__init__()
        self.available = list(dict.fromkeys(available))
        self.chosen: list[str] = list(chosen)

    def compose(self) -> ComposeResult:
        """Filter input, the list, and a count line."""
        with Vertical(id="dialog", classes="dialog wide"):
            yield Static("Columns", classes="dialog-title")
            yield InOrderInput(placeholder="type to filter keys (e.g. loss, params.)", id="column-filter")
            yield SelectionList[str](id="column-list")
            yield Static("", id="column-count", classes="dialog-hint")
            yield Static(
                "↓ to the list · space toggles · Enter applies · Escape cancels\n"
                "trend.KEY: a sparkline of the metric's last points (t on a metric column)",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        """Fill the list and focus the filter."""
        self._fill("")
        self.query_one("#column-filter", Input).focus()

    @property
    def listed(self) -> list[str]:
        """The column ids currently listed (after filtering)."""
        column_list = self.query_one("#column-list", SelectionList)
        return [str(column_list.get_option_at_index(i).value) for i in range(column_list.option_count)]

    def _fill(self, text: str) -> None:
        words = text.lower().split()
        matches = [key for key in self.available if all(word in key.lower() for word in words)]
        column_list: SelectionList[str] = self.query_one("#column-list", SelectionList)
        column_list.clear_options()
        chosen = set(self.chosen)
        column_list.add_options([Selection(_prompt(key), key, key in chosen) for key in matches[:MAX_LISTED]])
        more = len(matches) - MAX_LISTED
        note = f"{len(self.chosen)} chosen · {len(matches)} of {len(self.available)} keys match"
        if more > 0:
            note += f" · {more} not listed: type more to narrow"
        self.query_one("#column-count", Static).update(note)

    @on(Input.Changed, "#column-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        """Narrow the list as the user types."""
        self._fill(event.value)

    @on(Input.Submitted, "#column-filter")
    def filter_submitted(self) -> None:
        """Enter in the filter applies."""
        self.action_apply()

    def on_key(self, event: events.Key) -> None:
        """Down from the filter goes to the list; Enter in the list applies."""
        key = event.key
        focused = self.focused
        if key == "down" and isinstance(focused, Input):
            column_list = self.query_one("#column-list", SelectionList)
            column_list.focus()
            if column_list.highlighted is None and column_list.option_count:
                column_list.highlighted = 0
            event.stop()
        elif key == "enter" and isinstance(focused, SelectionList):
            self.action_apply()
            event.stop()

    @on(SelectionList.SelectionToggled, "#column-list")
    def toggled(self, event: SelectionList.SelectionToggled[str]) -> None:
        """Keep the chosen list in the order of choosing."""
        value = str(event.selection.value)
        if value in self.chosen:
            self.chosen.remove(value)
        else:
            self.chosen.append(value)
        self._update_count()

    def _update_count(self) -> None:
        count = self.query_one("#column-count", Static)
        count.update(f"{len(self.chosen)} chosen · {len(self.available)} keys")

    def action_apply(self) -> None:
        """Close with the chosen columns."""
        self.dismiss(list(self.chosen))

    def action_cancel(self) -> None:
        """Close without changes."""
        self.dismiss(None)


def _prompt(column_id: str) -> Text:
    """How a column is listed: its id, and for a sparkline column what it draws."""
    if column_id.startswith(TREND_PREFIX):
        metric = "metrics." + column_id[len(TREND_PREFIX) :]
        return Text.assemble(column_id, (f"  ▁▃▅▇ sparkline of {metric}", "dim"))
    return Text(column_id)

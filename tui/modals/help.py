"""HelpModal: every key binding of the screen, grouped by the widget it acts on."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "space": "space",
    "escape": "esc",
    "pageup": "pgup",
    "pagedown": "pgdn",
    "ctrl+p": "ctrl+p",
}


def key_label(key: str) -> str:
    """A binding's key as a user types it."""
    return ", ".join(KEY_NAMES.get(part, part) for part in key.split(","))


class HelpModal(ModalScreen[None]):
    """Keys by area; any of Escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, sections: Sequence[tuple[str, Sequence[Binding]]], notes: Sequence[str] = ()) -> None:
        super().__init__()
        self.sections = sections
        self.notes = notes

    def compose(self) -> ComposeResult:
        """One table per area."""
        with VerticalScroll(id="dialog", classes="dialog wide"):
            yield Static("Keys", classes="dialog-title")
            for title, bindings in self.sections:
                table = Table(title=title, title_justify="left", show_header=False, box=None)
                table.add_column("key", style="bold", width=14)
                table.add_column("action")
                for binding in bindings:
                    table.add_row(key_label(binding.key), binding.tooltip or binding.description)
                yield Static(table, classes="help-section")
            for note in self.notes:
                yield Static(note, classes="dialog-hint")

    @property
    def text(self) -> str:
        """Every key and description (for tests)."""
        lines = []
        for title, bindings in self.sections:
            lines.append(title)
            lines += [f"{key_label(b.key)} {b.tooltip or b.description}" for b in bindings]
        return "\n".join(lines)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

"""TextViewerModal: a long value (param, tag, reproduce commands) shown whole, scrollable, read-only."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class TextViewerModal(ModalScreen[None]):
    """Title and a scrollable body; Escape or q closes, y copies the text."""

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="viewer.close"),
        Binding("y", "copy", "Copy", id="viewer.copy"),
    ]

    def __init__(self, title: str, text: str, renderable: RenderableType | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.renderable = renderable

    def compose(self) -> ComposeResult:
        """Title, body, hint."""
        with Vertical(id="viewer-dialog"):
            yield Static(Text(self.title_text), classes="viewer-title")
            with VerticalScroll():
                yield Static(
                    self.renderable if self.renderable is not None else Text(self.text), id="viewer-body"
                )
            yield Static("↑↓ pgup pgdn scroll · esc close · y copy", classes="viewer-hint")

    def on_mount(self) -> None:
        """Scroll with the keyboard."""
        self.query_one(VerticalScroll).focus()

    def action_copy(self) -> None:
        """Copy the text to the clipboard (OSC 52)."""
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied to the clipboard.")

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

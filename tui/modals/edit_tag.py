"""EditTagModal: add a tag (key and value) or edit a tag's value; the core's validation errors stay in place.

The save runs in a worker through the callback the screen gives (client.set_tag); a rejected key or
value shows the core's message under the inputs and keeps what was typed. Dismisses with the saved
(key, value), or None when cancelled.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ..messages import ErrorMessage
from ..widgets.in_order_input import InOrderInput
from ..workers import post_outcome


class EditTagModal(ModalScreen[tuple[str, str] | None]):
    """Key and value inputs; Enter or ctrl+s saves, Escape cancels. The key is fixed when editing."""

    BINDINGS = [
        Binding("escape,q", "cancel", "Cancel", id="edit_tag.cancel"),
        Binding("ctrl+s", "save", "Save", id="edit_tag.save"),
    ]

    class SaveFailed(ErrorMessage):
        """The core rejected the tag."""

    class Saved(Message):
        """The tag was written."""

        def __init__(self, key: str, value: str) -> None:
            self.key = key
            self.value = value
            super().__init__()

    def __init__(self, save: Callable[[str, str], None], key: str = "", value: str = "") -> None:
        super().__init__()
        self.save_tag = save
        self.initial_key = key
        self.initial_value = value
        self.editing = bool(key)

    def compose(self) -> ComposeResult:
        """Title, key and value inputs, error line, buttons."""
        with Vertical(id="tag-dialog"):
            title = f"Edit tag {self.initial_key}" if self.editing else "Add a tag"
            yield Static(title, classes="tag-title")
            yield Label("Key")
            yield InOrderInput(
                self.initial_key,
                placeholder="e.g. dataset or team.owner",
                id="tag-key",
                disabled=self.editing,
            )
            yield Label("Value")
            yield InOrderInput(self.initial_value, placeholder="value", id="tag-value")
            yield Static("", id="tag-error")
            with Horizontal(classes="tag-buttons"):
                yield Button("Save (enter)", variant="primary", id="tag-save")
                yield Button("Cancel (esc)", id="tag-cancel")

    def on_mount(self) -> None:
        """Focus the first thing to type."""
        self.query_one("#tag-value" if self.editing else "#tag-key", Input).focus()

    @property
    def error_text(self) -> str:
        """The error shown ('' when none)."""
        return str(self.query_one("#tag-error", Static).render())

    @on(Input.Submitted, "#tag-key")
    def _key_submitted(self) -> None:
        self.query_one("#tag-value", Input).focus()

    @on(Input.Submitted, "#tag-value")
    @on(Button.Pressed, "#tag-save")
    def action_save(self) -> None:
        """Write the tag through the core (in a worker)."""
        key = self.query_one("#tag-key", Input).value
        value = self.query_one("#tag-value", Input).value
        self.query_one("#tag-error", Static).update("")
        self.write_tag(key, value)

    @work(thread=True, exclusive=True, group="edit-tag", exit_on_error=False)
    def write_tag(self, key: str, value: str) -> None:
        """Call the save callback off the UI thread; post the outcome."""
        post_outcome(
            self,
            lambda: self.save_tag(key, value),
            lambda _: self.Saved(key, value),
            lambda error: self.SaveFailed(error.strip("'\"")),
        )

    def on_edit_tag_modal_save_failed(self, message: SaveFailed) -> None:
        """Show the core's message; the inputs keep their text, the cursor goes where the fault is."""
        self.query_one("#tag-error", Static).update(message.error)
        key_input = self.query_one("#tag-key", Input)
        if not self.editing and "key" in message.error.lower():
            key_input.focus()

    def on_edit_tag_modal_saved(self, message: Saved) -> None:
        """Close with what was saved."""
        self.dismiss((message.key, message.value))

    @on(Button.Pressed, "#tag-cancel")
    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)

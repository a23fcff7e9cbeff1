"""NotesEditorModal: edit a run's Markdown notes in a TextArea; ctrl+s saves through the core."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from ..messages import ErrorMessage
from ..workers import post_outcome


class NotesEditorModal(ModalScreen[str | None]):
    """A Markdown TextArea; dismisses with the saved text, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="notes.save"),
        Binding("escape,q", "cancel", "Cancel", id="notes.cancel"),
    ]

    class SaveFailed(ErrorMessage):
        """The core rejected the notes (e.g. too long)."""

    class Saved(Message):
        """The notes were written."""

        def __init__(self, text: str) -> None:
            self.text = text
            super().__init__()

    def __init__(self, save: Callable[[str], None], text: str = "", run_name: str = "") -> None:
        super().__init__()
        self.save_notes = save
        self.initial_text = text
        self.run_name = run_name

    def compose(self) -> ComposeResult:
        """Title, editor, error line, buttons."""
        with Vertical(id="notes-dialog"):
            yield Static(
                f"Notes of {self.run_name} (Markdown) · ctrl+s save · esc cancel", classes="notes-title"
            )
            yield TextArea(self.initial_text, language="markdown", id="notes-text", soft_wrap=True)
            yield Static("", id="notes-error")
            with Horizontal(classes="notes-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="notes-save")
                yield Button("Cancel (esc)", id="notes-cancel")

    def on_mount(self) -> None:
        """Start typing at once."""
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#notes-save")
    def action_save(self) -> None:
        """Write the notes tag (in a worker)."""
        self.query_one("#notes-error", Static).update("")
        self.write_notes(self.query_one(TextArea).text)

    @work(thread=True, exclusive=True, group="notes", exit_on_error=False)
    def write_notes(self, text: str) -> None:
        """Call the save callback off the UI thread."""
        post_outcome(self, lambda: self.save_notes(text), lambda _: self.Saved(text), self.SaveFailed)

    def on_notes_editor_modal_save_failed(self, message: SaveFailed) -> None:
        """Show the error and keep the text."""
        self.query_one("#notes-error", Static).update(message.error)

    def on_notes_editor_modal_saved(self, message: Saved) -> None:
        """Close with the saved text."""
        self.dismiss(message.text)

    @on(Button.Pressed, "#notes-cancel")
    def action_cancel(self) -> None:
        """Close without saving; with unsaved changes, ask first."""
        if self.query_one(TextArea).text == self.initial_text:
            self.dismiss(None)
            return
        from .confirm import ConfirmModal

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        question = ConfirmModal("Discard your changes?", "The notes you typed are not saved.", "Discard")
        self.app.push_screen(question, answered)

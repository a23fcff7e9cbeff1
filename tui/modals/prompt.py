"""PromptModal: asks for one line of text; an optional check runs in a worker and shows errors in place."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..messages import ErrorMessage
from ..widgets.in_order_input import InOrderInput
from ..workers import post_outcome


class PromptModal(ModalScreen[str | None]):
    """One input; Enter submits, Escape cancels. With `action`, the value is applied before closing."""

    BINDINGS = [Binding("escape,q", "cancel", "Cancel", id="prompt.cancel")]

    class ActionFailed(ErrorMessage):
        """The action raised a runyard error: show it, keep the text."""

    class ActionDone(Message):
        """The action succeeded: close with the value."""

        def __init__(self, value: str) -> None:
            self.value = value
            super().__init__()

    def __init__(
        self,
        title: str,
        value: str = "",
        *,
        placeholder: str = "",
        hint: str = "Enter to confirm, Escape to cancel",
        action: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.initial_value = value
        self.placeholder = placeholder
        self.hint = hint
        self.action = action

    def compose(self) -> ComposeResult:
        """Title, input, error line and hint."""
        with Vertical(id="dialog", classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield InOrderInput(
                self.initial_value, placeholder=self.placeholder, id="prompt-input", select_on_focus=False
            )
            yield Static("", id="prompt-error", classes="error-text")
            yield Static(self.hint, classes="dialog-hint")

    @property
    def error_text(self) -> str:
        """The error shown under the input ('' when none)."""
        return str(self.query_one("#prompt-error", Static).render())

    @on(Input.Submitted, "#prompt-input")
    def submitted(self, event: Input.Submitted) -> None:
        """Apply (in a worker) or just close with the value."""
        value = event.value.strip()
        if not value:
            self._show_error("Type a value, or press Escape to cancel.")
            return
        if self.action is None:
            self.dismiss(value)
            return
        self._show_error("")
        self.apply_value(value)

    @work(thread=True, exclusive=True, group="prompt", exit_on_error=False)
    def apply_value(self, value: str) -> None:
        """Run the action off the UI thread."""
        assert self.action is not None
        action = self.action
        post_outcome(
            self,
            lambda: action(value),
            lambda _: self.ActionDone(value),
            lambda error: self.ActionFailed(error.strip("'\"")),
        )

    def on_prompt_modal_action_failed(self, message: ActionFailed) -> None:
        """Show the error; the typed text stays."""
        self._show_error(message.error)

    def on_prompt_modal_action_done(self, message: ActionDone) -> None:
        """Close with the applied value."""
        self.dismiss(message.value)

    def _show_error(self, text: str) -> None:
        error = self.query_one("#prompt-error", Static)
        error.update(text)
        error.display = bool(text)

    def action_cancel(self) -> None:
        """Close without a value."""
        self.dismiss(None)

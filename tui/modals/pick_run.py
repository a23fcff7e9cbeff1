"""PickRunModal: choose one run from a short list (a run's children); dismisses with its id or None."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class PickRunModal(ModalScreen[str | None]):
    """An option list of (run_id, label); Enter picks, Escape cancels."""

    DEFAULT_CSS = """
    PickRunModal { align: center middle; }
    PickRunModal > #pick-dialog {
        width: 80; max-width: 95%; height: auto; max-height: 80%; padding: 0 1;
        border: thick $primary; background: $surface;
    }
    PickRunModal .pick-title { text-style: bold; height: 1; }
    PickRunModal OptionList { height: auto; max-height: 30; }
    """

    BINDINGS = [Binding("escape,q", "cancel", "Cancel", id="pick_run.cancel")]

    def __init__(self, title: str, runs: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.runs = list(runs)

    def compose(self) -> ComposeResult:
        """Title and the list."""
        with Vertical(id="pick-dialog"):
            yield Static(self.title_text, classes="pick-title")
            yield OptionList(*(Option(label, id=run_id) for run_id, label in self.runs), id="pick-list")

    def on_mount(self) -> None:
        """Focus the list."""
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Pick the run."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without picking."""
        self.dismiss(None)

"""PickRunModal: choose one run (a run's children) from a list that typing filters; dismisses with its id."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..widgets.in_order_input import InOrderInput


class PickRunModal(ModalScreen[str | None]):
    """An option list of (run_id, label); typing filters, Enter picks, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick_run.cancel")]

    def __init__(self, title: str, runs: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.runs = list(runs)

    def compose(self) -> ComposeResult:
        """Title, the filter and the list."""
        with Vertical(id="pick-dialog"):
            yield Static(self.title_text, classes="pick-title")
            yield InOrderInput(placeholder="type to filter", id="pick-filter")
            yield OptionList(*(Option(label, id=run_id) for run_id, label in self.runs), id="pick-list")

    def on_mount(self) -> None:
        """Focus the list (typing still filters)."""
        self.query_one(OptionList).focus()

    @property
    def shown_ids(self) -> list[str]:
        """The run ids listed after filtering."""
        options = self.query_one(OptionList)
        return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]

    def on_key(self, event: events.Key) -> None:
        """Letters typed on the list go to the filter; backspace takes one back."""
        options = self.query_one(OptionList)
        if self.focused is not options:
            return
        text = self.query_one("#pick-filter", Input)
        if event.is_printable and event.character:
            text.value += event.character
        elif event.key == "backspace":
            text.value = text.value[:-1]
        else:
            return
        event.stop()
        event.prevent_default()

    @on(Input.Changed, "#pick-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        words = event.value.lower().split()
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            Option(label, id=run_id)
            for run_id, label in self.runs
            if all(word in label.lower() for word in words)
        )
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#pick-filter")
    def _filter_submitted(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            self.dismiss(str(options.get_option_at_index(options.highlighted or 0).id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Pick the run."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without picking."""
        self.dismiss(None)

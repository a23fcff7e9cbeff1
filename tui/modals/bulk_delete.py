"""BulkDeleteModal: delete the active runs of an experiment started before a date (dry-run count first).

BulkByTimeModal is the shared form (experiment, date, max count): every change asks the core for a
dry-run count in a worker ("N runs will be deleted"); Enter then moves to the action button, which
is enabled only for the inputs that were counted, and the modal closes with the number changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

from runyard import TrackingClient
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static
from textual.widgets.button import ButtonVariant

from ..widgets.in_order_input import InOrderInput
from ..workers import post_outcome

MAX_BULK_RUNS = 10_000
Request = tuple[str, int, int]  # (experiment id, timestamp ms, max runs)


def parse_when(text: str, now_ms: int) -> int:
    """ms since the epoch of YYYY-MM-DD (local midnight), an ISO timestamp or an age such as 7d (ago).

    The same rules as the command line's --before/--since (runyard.cli.common.parse_when).
    """
    from runyard.cli.common import parse_when as cli_parse_when

    return cli_parse_when(text, now_ms)


def parse_max_runs(text: str) -> int:
    """A whole number from 1 to 10,000 (commas and underscores allowed)."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned.isdigit() or not 1 <= int(cleaned) <= MAX_BULK_RUNS:
        raise ValueError(f"Max runs must be a whole number from 1 to {MAX_BULK_RUNS:,}, got {text!r}.")
    return int(cleaned)


def local_date(timestamp_ms: int) -> str:
    """The local calendar date of a timestamp, as YYYY-MM-DD."""
    return datetime.fromtimestamp(timestamp_ms / 1000).astimezone().strftime("%Y-%m-%d")


class BulkByTimeModal(ModalScreen[int | None]):
    """Experiment, date and max count; shows the dry-run count, then acts and closes with the count."""

    TITLE_TEXT = ""
    DATE_LABEL = ""
    VERB_FUTURE = ""  # "will be deleted"
    VERB_BUTTON = ""  # "Delete"

    BINDINGS = [Binding("escape,q", "cancel", "Cancel", id="bulk.cancel")]

    class Counted(Message):
        """The dry-run count of a request."""

        def __init__(self, request: Request, count: int) -> None:
            self.request = request
            self.count = count
            super().__init__()

    class Failed(Message):
        """The core refused the request (shown in place)."""

        def __init__(self, request: Request | None, error: str) -> None:
            self.request = request
            self.error = error
            super().__init__()

    class Applied(Message):
        """The operation ran; count is how many runs it changed."""

        def __init__(self, count: int) -> None:
            self.count = count
            super().__init__()

    def __init__(
        self,
        client: TrackingClient,
        experiments: Sequence[tuple[str, str]],
        experiment_id: str | None,
        when: str,
        now_ms: int,
    ) -> None:
        super().__init__()
        self.client = client
        self.experiments = list(experiments)  # (id, name)
        ids = [eid for eid, _ in self.experiments]
        self.experiment_id = experiment_id if experiment_id in ids else (ids[0] if ids else "")
        self.initial_when = when
        self.now_ms = now_ms
        self.counted: tuple[Request, int] | None = None
        self.applied_count: int | None = None

    BUTTON_VARIANT: ButtonVariant = "error"  # a destructive action is red
    ENTER_ACTS = False  # Enter in a field goes to the button first

    def operation(self, request: Request, dry_run: bool) -> int:
        """Run the core's bulk operation (subclasses)."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        """Title, experiment, date, max runs, the count and the buttons."""
        with Vertical(id="dialog", classes="dialog"):
            yield Static(self.TITLE_TEXT, classes="dialog-title")
            yield Static("Experiment", classes="bulk-label")
            if len(self.experiments) > 1:
                yield Select(
                    [(name, eid) for eid, name in self.experiments],
                    value=self.experiment_id,
                    allow_blank=False,
                    id="bulk-experiment",
                )
            else:
                name = self.experiments[0][1] if self.experiments else "(no experiment)"
                yield Static(f"[b]{name}[/b]", id="bulk-experiment-name")
            yield Static(self.DATE_LABEL, classes="bulk-label")
            yield InOrderInput(self.initial_when, placeholder="YYYY-MM-DD, ISO time or 7d", id="bulk-date")
            yield Static(f"Max runs (1 to {MAX_BULK_RUNS:,})", classes="bulk-label")
            yield InOrderInput(str(MAX_BULK_RUNS), id="bulk-max")
            yield Static("Counting…", id="bulk-count")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.VERB_BUTTON, variant=self.BUTTON_VARIANT, id="bulk-apply", disabled=True)
                yield Button("Cancel (Esc)", id="bulk-cancel")
            yield Static("Enter counts, then Enter on the button acts.", classes="dialog-hint")

    def on_mount(self) -> None:
        """Count for the initial inputs; the cursor starts in the date."""
        self.query_one("#bulk-date", Input).focus()
        self.recount()

    @property
    def count_text(self) -> str:
        """The text of the count line (for tests)."""
        return str(self.query_one("#bulk-count", Static).render())

    def current_request(self) -> Request:
        """The inputs as a request; ValueError with a message when one is invalid."""
        if not self.experiment_id:
            raise ValueError("There is no experiment to act on.")
        when = parse_when(self.query_one("#bulk-date", Input).value, self.now_ms)
        return (self.experiment_id, when, parse_max_runs(self.query_one("#bulk-max", Input).value))

    def recount(self) -> None:
        """Forget the last count and ask for a fresh one."""
        self.counted = None
        self.query_one("#bulk-apply", Button).disabled = True
        try:
            request = self.current_request()
        except ValueError as error:
            self._show(str(error), error=True)
            return
        self._show("Counting…")
        self.count_runs(request)

    @work(thread=True, exclusive=True, group="bulk-count", exit_on_error=False)
    def count_runs(self, request: Request) -> None:
        """The dry-run count of the core."""
        post_outcome(
            self,
            lambda: self.operation(request, dry_run=True),
            lambda count: self.Counted(request, count),
            lambda error: self.Failed(request, error),
        )

    def on_bulk_by_time_modal_counted(self, message: Counted) -> None:
        """Show 'N runs will be ...' and enable the button (when the inputs are still the same)."""
        try:
            if message.request != self.current_request():
                return
        except ValueError:
            return
        self.counted = (message.request, message.count)
        runs = "1 run" if message.count == 1 else f"{message.count:,} runs"
        cap = " (the max)" if message.count == message.request[2] else ""
        if message.count:
            self._show(f"{runs}{cap} {self.VERB_FUTURE}.")
        else:
            self._show(f"No runs match: nothing {self.VERB_FUTURE}.")
        button = self.query_one("#bulk-apply", Button)
        button.label = f"{self.VERB_BUTTON} {runs}" if message.count else self.VERB_BUTTON
        button.disabled = message.count == 0

    def on_bulk_by_time_modal_failed(self, message: Failed) -> None:
        """Show the core's message in place."""
        self._show(message.error, error=True)

    @on(Input.Changed)
    @on(Select.Changed)
    def inputs_changed(self, event: Input.Changed | Select.Changed) -> None:
        """Any change makes the count stale."""
        if isinstance(event, Select.Changed) and isinstance(event.value, str):
            self.experiment_id = event.value
        if self.is_mounted:
            self.recount()

    @on(Input.Submitted)
    def submitted(self) -> None:
        """Enter: act (restore) or go to the button (delete) when the count is current, else count again."""
        button = self.query_one("#bulk-apply", Button)
        if self.counted is not None and not button.disabled:
            if self.ENTER_ACTS:
                self.apply_pressed()
            else:
                button.focus()
        else:
            self.recount()

    @on(Button.Pressed, "#bulk-apply")
    def apply_pressed(self) -> None:
        """Act on the counted request."""
        if self.counted is None:
            return
        self.query_one("#bulk-apply", Button).disabled = True
        self._show("Working…")
        self.apply(self.counted[0])

    @work(thread=True, exclusive=True, group="bulk-apply", exit_on_error=False)
    def apply(self, request: Request) -> None:
        """Run the operation for real."""
        post_outcome(
            self,
            lambda: self.operation(request, dry_run=False),
            self.Applied,
            partial(self.Failed, None),
            even_if_cancelled=True,
        )

    def on_bulk_by_time_modal_applied(self, message: Applied) -> None:
        """Close with the number of runs changed."""
        self.applied_count = message.count
        self.dismiss(message.count)

    @on(Button.Pressed, "#bulk-cancel")
    def action_cancel(self) -> None:
        """Close without acting."""
        self.dismiss(None)

    def _show(self, text: str, error: bool = False) -> None:
        line = self.query_one("#bulk-count", Static)
        line.update(text)
        line.set_class(error, "error")


class BulkDeleteModal(BulkByTimeModal):
    """Move the active runs of an experiment started at or before a date to the trash."""

    TITLE_TEXT = "Delete runs started before a date"
    DATE_LABEL = "Started at or before (YYYY-MM-DD is local midnight)"
    VERB_FUTURE = "will be moved to the trash"
    VERB_BUTTON = "Delete"

    def operation(self, request: Request, dry_run: bool) -> int:
        """client.delete_runs (oldest first, no cascade)."""
        experiment_id, when, max_runs = request
        return self.client.delete_runs(experiment_id, when, max_runs=max_runs, dry_run=dry_run)

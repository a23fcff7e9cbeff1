"""TrashScreen: deleted runs (restore, purge, search) and deleted experiments, plus bulk by time.

Every store call runs in a thread worker that posts a past-tense message; the handlers update the
widgets. Restoring asks the core for a dry-run count first (children deleted with a parent come
back with it); purging names the count and calls the core's gc for exactly those runs.
The screen closes with True when it changed the store, so the browse screen reloads its run table.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from runyard import Experiment, Run, TrackingClient
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from .. import formatting
from ..formatting import system_clock_ms
from ..messages import ActionFailed
from ..modals.bulk_delete import BulkDeleteModal, local_date
from ..modals.bulk_restore import BulkRestoreModal
from ..modals.confirm import ConfirmModal
from ..widgets.key_bar import KeyBar
from ..widgets.search_box import SearchBox
from ..widgets.tables.trash_table import DAY_MS, DeletedExperimentsTable, TrashTable
from ..workers import (
    LoadingHint,
    action_failed,
    missing_parent_names,
    post_result,
    post_search,
    report_load_error,
    set_search_error,
)

TRASH_LIMIT = 10_000  # deleted runs loaded at once (sorted by deletion time in the table)


def plural(count: int, word: str = "run") -> str:
    """'1 run', '3 runs', '10,000 runs'."""
    return f"1 {word}" if count == 1 else f"{formatting.count(count)} {word}s"


class TrashScreen(Screen[bool]):
    """The trash of an experiment, a folder or the whole store; closes with True when it changed it."""

    COMMAND_AREA = "Trash"
    BINDINGS = [
        Binding("escape", "back", "Back", id="trash.back"),
        Binding(
            "D",
            "bulk_delete",
            "Bulk delete",
            id="trash.bulk_delete",
            tooltip="Delete the active runs of an experiment started before a date",
        ),
        Binding(
            "U",
            "bulk_restore",
            "Bulk restore",
            id="trash.bulk_restore",
            tooltip="Restore the runs of an experiment deleted since a date",
        ),
        Binding(
            "o",
            "toggle_scope",
            "All/this",
            show=False,
            id="trash.scope",
            tooltip="Show the trash of all experiments, or only of the experiment it was opened from",
        ),
        Binding("ctrl+r", "reload", "Reload", show=False, id="trash.reload", tooltip="Reload the trash"),
    ]

    class Loaded(Message):
        """Deleted runs of the scope, names for the table, and the experiments in the trash."""

        def __init__(
            self,
            generation: int,
            runs: list[Run],
            has_more: bool,
            parent_names: dict[str, str],
            experiment_names: dict[str, str],
            active_experiments: list[Experiment],
            deleted_experiments: list[Experiment],
            experiment_run_counts: dict[str, int],
            keys: Any = None,
        ) -> None:
            self.generation = generation
            self.runs = runs
            self.has_more = has_more
            self.parent_names = parent_names
            self.experiment_names = experiment_names
            self.active_experiments = active_experiments
            self.deleted_experiments = deleted_experiments
            self.experiment_run_counts = experiment_run_counts
            self.keys = keys  # RunKeys of the deleted runs, for the search completion
            super().__init__()

    class LoadFailed(Message):
        """Loading failed: a query error (shown under the search box) or a store error."""

        def __init__(self, generation: int, error: str, query_error: bool) -> None:
            self.generation = generation
            self.error = error
            self.query_error = query_error
            super().__init__()

    class RestorePrepared(Message):
        """The core's dry run: the runs a restore of run_ids would bring back (children included)."""

        def __init__(self, run_ids: list[str], returning: list[str]) -> None:
            self.run_ids = run_ids
            self.returning = returning
            super().__init__()

    class RunsRestored(Message):
        """Runs brought back from the trash."""

        def __init__(self, run_ids: list[str]) -> None:
            self.run_ids = run_ids
            super().__init__()

    class RunsPurged(Message):
        """Runs removed permanently."""

        def __init__(self, run_ids: list[str]) -> None:
            self.run_ids = run_ids
            super().__init__()

    class ExperimentPurgePrepared(Message):
        """The core's dry run: how many runs go with the experiment."""

        def __init__(self, experiment: Experiment, run_count: int) -> None:
            self.experiment = experiment
            self.run_count = run_count
            super().__init__()

    class ExperimentRestored(Message):
        """An experiment came back from the trash."""

        def __init__(self, name: str) -> None:
            self.name = name
            super().__init__()

    class ExperimentPurged(Message):
        """An experiment and its runs were removed permanently."""

        def __init__(self, name: str, run_count: int) -> None:
            self.name = name
            self.run_count = run_count
            super().__init__()

    def __init__(
        self,
        client: TrackingClient,
        experiment_ids: Sequence[str] | None = None,
        scope_name: str | None = None,
        clock: object = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.experiment_ids = list(experiment_ids) if experiment_ids is not None else None
        self.scope_name = scope_name or ("All experiments" if experiment_ids is None else "")
        self.opened_scope = (self.experiment_ids, self.scope_name)
        self.clock = clock if callable(clock) else system_clock_ms
        self.retention = float(client.retention_days)
        self.generation = 0
        self.search_query = ""
        self.changed = False
        self.loading_runs = True
        self.has_more = False
        self.active_experiments: list[Experiment] = []
        self.last_action = ""
        self._loading_hint = LoadingHint()
        self._focus_after_loading = False

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        """Title, search, deleted runs, deleted experiments, status line."""
        yield Static("", id="trash-title")
        yield SearchBox(id="trash-search")
        yield Static("", id="trash-search-error", classes="error-text")
        yield TrashTable(id="trash-runs", clock=self.clock, retention_days=self.retention)
        yield Static("Deleted experiments", classes="trash-section", id="trash-experiments-title")
        yield DeletedExperimentsTable(id="trash-experiments")
        yield Static("", id="trash-status")
        yield KeyBar()

    @property
    def table(self) -> TrashTable:
        """The deleted-runs table."""
        return self.query_one("#trash-runs", TrashTable)

    @property
    def experiments_table(self) -> DeletedExperimentsTable:
        """The deleted-experiments table."""
        return self.query_one("#trash-experiments", DeletedExperimentsTable)

    @property
    def search_box(self) -> SearchBox:
        """The search input."""
        return self.query_one("#trash-search", SearchBox)

    def on_mount(self) -> None:
        """Wire the search box to the table and load."""
        self.query_one("#trash-search-error").display = False
        self.search_box.placeholder = "/ to search the trash: tags.team = 'cv' AND metrics.loss < 0.5"
        self.search_box.return_target = self.table
        self.table.search_target = self.search_box
        self.table.focus()
        self._update_title()
        self.reload()

    def action_back(self) -> None:
        """Close the trash (the run table reloads when something changed)."""
        self.dismiss(self.changed)

    def action_reload(self) -> None:
        """Re-read the trash."""
        self.reload()

    def action_toggle_scope(self) -> None:
        """Switch between the experiment or folder the trash was opened from and all experiments."""
        if self.experiment_ids is not None:
            self.experiment_ids, self.scope_name = None, "All experiments"
        elif self.opened_scope[0] is not None:
            self.experiment_ids, self.scope_name = self.opened_scope
        else:
            self.notify("This is already the trash of all experiments.")
            return
        self.table.selected.clear()
        self._update_title()
        self.reload()

    # ----------------------------------------------------------------- loading
    def reload(self) -> None:
        """Load the deleted runs (with the current query) and the deleted experiments."""
        self.generation += 1
        self.loading_runs = True
        self._loading_hint.start(self, self._show_loading)
        self.load_trash(self.generation, self.experiment_ids, self.search_query)
        self._update_status()

    def _show_loading(self) -> None:
        if self.loading_runs:
            self._focus_after_loading = self.table.has_focus or self.focused is None
            self.table.loading = True  # a loading widget cannot keep the focus: it is given back below

    def _stop_loading(self) -> None:
        self.loading_runs = False
        self._loading_hint.stop()
        if self.table.loading:
            self.table.loading = False
            if self._focus_after_loading and self.focused is None:  # its keys (u, P, space) work again
                self.table.focus()

    @work(thread=True, exclusive=True, group="trash-load", exit_on_error=False)
    def load_trash(self, generation: int, experiment_ids: list[str] | None, query: str) -> None:
        """Deleted runs of the scope's active experiments, and every experiment in the trash."""

        def read() -> TrashScreen.Loaded:
            active = self.client.list_experiments("ACTIVE_ONLY")
            deleted = self.client.list_experiments("DELETED_ONLY")
            active_ids = {e.experiment_id for e in active}
            wanted = experiment_ids if experiment_ids is not None else [e.experiment_id for e in active]
            scope = [e for e in wanted if e in active_ids]
            page = self.client.search_runs(scope, query, "DELETED_ONLY", max_results=TRASH_LIMIT)
            parent_names = missing_parent_names(self.client, page)
            counts = self.client.count_runs([e.experiment_id for e in deleted]) if deleted else {}
            keys = self.client.run_keys(scope, "DELETED_ONLY")
            names = {e.experiment_id: e.name for e in active}
            in_scope = [e for e in active if e.experiment_id in set(scope)]
            more = page.token is not None
            return self.Loaded(
                generation, list(page), more, parent_names, names, in_scope, deleted, counts, keys
            )

        post_search(self, read, lambda loaded: loaded, partial(self.LoadFailed, generation))

    def on_trash_screen_loaded(self, message: Loaded) -> None:
        """Fill both tables."""
        if message.generation != self.generation:
            return
        self._stop_loading()
        self.has_more = message.has_more
        if message.keys is not None:
            keys = message.keys
            self.search_box.key_suggester.set_keys(keys.metrics, keys.params, keys.tags)
        self.active_experiments = message.active_experiments
        set_search_error(self, "#trash-search-error", "")
        empty = "No deleted runs match the search." if self.search_query else "No deleted runs here."
        self.table.empty_text = empty
        self.table.set_runs(message.runs, message.parent_names, message.experiment_names)
        self.experiments_table.set_experiments(
            message.deleted_experiments, message.experiment_run_counts, self.clock(), self.retention
        )
        shown = bool(message.deleted_experiments)
        self.experiments_table.display = shown
        title = "Deleted experiments (tab: u restores, P purges)" if shown else "Deleted experiments: none"
        self.query_one("#trash-experiments-title", Static).update(title)
        self._update_status()

    def on_trash_screen_load_failed(self, message: LoadFailed) -> None:
        """A query error goes under the search box (the typed text stays); others to a notification."""
        if message.generation != self.generation:
            return
        self._stop_loading()
        report_load_error(self, "#trash-search-error", self.search_box, message.error, message.query_error)
        self._update_status()

    # ----------------------------------------------------------------- search
    @on(Input.Submitted, "#trash-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        """Apply the query (the run table's query language)."""
        self.search_query = event.value.strip()
        self.last_action = ""
        self.table.focus()
        self.reload()

    @on(SearchBox.Left, "#trash-search")
    def search_left(self) -> None:
        """Escape in the box: back to the table."""
        self.table.focus()

    @on(TrashTable.SearchRequested, "#trash-runs")
    def search_requested(self) -> None:
        """Focus the search box."""
        self.search_box.focus()

    @property
    def search_error(self) -> str:
        """The query error shown under the search box ('' when none)."""
        widget = self.query_one("#trash-search-error", Static)
        return str(widget.render()) if widget.display else ""

    # ----------------------------------------------------------------- restore runs
    @on(TrashTable.RestoreRequested, "#trash-runs")
    def restore_requested(self, message: TrashTable.RestoreRequested) -> None:
        """Count what would come back (core dry run), then confirm."""
        self.prepare_restore(message.run_ids)

    @work(thread=True, exclusive=True, group="trash-action", exit_on_error=False)
    def prepare_restore(self, run_ids: list[str]) -> None:
        """The runs a restore would bring back: the chosen ones and children deleted with them."""

        def read() -> TrashScreen.RestorePrepared:
            returning = self.client.restore_run(run_ids, restore_descendants=True, dry_run=True)
            return self.RestorePrepared(run_ids, list(returning))

        post_result(self, read, action_failed)

    def on_trash_screen_restore_prepared(self, message: RestorePrepared) -> None:
        """Confirm, naming how many runs return."""
        chosen = len(message.run_ids)
        total = len(message.returning)
        extra = total - len(set(message.run_ids) & set(message.returning))
        lines = [f"Restore {plural(chosen)}?"]
        if extra:
            children = "1 child run" if extra == 1 else f"{formatting.count(extra)} child runs"
            lines.append(f"{children} deleted with {'it' if chosen == 1 else 'them'} will come back too.")
        lines.append(f"{plural(total)} will return to the run table.")
        text = "\n".join(lines)

        def answered(yes: bool | None) -> None:
            if yes:
                self.restore_runs(message.run_ids)

        self.app.push_screen(ConfirmModal("Restore runs", text, f"Restore {plural(total)}"), answered)

    @work(thread=True, exclusive=True, group="trash-action", exit_on_error=False)
    def restore_runs(self, run_ids: list[str]) -> None:
        """Restore the runs with their children."""

        def restore() -> TrashScreen.RunsRestored:
            return self.RunsRestored(list(self.client.restore_run(run_ids, restore_descendants=True)))

        post_result(self, restore, action_failed, even_if_cancelled=True)

    def on_trash_screen_runs_restored(self, message: RunsRestored) -> None:
        """Say how many came back and reload."""
        self._done(f"Restored {plural(len(message.run_ids))}.")
        self.table.selected.difference_update(message.run_ids)

    # ----------------------------------------------------------------- purge runs
    @on(TrashTable.PurgeRequested, "#trash-runs")
    def purge_requested(self, message: TrashTable.PurgeRequested) -> None:
        """Confirm naming the count; it cannot be undone."""
        run_ids = message.run_ids
        chosen = set(run_ids)
        left = [r for r in self.table.runs if r.info.parent_run_id in chosen and r.info.run_id not in chosen]
        text = (
            f"Permanently delete {plural(len(run_ids))} with {'its' if len(run_ids) == 1 else 'their'} "
            "params, metrics, tags and "
            "artifact files?\nThis cannot be undone."
        )
        if left:
            text += f"\n{plural(len(left), 'child run')} in the trash stay (select them too to purge them)."

        def answered(yes: bool | None) -> None:
            if yes:
                self.purge_runs(run_ids)

        self.app.push_screen(ConfirmModal("Purge runs", text, "Purge"), answered)

    @work(thread=True, exclusive=True, group="trash-action", exit_on_error=False)
    def purge_runs(self, run_ids: list[str]) -> None:
        """The core's gc for exactly these runs (artifacts included)."""

        def purge() -> TrashScreen.RunsPurged:
            return self.RunsPurged(list(self.client.gc(run_ids=run_ids).run_ids))

        post_result(self, purge, action_failed, even_if_cancelled=True)

    def on_trash_screen_runs_purged(self, message: RunsPurged) -> None:
        """Say how many are gone and reload."""
        self.table.selected.difference_update(message.run_ids)
        self._done(f"Purged {plural(len(message.run_ids))} permanently.")

    # ----------------------------------------------------------------- experiments
    @on(DeletedExperimentsTable.RestoreRequested, "#trash-experiments")
    def restore_experiment_requested(self, message: DeletedExperimentsTable.RestoreRequested) -> None:
        """Confirm, naming the runs that come back with it."""
        experiment = message.experiment
        count = self.experiments_table.run_counts.get(experiment.experiment_id, 0)
        text = f"Restore experiment {experiment.name} with its {plural(count)}?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.restore_experiment(experiment)

        self.app.push_screen(ConfirmModal("Restore experiment", text, "Restore"), answered)

    @work(thread=True, exclusive=True, group="trash-action", exit_on_error=False)
    def restore_experiment(self, experiment: Experiment) -> None:
        """Bring the experiment back with its runs."""

        def restore() -> TrashScreen.ExperimentRestored:
            self.client.restore_experiment(experiment.experiment_id)
            return self.ExperimentRestored(experiment.name)

        post_result(self, restore, action_failed, even_if_cancelled=True)

    def on_trash_screen_experiment_restored(self, message: ExperimentRestored) -> None:
        """Say so and reload."""
        self._done(f"Restored experiment {message.name}.")

    @on(DeletedExperimentsTable.PurgeRequested, "#trash-experiments")
    def purge_experiment_requested(self, message: DeletedExperimentsTable.PurgeRequested) -> None:
        """Count its runs (core dry run), then confirm."""
        self.prepare_experiment_purge(message.experiment)

    @work(thread=True, exclusive=True, group="trash-action", exit_on_error=False)
    def prepare_experiment_purge(self, experiment: Experiment) -> None:
        """How many runs a purge of the experiment removes."""

        def read() -> TrashScreen.ExperimentPurgePrepared:
            result = self.client.gc(experiment_ids=[experiment.experiment_id], dry_run=True)
            return self.ExperimentPurgePrepared(experiment, result.run_count)

        post_result(self, read, action_failed)

    def on_trash_screen_experiment_purge_prepared(self, message: ExperimentPurgePrepared) -> None:
        """Confirm naming the experiment and the count."""
        experiment = message.experiment
        text = (
            f"Permanently delete experiment {experiment.name} and its {plural(message.run_count)} "
            "with their artifact files?\nThis cannot be undone."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.purge_experiment(experiment)

        self.app.push_screen(ConfirmModal("Purge experiment", text, "Purge"), answered)

    @work(thread=True, exclusive=True, group="trash-action", exit_on_error=False)
    def purge_experiment(self, experiment: Experiment) -> None:
        """The core's gc for exactly this experiment (its runs and artifacts go too)."""

        def purge() -> TrashScreen.ExperimentPurged:
            result = self.client.gc(experiment_ids=[experiment.experiment_id])
            return self.ExperimentPurged(experiment.name, result.run_count)

        post_result(self, purge, action_failed, even_if_cancelled=True)

    def on_trash_screen_experiment_purged(self, message: ExperimentPurged) -> None:
        """Say so and reload."""
        self._done(f"Purged experiment {message.name} and {plural(message.run_count)} permanently.")

    # ----------------------------------------------------------------- bulk by time
    def _bulk_experiments(self) -> tuple[list[tuple[str, str]], str | None]:
        experiments = [(e.experiment_id, e.name) for e in self.active_experiments]
        run_id = self.table.cursor_run_id
        current = next((r.info.experiment_id for r in self.table.runs if r.info.run_id == run_id), None)
        return experiments, current

    def action_bulk_delete(self) -> None:
        """Delete the active runs of an experiment started at or before a date (max 10,000)."""
        experiments, current = self._bulk_experiments()
        when = local_date(self.clock() - int(self.retention * DAY_MS))
        modal = BulkDeleteModal(self.client, experiments, current, when, self.clock())

        def closed(count: int | None) -> None:
            if count is not None:
                self._done(f"Moved {plural(count)} to the trash.")

        self.app.push_screen(modal, closed)

    def action_bulk_restore(self) -> None:
        """Restore the runs of an experiment deleted at or after a date."""
        experiments, current = self._bulk_experiments()
        when = local_date(self.clock() - 7 * DAY_MS)
        modal = BulkRestoreModal(self.client, experiments, current, when, self.clock())

        def closed(count: int | None) -> None:
            if count is not None:
                self._done(f"Restored {plural(count)}.")

        self.app.push_screen(modal, closed)

    # ----------------------------------------------------------------- feedback
    def _done(self, text: str) -> None:
        self.changed = True
        self.last_action = text
        self.notify(text)
        self.reload()

    def on_action_failed(self, message: ActionFailed) -> None:
        """Show the error."""
        self.notify(message.error, severity="error", timeout=8)

    @on(TrashTable.SelectionChanged, "#trash-runs")
    def selection_changed(self) -> None:
        """Show the selection count (the last action's result gives way once the user selects again)."""
        if self.table.selected:
            self.last_action = ""
        self._update_status()

    def _update_title(self) -> None:
        days = f"{self.retention:g}"
        text = f"[b]Trash[/b] · {self.scope_name} · deleted runs are kept {days} days, then gc removes them"
        self.query_one("#trash-title", Static).update(text)

    @property
    def status_text(self) -> str:
        """The status line (for tests)."""
        return str(self.query_one("#trash-status", Static).render())

    def _update_status(self) -> None:
        table = self.table
        parts = [plural(len(table.runs), "deleted run")]
        if self.has_more:
            parts[0] = f"{parts[0]} shown, more exist (the latest started; narrow with /)"
        if table.selected:
            parts.append(f"[b]{len(table.selected)} selected[/b]")
        if self.search_query:
            parts.append("filtered")
        if self.loading_runs:
            parts.append("loading…")
        if self.last_action:
            parts.append(self.last_action)
        self.query_one("#trash-status", Static).update(" · ".join(parts))

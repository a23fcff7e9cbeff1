"""RunBrowser: the right side of the browse screen (overview, search, run table, status) and its actions.

Its workers read what its run table shows: pages of the search (`RunsLoaded`, `RunsFailed`), the
live refresh of RUNNING runs (`RunsRefreshed`), the keys for completion. The screen holds the search
state and asks for the reads; the results go up to it as these nested messages. It also answers the
run table's requests that need the store or a dialog: trash the selected runs (after a dry run
counts their children), export them as CSV, choose the columns (`RunsDeleted`, `ColumnsChosen`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runyard import InvalidInput, Metric, Run, TrackingClient
from runyard.exceptions import StoreError
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from .. import formatting
from ..messages import ActionFailed
from ..modals.column_chooser import ColumnChooserModal
from ..modals.confirm import ConfirmModal
from ..modals.prompt import PromptModal
from ..settings import ViewState
from ..workers import missing_parent_names, post_outcome, post_result, post_search
from .experiment_sidebar import tree_signature
from .overview_line import OverviewLine
from .search_box import SearchBox
from .tables.run_rows import DATASETS_COLUMN
from .tables.run_table import RunTable
from .tables.run_trends import trend_column

if TYPE_CHECKING:
    from runyard.entities import RunKeys

STATE_LABELS = {"ACTIVE_ONLY": "Active", "DELETED_ONLY": "Deleted", "ALL": "All"}
SearchScope = tuple[list[str], str, str, list[str] | None]
"""Experiment ids, filter, view type and order_by of the shown search."""


class RunBrowser(Vertical):
    """Overview line, search box and its error line, the run table and the status line."""

    class RunsLoaded(Message):
        """A page of runs for the search `generation`; `append` adds it after the loaded ones."""

        def __init__(
            self,
            generation: int,
            runs: list[Run],
            token: str | None,
            append: bool = False,
            parent_names: dict[str, str] | None = None,
            keep_cursor: bool = False,
            signature: tuple[int, int] | None = None,
        ) -> None:
            self.generation = generation
            self.runs = runs
            self.token = token
            self.append = append
            self.parent_names = parent_names or {}
            self.keep_cursor = keep_cursor
            self.signature = signature
            super().__init__()

    class RunsFailed(Message):
        """The search failed: a query error (shown under the search box) or a store error."""

        def __init__(self, generation: int, error: str, query_error: bool) -> None:
            self.generation = generation
            self.error = error
            self.query_error = query_error
            super().__init__()

    class RunsRefreshed(Message):
        """Fresh copies of the RUNNING runs; `changed` when runs were added or removed since the last load.

        `tree_signature`: see ExperimentSidebar.Loaded; `alerting` are the runs with an active alert."""

        def __init__(
            self,
            generation: int,
            runs: list[Run],
            changed: bool,
            tree_signature: Any = None,
            alerting: frozenset[str] = frozenset(),
        ) -> None:
            self.generation = generation
            self.runs = runs
            self.changed = changed
            self.tree_signature = tree_signature
            self.alerting = alerting
            super().__init__()

    class LiveRefreshFailed(Message):
        """A live refresh failed: `unreachable` when the tracking server did not answer."""

        def __init__(self, unreachable: bool, error: Exception) -> None:
            self.unreachable = unreachable
            self.error = error
            super().__init__()

    class DeletePrepared(Message):
        """Runs to delete and how many descendants would go with them."""

        def __init__(self, run_ids: list[str], descendant_count: int) -> None:
            self.run_ids = run_ids
            self.descendant_count = descendant_count
            super().__init__()

    class RunsDeleted(Message):
        """Runs moved to the trash."""

        def __init__(self, run_ids: list[str]) -> None:
            self.run_ids = run_ids
            super().__init__()

    class RunsExported(Message):
        """Runs written to a CSV file."""

        def __init__(self, path: str, count: int) -> None:
            self.path = path
            self.count = count
            super().__init__()

    class KeysLoaded(Message):
        """The param/metric/tag keys of the experiments of view `view_key`."""

        def __init__(self, view_key: str, keys: RunKeys) -> None:
            self.view_key = view_key
            self.keys = keys
            super().__init__()

    class RecentRead(Message):
        """A worker read the recent points the sparkline columns asked for (request `number`)."""

        def __init__(
            self,
            number: int,
            run_ids: list[str],
            keys: list[str],
            recent: dict[str, dict[str, list[Metric]]] | None,
        ) -> None:
            self.number = number
            self.run_ids = run_ids
            self.keys = keys
            self.recent = recent  # None: the read failed
            super().__init__()

    class ColumnsChosen(Message):
        """The columns picked in the column chooser, in order."""

        def __init__(self, columns: list[str]) -> None:
            self.columns = columns
            super().__init__()

    def __init__(
        self,
        client: TrackingClient,
        clock: Callable[[], int],
        scope: Callable[[], SearchScope],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.client = client
        self.clock = clock
        self.scope = scope
        self.view_key: str | None = None  # the experiment or folder shown
        self.keys: RunKeys | None = None  # of the shown experiments, once read (for the column chooser)
        self._alert_limits: dict[str, float] | None = None  # the alert thresholds, read once

    def compose(self) -> ComposeResult:
        """Overview, search, search error, table, status."""
        yield OverviewLine(self.client, self.clock, id="overview")
        yield SearchBox(id="search")
        yield Static("", id="search-error", classes="error-text")
        yield RunTable(id="runs", clock=self.clock)
        yield Static("", id="status-line")

    @property
    def table(self) -> RunTable:
        """The run table."""
        return self.query_one("#runs", RunTable)

    @property
    def search_box(self) -> SearchBox:
        """The search input."""
        return self.query_one("#search", SearchBox)

    def show_view(self, view_key: str, view_state: ViewState) -> None:
        """Another experiment or folder: its remembered search, columns, aggregate and sort."""
        self.view_key = view_key
        self.keys = None
        if not self.search_box.has_focus:  # never wipe what the user is typing
            self.search_box.value = view_state.last_search
        table = self.table
        table.selected.clear()
        table.collapsed.clear()
        table.set_columns(view_state.columns or [])
        table.set_aggregate(view_state.metric_aggregate)
        table.set_sort(view_state.sort_column, view_state.sort_descending)
        table.cursor_row = 0

    def show_status(self, view_state: ViewState, loading: bool, reconnecting: bool) -> None:
        """The status line: runs loaded, selection, state filter, sort, aggregate, filter, loading."""
        table = self.table
        parts = [formatting.plural(len(table.runs), "run", "+" if table.has_more else "")]
        if table.selected:
            parts.append(f"[b]{len(table.selected)} selected[/b]")
        parts.append(STATE_LABELS[view_state.state_filter])
        if view_state.state_filter == "DELETED_ONLY":
            parts.append("[b]T[/b] trash: restore, purge")
        if view_state.sort_column:
            arrow = "▼" if view_state.sort_descending else "▲"
            parts.append(f"sort {view_state.sort_column} {arrow}")
        if view_state.metric_aggregate != "latest":
            parts.append(f"metrics: {view_state.metric_aggregate}")
        if view_state.last_search:
            parts.append("filtered")
        if loading:
            parts.append("[b]loading…[/b]")
        if reconnecting:
            parts.append("[b]reconnecting…[/b] (the tracking server does not answer)")
        self.query_one("#status-line", Static).update(" · ".join(parts))

    # ----------------------------------------------------------------- reading runs (for the screen's search)
    @work(thread=True, exclusive=True, group="runs", exit_on_error=False)
    def search_runs(
        self,
        generation: int,
        experiment_ids: list[str],
        filter_string: str,
        view_type: str,
        order_by: list[str] | None,
        page_size: int,
        token: str | None,
        keep_cursor: bool,
    ) -> None:
        """One page of runs (and the names of parents that are not on it)."""

        def read() -> RunBrowser.RunsLoaded:
            signature: tuple[int, int] | None = None
            if token is None:
                page, signature = self.client.search_runs_with_signature(
                    experiment_ids, filter_string, view_type, max_results=page_size, order_by=order_by
                )
            else:
                page = self.client.search_runs(
                    experiment_ids,
                    filter_string,
                    view_type,
                    max_results=page_size,
                    order_by=order_by,
                    page_token=token,
                )
            names = missing_parent_names(self.client, page)
            appended = token is not None
            return self.RunsLoaded(
                generation, list(page), page.token, appended, names, keep_cursor, signature
            )

        post_search(self, read, lambda loaded: loaded, partial(self.RunsFailed, generation))

    @work(thread=True, exclusive=True, group="more-runs", exit_on_error=False)
    def fetch_more(
        self,
        generation: int,
        experiment_ids: list[str],
        filter_string: str,
        view_type: str,
        order_by: list[str] | None,
        token: str,
        page_size: int,
    ) -> None:
        """The next page of the current search."""

        def read() -> RunBrowser.RunsLoaded:
            page = self.client.search_runs(
                experiment_ids,
                filter_string,
                view_type,
                max_results=page_size,
                order_by=order_by,
                page_token=token,
            )
            names = missing_parent_names(self.client, page, skip_loaded=False)
            return self.RunsLoaded(generation, list(page), page.token, True, names)

        post_search(self, read, lambda loaded: loaded, partial(self.RunsFailed, generation))

    @work(thread=True, exclusive=True, group="live", exit_on_error=False)
    def live_refresh(
        self,
        generation: int,
        experiment_ids: list[str],
        view_type: str,
        running_ids: list[str],
        signature: tuple[int, int],
    ) -> None:
        """A cheap query: the running runs by id, and the run count signature."""

        def read() -> RunBrowser.RunsRefreshed:
            fresh = self.client.get_runs(running_ids) if running_ids else []
            changed = self.client.runs_signature(experiment_ids, view_type) != signature
            tree = tree_signature(self.client, self.client.list_experiments())
            return self.RunsRefreshed(generation, fresh, changed, tree, self._alerting_runs(fresh))

        def failed(error: Exception) -> RunBrowser.LiveRefreshFailed:
            return self.LiveRefreshFailed(self.client.is_remote and isinstance(error, StoreError), error)

        post_result(self, read, failed, even_if_cancelled=True)

    def _alerting_runs(self, running: list[Any]) -> frozenset[str]:
        """In a worker: which loaded RUNNING runs have an alert (one query of recent points)."""
        if not running:
            return frozenset()
        from runyard.tracking.watch import thresholds, watched_run

        if self._alert_limits is None:
            self._alert_limits = thresholds(self.client)
        recent = self.client.recent_metrics([run.info.run_id for run in running])
        now = self.clock()
        rows = [watched_run(r, recent.get(r.info.run_id, {}), now, (), self._alert_limits) for r in running]
        return frozenset(row.run.info.run_id for row in rows if row.alerts)

    # ----------------------------------------------------------------- keys
    @work(thread=True, exclusive=True, group="keys", exit_on_error=False)
    def load_keys(self, view_key: str, experiment_ids: list[str], view_type: str) -> None:
        """Keys for completion and the column chooser."""
        post_result(self, lambda: self.KeysLoaded(view_key, self.client.run_keys(experiment_ids, view_type)))

    def on_run_browser_keys_loaded(self, message: KeysLoaded) -> None:
        """Offer the keys to the search completion (and the column chooser)."""
        if message.view_key != self.view_key:
            return
        self.keys = message.keys
        self.search_box.key_suggester.set_keys(message.keys.metrics, message.keys.params, message.keys.tags)

    # ----------------------------------------------------------------- delete
    @on(RunTable.DeleteRequested, "#runs")
    def delete_requested(self, message: RunTable.DeleteRequested) -> None:
        """Count the children that would go too, then confirm."""
        self.prepare_delete(message.run_ids)

    @work(thread=True, exclusive=True, group="run-action", exit_on_error=False)
    def prepare_delete(self, run_ids: list[str]) -> None:
        """Ask the core which runs a delete would move (a dry run): the chosen ones and their descendants."""

        def count_descendants() -> int:
            affected = self.client.delete_run(run_ids, delete_descendants=True, dry_run=True)
            chosen = set(run_ids)
            return len([run_id for run_id in affected if run_id not in chosen])

        post_outcome(self, count_descendants, lambda count: self.DeletePrepared(run_ids, count), ActionFailed)

    def on_run_browser_delete_prepared(self, message: DeletePrepared) -> None:
        """Ask for confirmation naming the count and the children."""
        count = len(message.run_ids)
        runs = "1 run" if count == 1 else f"{formatting.count(count)} runs"
        if message.descendant_count:
            children = (
                "1 child run" if message.descendant_count == 1 else f"{message.descendant_count} child runs"
            )
            tail = f"{'Its' if count == 1 else 'Their'} {children} will be deleted too."
        else:
            tail = "No child runs are affected."
        text = f"Move {runs} to the trash?\n{tail}\nDeleted runs can be restored from the trash."

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_runs(message.run_ids)

        self.app.push_screen(ConfirmModal("Delete runs", text, "Delete"), answered)

    @work(thread=True, exclusive=True, group="run-action", exit_on_error=False)
    def delete_runs(self, run_ids: list[str]) -> None:
        """Move the runs and their descendants to the trash."""
        post_outcome(
            self,
            lambda: self.client.delete_run(run_ids, delete_descendants=True),
            lambda deleted: self.RunsDeleted(list(deleted)),
            ActionFailed,
            even_if_cancelled=True,
        )

    def on_run_browser_runs_deleted(self, message: RunsDeleted) -> None:
        """Say how many went (the screen reloads the table and the counts)."""
        count = len(message.run_ids)
        self.notify(f"Moved {count} run{'s' if count != 1 else ''} to the trash.")
        self.table.selected.difference_update(message.run_ids)

    # ----------------------------------------------------------------- export
    @on(RunTable.ExportRequested, "#runs")
    def export_requested(self, message: RunTable.ExportRequested) -> None:
        """Ask for a path and write the CSV; a path that cannot be written is reported in the dialog.

        With a selection, the selected runs; without, every run matching the search (one core call in
        the dialog's worker, however few pages the table has loaded).
        """
        runs = message.runs
        written_count: list[int] = []
        if runs is not None:
            count = formatting.count(len(runs))
            what = f"{count} selected {'run' if len(runs) == 1 else 'runs'}"
        else:
            what = "every run matching the search"
        scope = self.scope()

        def write(path: str) -> None:
            written_count.append(self.export_runs(runs, path, scope))

        def written(path: str | None) -> None:
            if path:
                self.post_message(self.RunsExported(str(Path(path).expanduser()), written_count[-1]))

        self.app.push_screen(PromptModal(f"Export {what} as CSV to", "runs.csv", action=write), written)

    def export_runs(self, runs: list[Run] | None, path: str, scope: SearchScope) -> int:
        """Write the runs (None: the whole search) as CSV (called in the dialog's worker thread)."""
        target = Path(path).expanduser()
        experiment_ids, filter_string, view_type, order_by = scope
        try:
            if runs is None:
                return self.client.export_runs_csv(target, experiment_ids, filter_string, view_type, order_by)
            from runyard.tracking.export import export_runs_csv

            names = {e.experiment_id: e.name for e in self.client.list_experiments("ALL")}
            return export_runs_csv(runs, target, names)
        except OSError as error:
            reason = error.strerror or str(error)
            raise InvalidInput(f"Cannot write {target}: {reason}. Type another path.") from error

    def on_run_browser_runs_exported(self, message: RunsExported) -> None:
        """Say where the file went."""
        noun = "run" if message.count == 1 else "runs"
        self.notify(f"Wrote {formatting.count(message.count)} {noun} to {message.path}.")

    # ----------------------------------------------------------------- columns
    @on(RunTable.ColumnsRequested, "#runs")
    def choose_columns(self) -> None:
        """Open the column chooser with every key of the shown runs."""

        def chosen(columns: list[str] | None) -> None:
            if columns is not None:
                self.table.set_columns(columns)
                self.post_message(self.ColumnsChosen(columns))

        self.app.push_screen(ColumnChooserModal(self.available_columns(), self.table.dynamic_columns), chosen)

    def available_columns(self) -> list[str]:
        """Datasets, then every metric, param and tag key of the shown experiments and loaded runs."""
        metrics: set[str] = set()
        params: set[str] = set()
        tags: set[str] = set()
        if self.keys is not None:
            metrics.update(self.keys.metrics)
            params.update(self.keys.params)
            tags.update(self.keys.tags)
        for run in self.table.runs[:5000]:
            metrics.update(run.data.metric_summaries or run.data.metrics)
            params.update(run.data.params)
            tags.update(run.data.tags)
        return (
            [DATASETS_COLUMN]
            + [column for k in sorted(metrics) for column in (f"metrics.{k}", trend_column(k))]
            + [f"params.{k}" for k in sorted(params)]
            + [f"tags.{k}" for k in sorted(tags)]
        )

    @on(RunTable.ColumnsChanged, "#runs")
    def columns_changed(self, message: RunTable.ColumnsChanged) -> None:
        """Columns the table changed itself (`t`: a sparkline column): the screen keeps them."""
        self.post_message(self.ColumnsChosen(list(message.columns)))

    # ----------------------------------------------------------------- sparklines
    @on(RunTable.RecentWanted, "#runs")
    def recent_wanted(self, message: RunTable.RecentWanted) -> None:
        """Read the recent points of the rows on screen, in a worker."""
        self.read_recent(message.number, message.run_ids, message.keys)

    @work(thread=True, group="recent", exit_on_error=False)
    def read_recent(self, number: int, run_ids: list[str], keys: list[str]) -> None:
        """One store call: the last points of these runs' trend keys; a failure is said, the cells show it."""

        def failed(text: str) -> RunBrowser.RecentRead:
            self.post_message(ActionFailed(f"Cannot read the sparklines: {text}"))
            return self.RecentRead(number, run_ids, keys, None)

        post_outcome(
            self,
            lambda: self.client.recent_metrics(run_ids, keys),
            lambda recent: self.RecentRead(number, run_ids, keys, recent),
            failed,
            even_if_cancelled=True,
        )

    def on_run_browser_recent_read(self, message: RecentRead) -> None:
        """Hand the points to the table (which drops answers overtaken by a newer request)."""
        if message.recent is None:
            self.table.recent_failed(message.number, message.run_ids)
        else:
            self.table.set_recent(message.number, message.recent, message.run_ids, message.keys)

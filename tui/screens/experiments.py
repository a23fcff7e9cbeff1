"""ExperimentsScreen: experiment tree on the left, searchable run table of the selection on the right.

The screen holds the state of the shown view (experiment, query, sort, filter, page token, search
generation, live refresh) and decides what to read when; the widgets own the rest, each with its own
workers and nested messages: ExperimentSidebar reads and edits experiments, RunBrowser reads the pages
and live updates for its run table and answers the table's delete, export and column requests,
OverviewLine reads its counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runyard import RunyardError, TrackingClient
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input

from ..messages import ActionFailed
from ..settings import STATE_FILTERS, Settings, ViewState
from ..widgets.experiment_sidebar import ExperimentSidebar
from ..widgets.experiment_tree import ExperimentTree, FolderEntry
from ..widgets.key_bar import KeyBar
from ..widgets.overview_line import OverviewLine
from ..widgets.run_browser import RunBrowser, SearchScope
from ..widgets.search_box import SearchBox
from ..widgets.tables.run_rows import default_dynamic_columns, order_by_clause, status_text
from ..widgets.tables.run_table import RunTable
from ..workers import (
    LoadingHint,
    error_text,
    report_load_error,
    set_search_error,
)

if TYPE_CHECKING:
    from runyard.entities import ExperimentOverview, RunKeys

NARROW_WIDTH = 100  # below this the tree and the table take turns on the full screen
RELOAD_CAP = 5000  # a live reload re-reads at most this many rows
KEYS_DELAY = 0.5  # seconds after the first page before the (slow on big stores) key scan starts


class ExperimentsScreen(Screen[None]):
    """Browse experiments and search their runs."""

    COMMAND_AREA = "View"
    BINDINGS = [
        Binding(
            "b",
            "toggle_sidebar",
            "Experiments",
            id="view.sidebar",
            tooltip="Show or hide the experiment tree",
        ),
        Binding(
            "ctrl+r", "reload", "Reload", show=False, id="view.reload", tooltip="Reload experiments and runs"
        ),
        Binding("w", "watch", "Watch", id="view.watch", tooltip="Watch the RUNNING runs: pace and alerts"),
    ]

    def __init__(
        self, client: TrackingClient, settings: Settings, exit_after_first_render: bool = False
    ) -> None:
        super().__init__()
        self.client = client
        self.settings = settings
        self.exit_after_first_render = exit_after_first_render
        self.entry: FolderEntry | None = None
        self.view_state = ViewState()
        self.generation = 0
        self.next_token: str | None = None
        self.loading_more = False
        self.searching = False
        self.signature: tuple[int, int] | None = None
        self._live_statuses: frozenset[tuple[str, str]] | None = None  # (run_id, shown status) last tick
        self.live_pending = False  # a live refresh is on its way (a slow server: the next tick waits)
        self.reconnecting = False  # the tracking server stopped answering; live refresh keeps trying
        self._tried_query: tuple[int, str] | None = None  # (generation, previous query) of a new query
        self._first_experiments = True
        self._rendered_once = False
        self._loading_hint = LoadingHint()
        self._details_pending = False
        self.alerting: frozenset[str] = frozenset()  # loaded RUNNING runs with an active alert (badges)
        self.loading_shown = False  # the status line says "loading…" once a query took over 100 ms

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        """Sidebar (filter + tree) and browser (overview, search, errors, table, status)."""
        with Horizontal(id="main"):
            yield ExperimentSidebar(self.client, id="sidebar")
            yield RunBrowser(self.client, self.settings.clock, self.search_scope, id="browser")
        yield KeyBar(id="keys")

    @property
    def table(self) -> RunTable:
        """The run table."""
        return self.query_one("#runs", RunTable)

    @property
    def browser(self) -> RunBrowser:
        """Overview, search box, run table and status line, with the table's delete/export/columns."""
        return self.query_one("#browser", RunBrowser)

    @property
    def keys(self) -> RunKeys | None:
        """The keys of the shown experiments, once read."""
        return self.browser.keys

    @property
    def sidebar(self) -> ExperimentSidebar:
        """The experiment filter and tree."""
        return self.query_one("#sidebar", ExperimentSidebar)

    @property
    def experiment_tree(self) -> ExperimentTree:
        """The experiment tree."""
        return self.sidebar.experiment_tree

    @property
    def overview_line(self) -> OverviewLine:
        """The counts above the search box."""
        return self.query_one("#overview", OverviewLine)

    @property
    def overview(self) -> ExperimentOverview | None:
        """The counts of the shown experiments, once read."""
        return self.overview_line.overview

    @property
    def search_box(self) -> SearchBox:
        """The search input."""
        return self.query_one("#search", SearchBox)

    def on_mount(self) -> None:
        """Load experiments, start the live refresh."""
        self.query_one("#search-error").display = False
        self.search_box.set_history(self.settings.search_history)
        self.table.search_target = self.search_box
        self.search_box.return_target = self.table
        self.table.focus()
        self.load_experiments()
        self.set_interval(self.settings.refresh_seconds, self.live_tick)

    def on_resize(self) -> None:
        """Narrow terminals show the tree or the table, not both."""
        self.set_class(self.size.width < NARROW_WIDTH, "narrow")
        sidebar_focused = self.focused is not None and self.focused.id in ("experiments", "experiment-filter")
        if self.has_class("narrow") and not self.has_class("sidebar-shown") and sidebar_focused:
            self.table.focus()

    def action_toggle_sidebar(self) -> None:
        """Show or hide the experiment tree (on a narrow terminal: switch between tree and table)."""
        if self.has_class("narrow"):
            show = not self.has_class("sidebar-shown")
            self.set_class(show, "sidebar-shown")
        else:
            show = self.has_class("sidebar-hidden")
            self.set_class(not show, "sidebar-hidden")
        (self.experiment_tree if show else self.table).focus()

    def trash_scope(self) -> tuple[list[str], str] | None:
        """The shown experiment or folder (None when all experiments are shown)."""
        if self.entry is None or self.entry.path == "/":
            return None
        return list(self.entry.experiment_ids), self.entry.path

    def action_watch(self) -> None:
        """Open the watch screen on the shown experiments' RUNNING runs."""
        from .watch import WatchScreen

        ids = list(self.entry.experiment_ids) if self.entry is not None else []
        self.app.push_screen(
            WatchScreen(
                self.client, ids, clock=self.settings.clock, refresh_seconds=self.settings.refresh_seconds
            )
        )

    def action_reload(self) -> None:
        """Re-read experiments, runs and the header."""
        self.load_experiments()
        self.start_search(keep_cursor=True)
        self._details_pending = True

    # ----------------------------------------------------------------- experiments
    def load_experiments(self) -> None:
        """Re-read the experiments of the tree (the sidebar's worker)."""
        self.sidebar.load(early=self._first_experiments and bool(self.settings.last_view))

    def on_experiment_sidebar_loaded(self, message: ExperimentSidebar.Loaded) -> None:
        """The tree is filled: the first time, open the remembered or the busiest experiment."""
        if not message.counted:  # the first list, before the run counts: open the remembered view now
            tree = self.experiment_tree
            if self._first_experiments and message.experiments and self.settings.last_view:
                tree.set_experiments(message.experiments, {})
                if tree.select_view(self.settings.last_view) and tree.highlighted_entry is not None:
                    self._first_experiments = False
                    self.show_entry(tree.highlighted_entry)
            return
        if not self._first_experiments:
            if self.experiment_tree.highlighted_entry is not None:
                self.show_entry(self.experiment_tree.highlighted_entry)
            return
        self._first_experiments = False
        if not message.experiments:
            self.table.clear("No experiments yet: press n in the tree to create one, or run `runyard demo`.")
            self._first_render_done()
            return
        tree = self.experiment_tree
        if not (self.settings.last_view and tree.select_view(self.settings.last_view)):
            busiest = max(message.experiments, key=lambda e: message.counts.get(e.experiment_id, 0))
            tree.select_view(f"experiment:{busiest.experiment_id}")
        if tree.highlighted_entry is not None:
            self.show_entry(tree.highlighted_entry)

    @on(ExperimentTree.ExperimentSelected, "#experiments")
    def experiment_selected(self, message: ExperimentTree.ExperimentSelected) -> None:
        """Show the runs of the highlighted experiment or folder."""
        highlighted = self.experiment_tree.highlighted_entry
        if highlighted is None or highlighted.view_key != message.entry.view_key:
            return  # a stale highlight (the tree moved on since): it must not switch views and back
        if not self._first_experiments:
            self.show_entry(message.entry)

    def show_entry(self, entry: FolderEntry) -> None:
        """Show the runs of an experiment or folder with its remembered view."""
        if self.entry is not None and entry.view_key == self.entry.view_key:
            unchanged = entry.experiment_ids == self.entry.experiment_ids
            self.entry = entry  # same view, fresh counts
            if not unchanged:
                self.start_search(keep_cursor=True)
                self._details_pending = True  # the overview and keys are of the old experiments
            return
        self.entry = entry
        self.settings.last_view = entry.view_key
        self.view_state = self.settings.view(entry.view_key)
        self.settings.save()
        self.browser.show_view(entry.view_key, self.view_state)
        self.overview_line.show_view(entry.view_key, entry.path if entry.path != "/" else "All experiments")
        self.start_search()
        self._details_pending = True  # overview and keys load once the first page is on screen

    @on(ExperimentTree.NodeSelected, "#experiments")
    def experiment_chosen(self) -> None:
        """Enter on a tree node: on a narrow terminal, switch to the table."""
        if self.has_class("narrow"):
            self.remove_class("sidebar-shown")
            self.table.focus()

    def on_experiment_sidebar_filtered(self, message: ExperimentSidebar.Filtered) -> None:
        """The filter changed what the highlighted node holds: show its runs."""
        if message.entry is not None and not self._first_experiments:
            self.show_entry(message.entry)

    def on_experiment_sidebar_experiment_deleted(self) -> None:
        """The shown experiment went to the trash: choose again once the tree is re-read."""
        self.entry = None
        self._first_experiments = True
        self.load_experiments()

    def on_run_browser_runs_deleted(self) -> None:
        """Runs went to the trash: reload the table and the counts."""
        self.start_search(keep_cursor=True)
        self.load_experiments()

    def on_run_browser_columns_chosen(self, message: RunBrowser.ColumnsChosen) -> None:
        """Remember the chosen columns (saved as they change: a dropped session keeps them)."""
        self.view_state.columns = message.columns
        self.settings.save()

    def on_action_failed(self, message: ActionFailed) -> None:
        """A store action failed: say so."""
        self.notify(message.error, severity="error", timeout=8)

    # ----------------------------------------------------------------- search
    def search_scope(self) -> SearchScope:
        """Experiment ids, filter, view type and order_by of the shown search."""
        ids = list(self.entry.experiment_ids) if self.entry is not None else []
        return ids, self.view_state.last_search, self.view_state.state_filter, self.order_by()

    def order_by(self) -> list[str] | None:
        """The order_by of the current sort (None: newest first)."""
        state = self.view_state
        if not state.sort_column:
            return None
        return [order_by_clause(state.sort_column, state.sort_descending, state.metric_aggregate)]

    def start_search(self, keep_cursor: bool = False) -> None:
        """Run the current search again from the first page."""
        if self.entry is None:
            return
        self.generation += 1
        self.next_token = None
        self.loading_more = False
        self.searching = True
        page = min(self.settings.first_page_size, self.settings.page_size)
        if keep_cursor:
            page = max(page, min(len(self.table.runs), RELOAD_CAP))
        self._loading_hint.start(self, self._show_loading)
        self.browser.search_runs(
            self.generation,
            list(self.entry.experiment_ids),
            self.view_state.last_search,
            self.view_state.state_filter,
            self.order_by(),
            page,
            None,
            keep_cursor,
        )
        self._update_status()

    def _show_loading(self) -> None:
        if self.searching:
            self.loading_shown = True
            self._update_status()

    def on_run_browser_runs_loaded(self, message: RunBrowser.RunsLoaded) -> None:
        """Show the page (replace, or append the next page)."""
        if message.generation != self.generation:
            return
        self.next_token = message.token
        if message.append:
            self.loading_more = False
            self.table.append_runs(message.runs, message.token is not None, message.parent_names)
        else:
            self._stop_loading()
            if message.signature is not None:
                self.signature = message.signature
            if self._tried_query is not None and self._tried_query[0] == message.generation:
                self._tried_query = None  # the new query worked: it joins the history
                self.settings.remember_search(self.view_state.last_search)
                self.search_box.set_history(self.settings.search_history)
                self.settings.save()
            set_search_error(self, "#search-error", "")
            if not message.keep_cursor:
                self.table.cursor_row = 0
                self.table.scroll_to(0, 0, animate=False)
            self.table.empty_text = "No runs match the search." if self.view_state.last_search else "No runs."
            self.table.set_runs(message.runs, message.token is not None, message.parent_names)
            if self.view_state.columns is None and not self.table.dynamic_columns:
                self.table.set_columns(default_dynamic_columns(message.runs))
        self._update_status()
        self._first_render_done()
        if self._details_pending and self.entry is not None:
            self._details_pending = False
            self.overview_line.load(self.entry.experiment_ids)
            self.set_timer(KEYS_DELAY, self._load_keys_of_entry)

    def _load_keys_of_entry(self, again: bool = False) -> None:
        if self.entry is not None and (again or self.keys is None):
            self.load_keys(self.entry.view_key, self.entry.experiment_ids, self.view_state.state_filter)

    def on_run_browser_runs_failed(self, message: RunBrowser.RunsFailed) -> None:
        """A query error goes under the search box (the typed text stays); other errors to a notification."""
        if message.generation != self.generation:
            return
        self._stop_loading()
        self.loading_more = False
        tried = self._tried_query
        if message.query_error and tried is not None and tried[0] == message.generation:
            self.view_state.last_search = tried[1]  # the table still shows that query's runs
            self._tried_query = None
        report_load_error(self, "#search-error", self.search_box, message.error, message.query_error)
        self._update_status()
        self._first_render_done()

    def _stop_loading(self) -> None:
        self.searching = False
        self._loading_hint.stop()
        if self.loading_shown:
            self.loading_shown = False
            self._update_status()

    def _first_render_done(self) -> None:
        if self.exit_after_first_render and not self._rendered_once:
            self._rendered_once = True
            self.app.call_after_refresh(self.app.exit)

    @on(RunTable.MoreRunsWanted, "#runs")
    def load_more(self) -> None:
        """Fetch the next page when the cursor nears the end of what is loaded."""
        if self.entry is None or self.next_token is None or self.loading_more or self.searching:
            return
        self.loading_more = True
        self.browser.fetch_more(
            self.generation,
            list(self.entry.experiment_ids),
            self.view_state.last_search,
            self.view_state.state_filter,
            self.order_by(),
            self.next_token,
            self.settings.page_size,
        )
        self._update_status()

    @on(Input.Submitted, "#search")
    def search_submitted(self, event: Input.Submitted) -> None:
        """Apply the query, remember it, and go back to the table."""
        query = event.value.strip()
        previous = self.view_state.last_search
        self.view_state.last_search = query
        self.table.focus()
        self.start_search()
        self._tried_query = (self.generation, previous)  # kept in the history only once it worked

    @on(SearchBox.Left, "#search")
    @on(RunTable.SearchRequested, "#runs")
    def toggle_search_focus(self, message: SearchBox.Left | RunTable.SearchRequested) -> None:
        """`/` in the table focuses the search box; Escape there shows the applied query and goes back."""
        if isinstance(message, SearchBox.Left):
            self.search_box.value = self.view_state.last_search  # the box shows the applied query
            set_search_error(self, "#search-error", "")
            self.table.focus()
        else:
            self.search_box.focus()

    # ----------------------------------------------------------------- table requests
    @on(RunTable.SortRequested, "#runs")
    def sort_requested(self, message: RunTable.SortRequested) -> None:
        """Sort by the column (the store sorts; missing values last)."""
        self.view_state.sort_column = message.column_id
        self.view_state.sort_descending = message.descending
        self.settings.save()  # saved as it changes: a dropped session keeps it
        self.table.set_sort(message.column_id, message.descending)
        self.start_search(keep_cursor=True)

    @on(RunTable.StateFilterRequested, "#runs")
    def cycle_state_filter(self) -> None:
        """Active -> Deleted -> All."""
        index = STATE_FILTERS.index(self.view_state.state_filter)
        self.view_state.state_filter = STATE_FILTERS[(index + 1) % len(STATE_FILTERS)]
        self.settings.save()
        self.table.selected.clear()
        self.start_search()
        self._load_keys_of_entry(again=True)

    @on(RunTable.AggregateChanged, "#runs")
    def aggregate_changed(self, message: RunTable.AggregateChanged) -> None:
        """Remember latest/min/max; re-sort when sorted by a metric."""
        self.view_state.metric_aggregate = message.aggregate
        self.settings.save()
        if (self.view_state.sort_column or "").startswith("metrics."):
            self.start_search(keep_cursor=True)
        self._update_status()

    @on(RunTable.SelectionChanged, "#runs")
    def selection_changed(self) -> None:
        """Show the selection count."""
        self._update_status()

    # ----------------------------------------------------------------- keys
    def load_keys(self, view_key: str, experiment_ids: list[str], view_type: str) -> None:
        """Read the keys for completion and the column chooser (the browser's worker)."""
        self.browser.load_keys(view_key, experiment_ids, view_type)

    # ----------------------------------------------------------------- live refresh
    def live_tick(self) -> None:
        """Every few seconds: re-read RUNNING runs, notice new runs, redraw relative times.

        The overview is re-read only when something it counts changed (runs came or went, or a
        loaded running run finished or was lost): idle, a tick costs two cheap queries.
        """
        self.table.refresh()
        self.overview_line.redraw()
        if self.entry is None or self.searching or self.signature is None or self.live_pending:
            return
        self.live_pending = True
        self.browser.live_refresh(
            self.generation,
            list(self.entry.experiment_ids),
            self.view_state.state_filter,
            self.table.running_run_ids,
            self.signature,
        )

    def on_run_browser_live_refresh_failed(self, message: RunBrowser.LiveRefreshFailed) -> None:
        """Show "reconnecting…" while the server is away (the next ticks retry); other errors notify."""
        self.live_pending = False
        if message.unreachable:
            self.reconnecting = True
            self._update_status()
        elif not isinstance(message.error, RunyardError):
            self.notify(error_text(message.error), severity="error", timeout=8)

    def on_run_browser_runs_refreshed(self, message: RunBrowser.RunsRefreshed) -> None:
        """Update rows in place; reload (keeping cursor and selection) when runs came or went."""
        self.live_pending = False
        if self.reconnecting:
            self.reconnecting = False
            self._update_status()
        if message.generation != self.generation or self.searching:
            return
        if message.alerting != self.alerting:
            self.alerting = message.alerting
            self.table.set_alerting(message.alerting)
            self.overview_line.set_alert_count(len(message.alerting))
        self.table.update_runs(message.runs)
        sidebar = self.sidebar
        tree_changed = message.tree_signature is not None and message.tree_signature != sidebar.tree_signature
        now = self.settings.clock()
        live = frozenset((run.info.run_id, status_text(run, now)) for run in message.runs)
        moved = self._live_statuses is not None and live != self._live_statuses
        self._live_statuses = live
        if message.changed:
            self.start_search(keep_cursor=True)
            self._details_pending = True  # the header counts follow the new runs, once the page is in
        elif moved and self.entry is not None:  # a run finished or was lost: the overview counts moved
            self.overview_line.load(self.entry.experiment_ids)
        if message.changed or tree_changed:
            sidebar.tree_signature = message.tree_signature
            self.load_experiments()  # new, renamed or deleted experiments; run counts

    # ----------------------------------------------------------------- status
    def _update_status(self) -> None:
        loading = self.loading_shown or self.loading_more
        self.browser.show_status(self.view_state, loading=loading, reconnecting=self.reconnecting)

    def on_unmount(self) -> None:
        """Remember the view."""
        self.settings.save()

    # ----------------------------------------------------------------- run details (issue 6)
    @on(RunTable.RunOpened, "#runs")
    def open_run_details(self, message: RunTable.RunOpened) -> None:
        """Push the run-details screen; back on the table, reload so edits (name, tags) show."""
        from .run_detail import RunDetailScreen

        details = RunDetailScreen(
            self.client,
            message.run_id,
            clock=self.settings.clock,
            refresh_seconds=self.settings.refresh_seconds,
        )
        self.app.push_screen(details, lambda _: self.start_search(keep_cursor=True))

    # ----------------------------------------------------------------- compare (issue 7)
    @on(RunTable.CompareRequested, "#runs")
    def open_compare(self, message: RunTable.CompareRequested) -> None:
        """Push the compare screen on the selected runs (at most 100 are compared; it says so)."""
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(self.client, message.run_ids, clock=self.settings.clock))

"""CompareScreen: the selected runs side by side, as tables and as terminal plots (history, scatter,
parallel coordinates, distribution). Keys 1..5 switch views; escape goes back to the run table.

One worker fetches the runs (TrackingClient.get_runs, at most 100) and their experiments' names; the
views only draw what it fetched, except the history view, whose own worker fetches downsampled histories.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from runyard import Run, TrackingClient
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from ..formatting import system_clock_ms
from ..messages import ErrorMessage
from ..widgets.compare_values import MAX_COMPARED, CompareData
from ..widgets.field_picker import FieldPicker
from ..widgets.key_bar import KeyBar
from ..widgets.plots.compare_plot import PlotView
from ..widgets.plots.distribution_plot import DistributionView
from ..widgets.plots.history_plot import HistoryView
from ..widgets.plots.parallel_plot import ParallelView
from ..widgets.plots.scatter_plot import ScatterView
from ..widgets.tables.compare_tables import CompareTable
from ..workers import post_outcome

VIEWS = ("tables", "history", "scatter", "parallel", "distribution")
VIEW_TITLES = {
    "tables": "Tables",
    "history": "History",
    "scatter": "Scatter",
    "parallel": "Parallel",
    "distribution": "Distribution",
}
HINTS = {
    "tables": "←→↑↓ move · d differences only · m latest/min/max · b lower/higher is best",
    "history": "/ filter · ↑↓ metric · x step/wall/relative · l log y · o outliers · +/- smooth · tab legend",
    "scatter": "/ filter · ↑↓ field · x set X · y/enter set Y · s swap · l/L log x/y · o outliers",
    "parallel": "/ filter · ↑↓ field · space axis on/off · c/enter colour by · [ ] move axis · o outliers",
    "distribution": "/ filter · enter metric · g group by param · G no groups · l log y · o outliers",
}


class CompareScreen(Screen[None]):
    """2 to 100 runs (from one or several experiments) compared side by side."""

    COMMAND_AREA = "Compare"

    BINDINGS = [
        Binding("escape", "back", "Back", id="compare.back"),
        *(
            Binding(str(n), f"show_view('{view}')", VIEW_TITLES[view], show=False, id=f"compare.view_{view}")
            for n, view in enumerate(VIEWS, start=1)
        ),
    ]

    class RunsLoaded(Message):
        """The worker fetched the compared runs and their experiments' names."""

        def __init__(self, runs: list[Run], experiment_names: dict[str, str]) -> None:
            self.runs = runs
            self.experiment_names = experiment_names
            super().__init__()

    class RunsFailed(ErrorMessage):
        """Fetching the runs raised a runyard error."""

    def __init__(
        self,
        client: TrackingClient,
        run_ids: Sequence[str],
        *,
        clock: Callable[[], int] = system_clock_ms,
        initial_view: str = "tables",
    ) -> None:
        super().__init__()
        self.client = client
        self.requested_ids = list(dict.fromkeys(run_ids))
        self.run_ids = self.requested_ids[:MAX_COMPARED]
        self.clock = clock
        self.initial_view = initial_view if initial_view in VIEWS else "tables"
        self.compare_data: CompareData | None = None
        self._pending_view: str | None = None  # a view key pressed before the tabs were mounted

    def compose(self) -> ComposeResult:
        """Title, warning, the five views in tabs, footer."""
        yield Static(f"Loading {len(self.run_ids)} runs…", id="compare-title")
        yield Static("", id="compare-warning")
        with TabbedContent(id="compare-views", initial=f"view-{self.initial_view}"):
            with TabPane("1 Tables", id="view-tables"):
                yield Static(HINTS["tables"], classes="view-hint")
                yield CompareTable(id="compare-table")
            with TabPane("2 History", id="view-history"):
                yield Static(HINTS["history"], classes="view-hint")
                yield HistoryView(self.client, id="history")
            with TabPane("3 Scatter", id="view-scatter"):
                yield Static(HINTS["scatter"], classes="view-hint")
                yield ScatterView(id="scatter")
            with TabPane("4 Parallel", id="view-parallel"):
                yield Static(HINTS["parallel"], classes="view-hint")
                yield ParallelView(id="parallel")
            with TabPane("5 Distribution", id="view-distribution"):
                yield Static(HINTS["distribution"], classes="view-hint")
                yield DistributionView(id="distribution")
        yield KeyBar()

    def on_mount(self) -> None:
        """Say when more than 100 runs were selected, then fetch the runs."""
        if len(self.requested_ids) > MAX_COMPARED:
            warning = self.query_one("#compare-warning", Static)
            warning.update(
                f"{len(self.requested_ids):,} runs selected: comparing the first {MAX_COMPARED} "
                f"(select at most {MAX_COMPARED} to choose which)."
            )
            warning.add_class("shown")
        if len(self.run_ids) < 2:
            self.notify("Select at least two runs to compare them side by side.", severity="warning")
        self.query_one("#compare-views").loading = True
        self.load_runs(self.run_ids)

    @work(thread=True, exclusive=True, group="compare-runs", exit_on_error=False)
    def load_runs(self, run_ids: list[str]) -> None:
        """Fetch the runs and the names of their experiments."""

        def read() -> CompareScreen.RunsLoaded:
            runs = self.client.get_runs(run_ids)
            names: dict[str, str] = {}
            for experiment_id in dict.fromkeys(run.info.experiment_id for run in runs):
                names[experiment_id] = self.client.get_experiment(experiment_id).name
            return self.RunsLoaded(runs, names)

        post_outcome(self, read, lambda loaded: loaded, self.RunsFailed)

    def on_compare_screen_runs_loaded(self, message: RunsLoaded) -> None:
        """Hand the runs to every view."""
        data = CompareData(message.runs, message.experiment_names, requested=len(self.requested_ids))
        self.compare_data = data
        self.query_one("#compare-views").loading = False
        experiments = data.experiments
        title = f"Comparing {len(data.runs)} runs"
        title += f" from {len(experiments)} experiments: " if len(experiments) > 1 else " of "
        title += ", ".join(experiments)
        missing = len(self.run_ids) - len(data.runs)
        if missing:
            title += f" ({missing} no longer exist)"
        self.query_one("#compare-title", Static).update(title)
        if not data.runs:
            self.query_one("#compare-title", Static).update("None of the selected runs exist any more.")
        self.query_one(CompareTable).set_data(data, self.clock())
        self.query_one(HistoryView).set_data(data)
        for view in self.query(PlotView):
            view.set_data(data)
        self._focus_view(self.current_view)  # the view shown now (keys may have switched it)

    def on_compare_screen_runs_failed(self, message: RunsFailed) -> None:
        """Show the error in the title line."""
        self.query_one("#compare-views").loading = False
        self.query_one("#compare-title", Static).update(f"Could not load the runs: {message.error}")

    @property
    def current_view(self) -> str:
        """The name of the view shown ('tables', 'history', ...)."""
        active = self.query_one(TabbedContent).active
        return active.removeprefix("view-") if active else "tables"

    def action_show_view(self, view: str) -> None:
        """Show one of the five views and focus it."""
        if not self.query(f"ContentTabs #--content-tab-view-{view}"):
            self._pending_view = view  # the tabs are still mounting: switch once they are
            return
        self.query_one(TabbedContent).active = f"view-{view}"
        self._focus_view(view)

    @on(TabbedContent.TabActivated, "#compare-views")
    def _tab_activated(self) -> None:
        if self._pending_view is not None:
            view, self._pending_view = self._pending_view, None
            self.call_later(self.action_show_view, view)

    def _focus_view(self, view: str) -> None:
        if view == "tables":
            self.query_one(CompareTable).focus()
        else:
            pane = self.query_one(f"#view-{view}", TabPane)
            pane.query_one(FieldPicker).option_list.focus()

    def action_back(self) -> None:
        """Back to the run table."""
        self.dismiss(None)

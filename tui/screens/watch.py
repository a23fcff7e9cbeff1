"""WatchScreen: the RUNNING runs in scope, refreshed every 2 s: pace, sparklines, GPU and alert badges.

A worker reads one snapshot per refresh (runyard.tracking.watch: two store calls whatever the number
of runs, three when the scope is every experiment; the alert thresholds are read once); `enter` opens
the run's details, `escape` goes back.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from runyard import TrackingClient
from runyard.formatting import format_duration, sparkline
from runyard.tracking.watch import WatchedRun, thresholds, watch_snapshot
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ..formatting import system_clock_ms
from ..messages import ErrorMessage
from ..widgets.key_bar import KeyBar
from ..workers import post_outcome

REFRESH_SECONDS = 2.0


class WatchScreen(Screen[None]):
    """Live view of RUNNING runs (see the module docstring)."""

    COMMAND_AREA = "Watch"

    BINDINGS = [
        Binding("escape", "back", "Back", id="watch.back"),
        Binding("enter", "open_run", "Open run", id="watch.open"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="watch.reload"),
    ]

    class SnapshotRead(Message):
        """A worker read the watched runs."""

        def __init__(self, rows: list[WatchedRun]) -> None:
            self.rows = rows
            super().__init__()

    class ReadFailed(ErrorMessage):
        """The runs could not be read."""

    def __init__(
        self,
        client: TrackingClient,
        experiment_ids: list[str] | None = None,
        metric_keys: tuple[str, ...] = (),
        *,
        clock: Callable[[], int] = system_clock_ms,
        refresh_seconds: float | None = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self.client = client
        self.experiment_ids = list(experiment_ids or [])
        self.metric_keys = metric_keys
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.rows: list[WatchedRun] = []
        self.limits: dict[str, float] | None = None  # the store's alert thresholds, read once

    def compose(self) -> ComposeResult:
        """Title, the table of runs, the alert lines of the selected run, the footer."""
        yield Static("Watching RUNNING runs…", id="watch-title")
        yield DataTable(id="watch-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="watch-alerts")
        yield KeyBar()

    def on_mount(self) -> None:
        """Read now and every refresh interval."""
        table = self.query_one(DataTable)
        table.add_columns("", "Status", "Run", "Last point", "Steps/s", "ETA", "Metrics", "GPU")
        self.load()
        if self.refresh_seconds:
            self.set_interval(self.refresh_seconds, self._refresh)
        table.focus()

    def _refresh(self) -> None:
        if self.is_current:
            self.load()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def load(self) -> None:
        """One snapshot of the watched runs, off the UI thread."""

        def read() -> list[WatchedRun]:
            if self.limits is None:
                self.limits = thresholds(self.client)
            ids = self.experiment_ids or [e.experiment_id for e in self.client.list_experiments()]
            return (
                watch_snapshot(self.client, ids, self.clock(), self.metric_keys, self.limits) if ids else []
            )

        post_outcome(self, read, self.SnapshotRead, self.ReadFailed)

    def on_watch_screen_snapshot_read(self, message: SnapshotRead) -> None:
        """Redraw the table, keeping the cursor on the same run."""
        table = self.query_one(DataTable)
        selected = self.selected_run_id()
        self.rows = message.rows
        now = self.clock()
        table.clear()
        for row in self.rows:
            table.add_row(*self.cells(row, now), key=row.run.info.run_id)
        if selected is not None:
            index = next((i for i, r in enumerate(self.rows) if r.run.info.run_id == selected), 0)
            table.move_cursor(row=index, animate=False)
        alerting = sum(1 for row in self.rows if row.alerts)
        badge = f"  [b $error]⚠ {alerting} with alerts[/]" if alerting else "  [dim]no alerts[/]"
        count = len(self.rows)
        runs = f"{count} RUNNING run{'s' if count != 1 else ''}"
        title = f"[b]Watch[/] · {runs}{badge}  [dim]refresh 2 s · enter opens a run[/]"
        if not self.rows:
            title += "\n[dim]No RUNNING runs in scope: start a training script and it shows here.[/]"
        self.query_one("#watch-title", Static).update(title)
        self.show_alerts()

    def on_watch_screen_read_failed(self, message: ReadFailed) -> None:
        """Say why nothing is shown (the next refresh tries again)."""
        self.query_one("#watch-title", Static).update(
            Text(f"Cannot read the runs: {message.error}", "bold red")
        )

    def cells(self, row: WatchedRun, now: int) -> list[Text | str]:
        """The table cells of one run."""
        badge = Text(f"⚠{len(row.alerts)}", style="bold red") if row.alerts else Text("")
        status = Text(row.status, style="bold red" if row.status == "LOST" else "bold")
        since = "—" if row.last_point_ms is None else format_duration(max(0, now - row.last_point_ms))
        rate = "—" if row.steps_per_second is None else f"{row.steps_per_second:.3g}"
        eta = "—" if row.eta_seconds is None else format_duration(int(row.eta_seconds * 1000))
        metrics = Text()
        for key, values in row.sparklines.items():
            if metrics:
                metrics.append("  ")
            metrics.append(f"{key} ", style="dim")
            metrics.append(sparkline(values, 12), style="red" if "!" in sparkline(values, 12) else "")
        gpu = sparkline(row.gpu_utilization, 8) if row.gpu_utilization else "—"
        return [badge, status, row.run.info.run_name, since, rate, eta, metrics, gpu]

    def selected_run_id(self) -> str | None:
        """The run under the cursor."""
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row].run.info.run_id

    @on(DataTable.RowHighlighted)
    def show_alerts(self) -> None:
        """The selected run's alerts, one a line."""
        selected = self.selected_run_id()
        row = next((r for r in self.rows if r.run.info.run_id == selected), None)
        lines = Text()
        for alert in row.alerts if row else []:
            if lines:
                lines.append("\n")
            lines.append(f"⚠ {alert.kind}: ", style="bold red")
            lines.append(alert.message)
        self.query_one("#watch-alerts", Static).update(lines)

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        """Open the selected run's details."""
        run_id = self.selected_run_id()
        if run_id is None:
            return
        from .run_detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(self.client, run_id, clock=self.clock))

    def action_reload(self) -> None:
        """Read again now."""
        self.load()

    def action_back(self) -> None:
        """Back to the run table."""
        if len(self.app.screen_stack) > 1:
            self.dismiss(None)

"""OverviewLine: the counts above the run table: runs, running, alerts, lost, failed, last activity, users."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from runyard import TrackingClient
from textual import work
from textual.message import Message
from textual.widgets import Static

from .. import formatting
from ..workers import post_result

if TYPE_CHECKING:
    from runyard.entities import ExperimentOverview


class OverviewLine(Static):
    """One line of counts over the shown experiments; it reads them itself, in a worker."""

    class Loaded(Message):
        """The overview counts of the experiments of view `view_key`."""

        def __init__(self, view_key: str, overview: ExperimentOverview) -> None:
            self.view_key = view_key
            self.overview = overview
            super().__init__()

    def __init__(self, client: TrackingClient, clock: Callable[[], int], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.client = client
        self.clock = clock
        self.view_key: str | None = None  # the view whose counts are wanted
        self.title = ""
        self.overview: ExperimentOverview | None = None
        self.alert_count = 0  # loaded RUNNING runs with an active alert (the screen's live refresh knows)

    def show_view(self, view_key: str, title: str) -> None:
        """Counts of another view are wanted: results of the previous one are dropped from now on."""
        self.view_key, self.title = view_key, title

    def load(self, experiment_ids: list[str]) -> None:
        """Read the counts of the view's experiments (the line keeps the last ones until they come)."""
        if self.view_key is not None:
            self.read_overview(self.view_key, experiment_ids)

    @work(thread=True, exclusive=True, group="overview", exit_on_error=False)
    def read_overview(self, view_key: str, experiment_ids: list[str]) -> None:
        """Counts for the overview line."""
        overview = self.client.experiment_overview
        post_result(self, lambda: self.Loaded(view_key, overview(experiment_ids, self.clock())))

    def on_overview_line_loaded(self, message: Loaded) -> None:
        """Draw the counts, unless another view was chosen since."""
        if message.view_key != self.view_key:
            return
        self.overview = message.overview
        self.redraw()

    def set_alert_count(self, count: int) -> None:
        """How many shown RUNNING runs have an alert (shown as a badge)."""
        self.alert_count = count
        self.redraw()

    def redraw(self) -> None:
        """Draw the line again (relative times move on)."""
        overview = self.overview
        if overview is None or self.view_key is None:
            return
        parts = [
            f"[b]{self.title}[/b]",
            formatting.plural(overview.total_runs, "run", "+" if overview.capped else ""),
        ]
        if overview.running:
            parts.append(f"[b]{overview.running} running[/b]")
        if self.alert_count:
            parts.append(f"[b $error]⚠ {self.alert_count} with alerts (w)[/]")
        if overview.lost:
            parts.append(f"{overview.lost} lost")
        if overview.failed:
            parts.append(f"{overview.failed} failed")
        if overview.last_activity:
            parts.append("last activity " + formatting.relative_time(overview.last_activity, self.clock()))
        users = list(overview.runs_per_user.items())
        if users:
            shown = ", ".join(f"{user} {count}" for user, count in users[:3])
            parts.append(shown + (f" +{len(users) - 3} users" if len(users) > 3 else ""))
        self.update(" · ".join(parts))

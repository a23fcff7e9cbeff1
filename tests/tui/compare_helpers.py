"""Shared set-up of the compare tests, screenshots and benchmark: a host app that pushes CompareScreen."""

from __future__ import annotations

from collections.abc import Sequence

from helpers import APP_CSS, NOW_MS
from runyard import TrackingClient
from runyard.tui.screens.compare import CompareScreen
from textual.app import App


class CompareHostApp(App[None]):
    """A bare app that opens the compare screen on the given runs (until the run table wires `c`)."""

    CSS_PATH = APP_CSS

    def __init__(self, client: TrackingClient, run_ids: Sequence[str], initial_view: str = "tables") -> None:
        super().__init__()
        self.client = client
        self.run_ids = list(run_ids)
        self.initial_view = initial_view

    def on_mount(self) -> None:
        """Open the compare screen at once."""
        self.push_screen(
            CompareScreen(self.client, self.run_ids, clock=lambda: NOW_MS, initial_view=self.initial_view)
        )

    @property
    def compare(self) -> CompareScreen:
        """The compare screen."""
        screen = self.screen
        assert isinstance(screen, CompareScreen)
        return screen


def demo_sweep_ids(client: TrackingClient, limit: int = 100) -> list[str]:
    """Run ids of the /vision/resnet sweep children of a demo store (by start time)."""
    experiment = client.get_experiment_by_name("/vision/resnet")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], max_results=1000, order_by=["attributes.start_time ASC"]
    )
    return [run.info.run_id for run in runs if run.info.parent_run_id][:limit]

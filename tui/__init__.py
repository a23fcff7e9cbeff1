"""runyard.tui: the Textual app for browsing and searching runs (`runyard`, `runyard ui`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runyard import TrackingClient

__all__ = ["launch"]


def launch(
    tracking_uri: str,
    exit_after_first_render: bool = False,
    watch: tuple[list[str], tuple[str, ...]] | None = None,
    client: TrackingClient | None = None,
) -> int:
    """Open the TUI on a store (exit_after_first_render: quit once the first run table is drawn).

    watch: (experiment ids, metric keys) opens the watch screen of those experiments' RUNNING runs.
    client: a client of that store already opened (its connection to a server is reused).

    Returns the exit status: 1 after a crash, whose traceback is saved to a file the message names."""
    from runyard import TrackingClient as Client

    from .app import RunyardApp
    from .crash import run_and_report
    from .settings import Settings

    if client is None:
        client = Client(tracking_uri, must_exist=True)
    settings = Settings.load(client.tracking_uri)
    app = RunyardApp(
        client=client, settings=settings, exit_after_first_render=exit_after_first_render, watch=watch
    )
    return run_and_report(app)

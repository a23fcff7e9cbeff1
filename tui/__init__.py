"""runyard.tui: the Textual app for browsing and searching runs (`runyard`, `runyard ui`)."""

from __future__ import annotations

__all__ = ["launch"]


def launch(tracking_uri: str, exit_after_first_render: bool = False) -> None:
    """Open the TUI on a store; with exit_after_first_render, quit once the first run table is drawn."""
    from runyard import TrackingClient

    from .app import RunyardApp
    from .settings import Settings

    client = TrackingClient(tracking_uri, must_exist=True)
    settings = Settings.load(client.tracking_uri)
    RunyardApp(client=client, settings=settings, exit_after_first_render=exit_after_first_render).run()

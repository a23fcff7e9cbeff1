"""runyard.tui: the Textual app for browsing and searching runs (`runyard`, `runyard ui`)."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["launch"]


def _open_store(client: Any) -> None:
    try:
        client.store  # noqa: B018 - the first access opens the store
    except Exception:  # noqa: BLE001 - the app shows store errors itself, from its first query
        pass


def launch(tracking_uri: str, exit_after_first_render: bool = False) -> None:
    """Open the TUI on a store; with exit_after_first_render, quit once the first run table is drawn."""
    from runyard import TrackingClient

    from .app import RunyardApp
    from .settings import Settings

    client = TrackingClient(tracking_uri, must_exist=True)
    # Open the store (SQLAlchemy import, engine, schema check) while Textual starts up.
    threading.Thread(target=_open_store, args=(client,), daemon=True).start()
    settings = Settings.load(client.tracking_uri)
    RunyardApp(client=client, settings=settings, exit_after_first_render=exit_after_first_render).run()

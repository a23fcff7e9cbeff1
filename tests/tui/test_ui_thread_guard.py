"""The guard that fails a test when TUI code calls the store on the UI thread catches it, and only it."""

from __future__ import annotations

import threading
from pathlib import Path

from runyard import TrackingClient
from ui_thread_guard import TUI_DIR

Store = tuple[TrackingClient, dict[str, str]]


def call_as_tui_code(client: TrackingClient, run_id: str) -> None:
    """Run a store call from code whose file lies under runyard/tui (as a screen's handler would)."""
    code = compile("client.get_run(run_id)", str(Path(TUI_DIR) / "screens" / "example.py"), "exec")
    exec(code, {"client": client, "run_id": run_id})


def test_a_store_call_from_tui_code_on_the_ui_thread_is_recorded(
    store: Store, ui_thread_store_calls: list[str]
) -> None:
    client, ids = store
    calls = ui_thread_store_calls
    call_as_tui_code(client, ids["tuned"])
    assert calls == ["TrackingClient.get_run ran on the UI thread (screens/example.py:1 <module>)"]
    calls.clear()  # the guard worked; the test itself passes


def test_calls_from_workers_and_from_the_test_itself_are_allowed(
    store: Store, ui_thread_store_calls: list[str]
) -> None:
    client, ids = store
    calls = ui_thread_store_calls
    client.get_run(ids["tuned"])  # the test's own call, not the app's
    worker = threading.Thread(target=call_as_tui_code, args=(client, ids["tuned"]))
    worker.start()
    worker.join()
    assert calls == []

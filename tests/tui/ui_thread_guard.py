"""Records every TrackingClient call that TUI code makes on the UI thread (store calls belong in workers)."""

from __future__ import annotations

import functools
import inspect
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import runyard.tui
from runyard import TrackingClient

TUI_DIR = str(Path(runyard.tui.__file__).resolve().parent)


def guard_store_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wrap TrackingClient's public methods for one test; the returned list fills with UI-thread calls."""
    calls: list[str] = []
    for name, member in vars(TrackingClient).items():
        if not name.startswith("_") and inspect.isfunction(member):
            monkeypatch.setattr(TrackingClient, name, _guarded(member, name, calls))
    return calls


def _guarded(method: Callable[..., Any], name: str, calls: list[str]) -> Callable[..., Any]:
    """The method, noting when code under runyard/tui calls it on the main (UI) thread."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            frame = sys._getframe(1)
            while frame is not None:
                filename = frame.f_code.co_filename
                if filename.startswith(TUI_DIR):
                    where = f"{Path(filename).relative_to(TUI_DIR)}:{frame.f_lineno} {frame.f_code.co_name}"
                    calls.append(f"TrackingClient.{name} ran on the UI thread ({where})")
                    break
                frame = frame.f_back  # type: ignore[assignment]
        return method(*args, **kwargs)

    return wrapper

"""TUI test fixtures: a seeded store with a fixed clock, and a guard against store calls on the UI thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import build_store
from runyard import TrackingClient
from ui_thread_guard import guard_store_calls


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The seeded store, built once per session; tests get a copy."""
    directory = tmp_path_factory.mktemp("template")
    client = TrackingClient(
        f"sqlite:///{directory / 'runyard.db'}", artifact_root=str(directory / "artifacts")
    )
    return directory / "runyard.db", build_store(client)


@pytest.fixture
def store(
    tmp_path: Path, store_template: tuple[Path, dict[str, str]]
) -> tuple[TrackingClient, dict[str, str]]:
    """A private copy of the seeded SQLite store and the ids of what it holds."""
    source_path, ids = store_template
    target = tmp_path / "runyard.db"
    with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    client = TrackingClient(f"sqlite:///{target}", artifact_root=str(tmp_path / "artifacts"))
    return client, dict(ids)


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (anyio's pytest plugin runs the async tests)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def ui_thread_store_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test when TUI code calls the store on the UI thread: every store call belongs in a worker."""
    calls = guard_store_calls(monkeypatch)
    yield calls
    if calls:
        pytest.fail("store calls on the UI thread:\n" + "\n".join(dict.fromkeys(calls)), pytrace=False)

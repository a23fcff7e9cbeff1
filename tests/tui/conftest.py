"""TUI test fixtures: a small seeded store with a fixed clock, and an app factory on it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import build_store
from runyard import TrackingClient


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

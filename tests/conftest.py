"""Shared fixtures: a fresh store per test on SQLite, and on PostgreSQL when RUNYARD_TEST_POSTGRES_URL is set.

PostgreSQL: the session creates its own database (runyard_test_<pid>_<random>) and drops it at the
end; each test gets its own schema in it (via the connection's search_path).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import POSTGRES_ENV, backend_names, make_postgres_uri


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str | None]:
    """A database created for this test session on the server of RUNYARD_TEST_POSTGRES_URL; dropped after."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        yield None
        return
    import psycopg

    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"runyard_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = plain.rpartition("/")
    try:
        yield f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    finally:
        from runyard.store import db as runyard_db

        for database in list(runyard_db._databases.values()):
            database.dispose()
        runyard_db._databases.clear()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=backend_names())
def tracking_uri(request: pytest.FixtureRequest, tmp_path: Path, postgres_database_url: str | None) -> str:
    """A fresh, empty store URI for one test: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runyard.db'}"
    assert postgres_database_url is not None
    return make_postgres_uri(postgres_database_url)


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    """A fresh SQLite store URI (for tests that are about SQLite itself)."""
    return f"sqlite:///{tmp_path / 'runyard.db'}"


@pytest.fixture
def client(tracking_uri: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A TrackingClient on a fresh store with artifacts under tmp_path."""
    from runyard import TrackingClient

    return TrackingClient(tracking_uri, artifact_root=str(tmp_path / "artifacts"))


@pytest.fixture(autouse=True)
def _isolated_fluent_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts with no active run, no active experiment, artifacts and outboxes under tmp_path."""
    from runyard.config import choose_tracking_uri
    from runyard.tracking import fluent

    monkeypatch.setenv("RUNYARD_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("RUNYARD_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("RUNYARD_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield
    for run in list(fluent._run_stack):
        try:
            fluent._end_specific_run(run, "FINISHED")
        except Exception:  # noqa: BLE001 - cleanup of a store the test may have broken
            pass
    fluent._run_stack.clear()
    fluent._active_experiment_id = None
    choose_tracking_uri(None)
    # Close what the test opened: PostgreSQL allows ~100 connections, and every test's store would
    # otherwise keep its pooled connections (and a writer thread) until the session ends.
    from runyard.store import db as runyard_db

    for writer in list(fluent._writers.values()):
        writer.close()
    fluent._writers.clear()
    fluent._clients.clear()
    for database in list(runyard_db._databases.values()):
        database.dispose()

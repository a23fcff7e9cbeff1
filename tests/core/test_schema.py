"""Schema creation and versioning; a newer store is refused untouched; passwords never printed."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
import runyard
from runyard import SchemaVersionError, StoreError, TrackingClient
from runyard.config import mask_uri
from runyard.store.db import Database
from runyard.store.schema import CURRENT_SCHEMA_VERSION, upgrade


def _fresh_database(uri: str) -> Database:
    """A Database object of its own (not the per-process shared one), as a new process would have."""
    return Database(uri)


def _set_version(uri: str, version: int) -> None:
    database = _fresh_database(uri)
    try:
        from sqlalchemy import text

        with database.connect(write=True) as conn:
            conn.execute(text("UPDATE schema_version SET version = :v WHERE id = 1"), {"v": version})
    finally:
        database.dispose()


def _read_version(uri: str) -> list[tuple[int, int]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text("SELECT id, version FROM schema_version"))]
    finally:
        engine.dispose()


def _fingerprint(path: Path) -> tuple[str, int, int]:
    data = path.read_bytes()
    stat = path.stat()
    return hashlib.sha256(data).hexdigest(), stat.st_mtime_ns, stat.st_size


def test_new_store_gets_schema_version(tracking_uri: str) -> None:
    TrackingClient(tracking_uri).create_experiment("x")
    assert _read_version(tracking_uri) == [(1, CURRENT_SCHEMA_VERSION)]
    assert CURRENT_SCHEMA_VERSION == 3


def test_indexes_for_the_tui_queries_exist(tracking_uri: str) -> None:
    from sqlalchemy import create_engine, inspect

    TrackingClient(tracking_uri).create_experiment("x")
    engine = create_engine(tracking_uri)
    try:
        inspector = inspect(engine)
        runs = {index["name"]: index["column_names"] for index in inspector.get_indexes("runs")}
        assert runs["ix_runs_experiment_stage_start"] == ["experiment_id", "lifecycle_stage", "start_time"]
        summaries = {
            index["name"]: index["column_names"] for index in inspector.get_indexes("metric_summaries")
        }
        assert summaries["ix_metric_summaries_key_latest"][0] == "key"
        params = [index["column_names"][0] for index in inspector.get_indexes("params")]
        assert "key" in params
    finally:
        engine.dispose()


def test_newer_store_is_refused(tracking_uri: str) -> None:
    TrackingClient(tracking_uri).create_experiment("x")
    _set_version(tracking_uri, 99)
    database = _fresh_database(tracking_uri)
    try:
        with pytest.raises(SchemaVersionError, match="newer runyard") as caught:
            with database.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        assert "Upgrade runyard" in str(caught.value)
        assert "99" in str(caught.value)
        with pytest.raises(SchemaVersionError):  # every later call too, and `db upgrade` as well
            upgrade(database)
    finally:
        database.dispose()
    assert _read_version(tracking_uri) == [(1, 99)]


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_newer_sqlite_store_is_not_modified(tmp_path: Path, journal_mode: str) -> None:
    # Regression ("delete"): opening switched the file to WAL before reading the version, which
    # rewrote the header of a store this runyard must not touch.
    path = tmp_path / "newer.db"
    uri = f"sqlite:///{path}"
    client = TrackingClient(uri, artifact_root=str(tmp_path / "a"))
    client.create_run(client.create_experiment("x"))
    client.store.db.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA journal_mode = {journal_mode}")
        connection.execute("UPDATE schema_version SET version = 99")
    connection.close()
    before = _fingerprint(path)
    listing_before = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("newer.db"))
    database = _fresh_database(uri)
    for _ in range(2):
        with pytest.raises(SchemaVersionError, match="Upgrade runyard"):
            with database.connect(write=True) as conn:
                conn.exec_driver_sql("DELETE FROM runs")
    database.dispose()
    assert _fingerprint(path) == before
    if journal_mode == "delete":
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("newer.db")) == listing_before
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == journal_mode
    connection.close()


def test_older_store_asks_for_db_upgrade(sqlite_uri: str) -> None:
    TrackingClient(sqlite_uri).create_experiment("x")
    _set_version(sqlite_uri, 0)
    database = _fresh_database(sqlite_uri)
    try:
        with pytest.raises(SchemaVersionError, match="runyard db upgrade"):
            with database.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
    finally:
        database.dispose()


def test_upgrade_of_current_store_is_a_no_op(sqlite_uri: str) -> None:
    TrackingClient(sqlite_uri).create_experiment("x")
    database = _fresh_database(sqlite_uri)
    try:
        assert upgrade(database) == (CURRENT_SCHEMA_VERSION, CURRENT_SCHEMA_VERSION)
    finally:
        database.dispose()


def test_new_sqlite_store_is_in_wal_mode(sqlite_uri: str) -> None:
    TrackingClient(sqlite_uri).create_experiment("x")
    with sqlite3.connect(sqlite_uri[len("sqlite:///") :]) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_existing_plain_sqlite_store_is_switched_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    uri = f"sqlite:///{path}"
    TrackingClient(uri).create_experiment("x")
    from runyard.store import db as runyard_db

    runyard_db.get_database(uri).dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = delete")
    connection.close()
    database = _fresh_database(uri)
    with database.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    database.dispose()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_password_is_masked_when_server_unreachable() -> None:
    pytest.importorskip("psycopg")
    uri = "postgresql+psycopg://alice:s3cr3t-pw@127.0.0.1:1/runs"
    for call in (
        lambda: TrackingClient(uri).get_experiment_by_name("x"),
        lambda: TrackingClient(uri).create_experiment("x"),
        lambda: TrackingClient(uri, must_exist=True).list_experiments(),
    ):
        with pytest.raises(StoreError) as caught:
            call()
        message = str(caught.value)
        assert "s3cr3t-pw" not in message
        assert "alice:***@127.0.0.1:1" in message
        assert "\n" not in message  # one line


def test_fluent_api_masks_password_too(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psycopg")
    runyard.set_tracking_uri("postgresql://bob:hunter2@127.0.0.1:1/db")
    with pytest.raises(StoreError) as caught:
        runyard.start_run()
    assert "hunter2" not in str(caught.value) and "bob:***@" in str(caught.value)
    assert runyard.active_run() is None


def test_mask_uri() -> None:
    assert mask_uri("postgresql+psycopg://u:p@h:5432/d") == "postgresql+psycopg://u:***@h:5432/d"
    assert mask_uri("see postgresql://u:p%40ss@h/d and sqlite:///x.db") == (
        "see postgresql://u:***@h/d and sqlite:///x.db"
    )
    assert mask_uri("postgresql://u@h/d") == "postgresql://u@h/d"
    assert mask_uri("sqlite:////tmp/a:b@c.db") == "sqlite:////tmp/a:b@c.db"
    # Regression: libpq also takes the password as a query parameter; it was printed whole.
    assert mask_uri("postgresql://u@h/d?sslmode=require&password=pw1&x=1") == (
        "postgresql://u@h/d?sslmode=require&password=***&x=1"
    )
    assert mask_uri("postgresql://h/d?PASSWORD=pw1") == "postgresql://h/d?PASSWORD=***"


def test_must_exist_never_creates_a_store(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="No runyard store"):
        TrackingClient(f"sqlite:///{path}", must_exist=True).list_experiments()
    assert not path.exists()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE unrelated (x)")
    connection.close()
    before = _fingerprint(other)
    # Regression: the check went through the schema-creating engine and turned the file into a store.
    with pytest.raises(StoreError, match="not a runyard store"):
        TrackingClient(f"sqlite:///{other}", must_exist=True).list_experiments()
    assert _fingerprint(other) == before


def test_unsupported_uri_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="Unsupported tracking URI"):
        TrackingClient("mysql://u:pw@h/d").list_experiments()


def test_foreign_store_with_clashing_tables_is_refused_untouched(tracking_uri: str, tmp_path: Path) -> None:
    # Regression: pointed at an MLflow store (tables "experiments", "runs"), runyard added its own
    # tables to it, then failed on the foreign columns.
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(tracking_uri)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(text("CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE unrelated (x INTEGER)"))
    try:
        with pytest.raises(StoreError, match="not a runyard store") as caught:
            TrackingClient(tracking_uri).create_experiment("x")
        assert "experiments, runs" in str(caught.value)
        assert sorted(inspect(engine).get_table_names()) == ["experiments", "runs", "unrelated"]
    finally:
        engine.dispose()


def test_unrelated_tables_do_not_prevent_a_store(tracking_uri: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(tracking_uri)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (x INTEGER)"))
    engine.dispose()
    client = TrackingClient(tracking_uri)
    assert client.get_experiment(client.create_experiment("x")).name == "x"

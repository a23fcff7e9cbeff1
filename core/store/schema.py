"""Schema creation and versioning: race-free creation on first use, numbered migrations, `db upgrade`.

We chose small numbered migrations in plain SQLAlchemy over alembic: the store is often one SQLite
file next to a training script, alembic costs import time on every process start, and each step
here is a function `migrate_N(conn)` from version N to N+1, run in one transaction under the same
lock that guards creation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runyard.exceptions import SchemaVersionError

if TYPE_CHECKING:
    from runyard.store.db import Database
    from sqlalchemy.engine import Connection

CURRENT_SCHEMA_VERSION = 3


def _migrate_1(conn: Connection) -> None:
    """Version 2: dataset inputs (datasets, inputs, input_tags) and logged models with their links."""
    from runyard.store import models
    from sqlmodel import SQLModel

    tables = [model.__table__ for model in models.SCHEMA_2_TABLES]
    SQLModel.metadata.create_all(conn, tables=tables)


def _migrate_2(conn: Connection) -> None:
    """Version 3: console output, batch ids of replayed writes, store settings, users and permissions
    of the server, the last points of each (run, key) beside its summary, an index covering the
    experiment overview, and (SQLite) params, tags and summaries clustered on (run, key)."""
    from runyard.store import models
    from sqlalchemy import text
    from sqlmodel import SQLModel

    conn.execute(text("ALTER TABLE metric_summaries ADD COLUMN recent " + _binary_type(conn)))
    tables = [model.__table__ for model in models.SCHEMA_3_TABLES]
    SQLModel.metadata.create_all(conn, tables=tables)
    for index in models.RunRow.__table__.indexes:
        if index.name == "ix_runs_overview":
            index.create(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        for model in (models.ParamRow, models.TagRow, models.MetricSummaryRow):
            _rebuild_clustered(conn, model.__table__)


def _rebuild_clustered(conn: Connection, table: Any) -> None:
    """SQLite: copy a table into its WITHOUT ROWID form (same name, columns and indexes)."""
    from sqlalchemy import text

    name = table.name
    for index in table.indexes:
        conn.execute(text(f'DROP INDEX IF EXISTS "{index.name}"'))
    conn.execute(text(f'ALTER TABLE "{name}" RENAME TO "{name}_rowid"'))
    table.create(conn)
    columns = ", ".join(f'"{column.name}"' for column in table.columns)
    conn.execute(text(f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM "{name}_rowid"'))
    conn.execute(text(f'DROP TABLE "{name}_rowid"'))


def _binary_type(conn: Connection) -> str:
    return "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"


# MIGRATIONS[n] upgrades a store from version n to n + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_1, 2: _migrate_2}

# Any constant will do: it only has to be the same in every runyard process.
_PG_SCHEMA_LOCK_KEY = 0x52554E59  # "RUNY"


def _read_version(conn: Connection) -> int | None:
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("schema_version"):
        return None
    row = conn.execute(text("SELECT version FROM schema_version WHERE id = 1")).first()
    return int(row[0]) if row else None


def _check(version: int, database: Database) -> None:
    if version > CURRENT_SCHEMA_VERSION:
        raise SchemaVersionError(
            f"The store {database.display_uri} was written by a newer runyard (schema {version}; this "
            f"runyard knows up to {CURRENT_SCHEMA_VERSION}). Upgrade runyard: pip install -U runyard."
        )
    if version < CURRENT_SCHEMA_VERSION:
        raise SchemaVersionError(
            f"The store {database.display_uri} has schema {version}, this runyard needs "
            f"{CURRENT_SCHEMA_VERSION}: run `runyard db upgrade --store {database.display_uri}`."
        )


def _locked_transaction(database: Database, conn: Connection) -> None:
    """Take the store-wide schema lock inside the current transaction."""
    from sqlalchemy import text

    if not database.is_sqlite:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK_KEY})


def ensure_schema(database: Database) -> None:
    """Create the schema if the store is new; refuse a store that is older or newer than this code."""
    engine = database._engine
    assert engine is not None
    with engine.connect() as conn:
        version = _read_version(conn)
        conn.rollback()
    if version is not None:
        _check(version, database)
        _enable_wal(database)
        return
    from runyard.store import models
    from sqlmodel import SQLModel

    write_engine = engine.execution_options(runyard_write=True)  # BEGIN IMMEDIATE on SQLite
    with write_engine.begin() as conn:
        _locked_transaction(database, conn)
        version = _read_version(conn)  # another process may have won the race
        if version is None:
            _refuse_foreign_tables(database, conn, [m.__table__.name for m in models.ALL_TABLES])
            SQLModel.metadata.create_all(conn, tables=[m.__table__ for m in models.ALL_TABLES])
            version_table = models.SchemaVersionRow.__table__
            conn.execute(version_table.insert().values(id=1, version=CURRENT_SCHEMA_VERSION))
    if version is not None:
        _check(version, database)
    _enable_wal(database)


def _refuse_foreign_tables(database: Database, conn: Connection, names: list[str]) -> None:
    """No schema_version but tables with our names (an MLflow store, say): never write into it."""
    from runyard.exceptions import StoreError
    from sqlalchemy import inspect

    clashes = sorted(set(inspect(conn).get_table_names()) & set(names))
    if clashes:
        raise StoreError(
            f"{database.display_uri} is not a runyard store: it already has tables named "
            f"{', '.join(clashes)} but no runyard schema_version. Point runyard at a new file or an "
            "empty database (or schema)."
        )


def _enable_wal(database: Database) -> None:
    """Put a SQLite file store in WAL mode (persistent in the file; a no-op when it already is)."""
    from runyard.config import sqlite_file_path

    engine = database._engine
    if not database.is_sqlite or engine is None or sqlite_file_path(database.uri) is None:
        return
    raw = engine.raw_connection()  # driver autocommit: the pragma must run outside a transaction
    try:
        cursor = raw.cursor()
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()
    finally:
        raw.close()


def upgrade(database: Database) -> tuple[int, int]:
    """Migrate the store to the current schema; returns (old version, new version)."""
    with database.translated_errors():
        return _upgrade(database)


def _upgrade(database: Database) -> tuple[int, int]:
    from sqlalchemy import text

    engine = database._create_engine() if database._engine is None else database._engine
    database._engine = engine
    database._write_engine = engine.execution_options(runyard_write=True)
    with database._write_engine.begin() as conn:
        _locked_transaction(database, conn)
        old_version = _read_version(conn)
        if old_version is None:
            raise SchemaVersionError(f"{database.display_uri} has no runyard schema to upgrade.")
        if old_version > CURRENT_SCHEMA_VERSION:
            _check(old_version, database)
        version = old_version
        while version < CURRENT_SCHEMA_VERSION:
            MIGRATIONS[version](conn)
            version += 1
        conn.execute(text("UPDATE schema_version SET version = :v WHERE id = 1"), {"v": version})
    database._schema_checked = True
    return old_version, version

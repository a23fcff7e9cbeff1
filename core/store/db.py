"""Engine per tracking URI, created lazily; session and connection scopes; schema check on first use.

SQLAlchemy and SQLModel are imported here, inside functions, so that `import runyard` stays cheap.
SQLite runs in WAL mode with a busy timeout; write transactions start with BEGIN IMMEDIATE so that
concurrent writers queue on the lock instead of failing with "database is locked". Every use of a
connection passes the fork gate (fork_gate.py), so that no thread is inside the database when the
process forks.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from runyard.config import mask_uri, sqlite_busy_timeout_ms, sqlite_file_path
from runyard.exceptions import StoreError
from runyard.store.fork_gate import GATE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def get_database(uri: str, must_exist: bool = False) -> Database:
    """The shared Database of a tracking URI (one engine per URI per process)."""
    with _databases_lock:
        database = _databases.get(uri)
        if database is None:
            database = Database(uri)
            _databases[uri] = database
    if must_exist:
        database.check_exists()
    return database


def _reset_after_fork() -> None:
    """In a forked child, drop inherited pooled connections (never share a connection across processes)."""
    global _databases_lock
    _databases_lock = threading.Lock()
    for database in _databases.values():
        database.forget_connections()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class Database:
    """A tracking store's database: lazy engine, transaction scopes, dialect facts."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._engine: Engine | None = None
        self._write_engine: Engine | None = None
        self._lock = threading.Lock()
        self._schema_checked = False

    @property
    def display_uri(self) -> str:
        """The URI with any password masked, for messages."""
        return mask_uri(self.uri)

    @property
    def is_sqlite(self) -> bool:
        """True for a SQLite store."""
        return self.uri.startswith("sqlite")

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return "sqlite" if self.is_sqlite else "postgresql"

    @property
    def paramstyle(self) -> str:
        """The DBAPI placeholder of this backend, for the executemany hot path."""
        return "?" if self.is_sqlite else "%s"

    def check_exists(self) -> None:
        """Raise StoreError unless the store already exists and can be reached (never creates one)."""
        self._refuse_missing_file()
        try:
            # The bare engine: going through self.engine would create the schema in a foreign file.
            with GATE.transaction(), self._bare_engine().connect() as conn:
                from sqlalchemy import inspect

                if not inspect(conn).has_table("runs"):
                    raise StoreError(f"{self.display_uri} is not a runyard store (it has no runs table).")
        except StoreError:
            raise
        except Exception as error:  # noqa: BLE001 - any driver error becomes a one-line message
            raise StoreError(f"Cannot open store {self.display_uri}: {_first_line(error)}") from None

    def is_missing(self) -> bool:
        """True for a SQLite store whose file does not exist yet (its first write creates it)."""
        path = sqlite_file_path(self.uri)
        return path is not None and self.is_sqlite and not path.is_file()

    def _refuse_missing_file(self) -> None:
        """StoreError for a SQLite store whose file does not exist: reading must never create one."""
        if self.is_missing():
            path = sqlite_file_path(self.uri)
            raise StoreError(
                f"No runyard store at {path}: create one with `runyard demo` or by logging a run "
                "(runyard.start_run, or TrackingClient.create_experiment)."
            )

    def create_if_missing(self) -> None:
        """Create the store (file and schema) unless it exists: for callers about to write."""
        with self.translated_errors():
            self.engine  # noqa: B018 - creates engine and schema

    @property
    def engine(self) -> Engine:
        """The engine, created on first use; the schema is checked (and created) then too."""
        engine = self._bare_engine()
        if not self._schema_checked:
            from runyard.store.schema import ensure_schema

            with self._lock:
                if not self._schema_checked:
                    ensure_schema(self)
                    self._schema_checked = True
        return engine

    def _bare_engine(self) -> Engine:
        """The engine without the schema check (to look at a store before touching it)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._create_engine()
                    self._write_engine = self._engine.execution_options(runyard_write=True)
        return self._engine

    def forget_connections(self) -> None:
        """Drop pooled connections without closing them (after fork: they belong to the parent)."""
        self._lock = threading.Lock()
        if self._engine is not None:
            self._engine.dispose(close=False)

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self._engine is not None:
            with GATE.transaction():
                self._engine.dispose()

    def _create_engine(self) -> Engine:
        try:
            from sqlalchemy import create_engine, event
        except ImportError as error:  # pragma: no cover - a broken install
            raise StoreError(f"SQLAlchemy is not installed: {error}") from None
        if self.is_sqlite:
            busy_timeout_ms = sqlite_busy_timeout_ms()
            path = sqlite_file_path(self.uri)
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    raise StoreError(
                        f"Cannot create the store {path}: {error.strerror or error} ({path.parent}). "
                        "Choose a writable location with --store or RUNYARD_TRACKING_URI."
                    ) from None
            engine = create_engine(
                self.uri,
                connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            )

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                # Driver autocommit: we issue BEGIN ourselves (see _on_begin), as SQLAlchemy recommends.
                dbapi_connection.isolation_level = None
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("PRAGMA synchronous = NORMAL")
                # WAL is switched on by schema.ensure_schema once the store's version is known to be
                # ours: the journal mode lives in the file header, and a newer store is never modified.
                cursor.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                immediate = conn.get_execution_options().get("runyard_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        if self.uri.startswith("postgresql"):
            try:
                import psycopg  # noqa: F401
            except ImportError:
                from runyard.exceptions import MissingExtra

                raise MissingExtra(
                    "PostgreSQL stores need psycopg: pip install 'runyard[postgres]'"
                ) from None
            return create_engine(self.uri, pool_pre_ping=True)
        if self.uri.lower().startswith(("http://", "https://")):
            raise StoreError(
                f"{self.display_uri} is a tracking server: this operation needs the database itself "
                "(run it where the database is, with its sqlite:/// or postgresql:// URL)."
            )
        raise StoreError(
            f"Unsupported tracking URI {self.display_uri}: use sqlite:///PATH or postgresql+psycopg://..."
        )

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[Connection]:
        """A Core connection in a transaction: committed on success, rolled back on error, closed."""
        try:
            if not write and not self._schema_checked:
                self._refuse_missing_file()
            with GATE.transaction():
                engine = self.engine if not write else self._writer()
                with engine.begin() as conn:
                    yield conn
        except Exception as error:
            translated = _translate(error, self)
            if translated is error:
                raise
            raise translated from error

    @contextmanager
    def translated_errors(self) -> Iterator[None]:
        """Turn driver failures inside the block into the same StoreError that connect() raises."""
        try:
            yield
        except Exception as error:
            translated = _translate(error, self)
            if translated is error:
                raise
            raise translated from error

    def _writer(self) -> Engine:
        self.engine  # noqa: B018 - creates engine and checks schema
        assert self._write_engine is not None
        return self._write_engine


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return mask_uri(text[0] if text else type(error).__name__)


def _translate(error: Exception, database: Database) -> Exception:
    """Turn driver connection failures into a StoreError with a masked URI; leave others alone."""
    from runyard.exceptions import RunyardError

    if isinstance(error, RunyardError):
        return error
    try:
        from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError
    except ImportError:  # pragma: no cover
        return error
    if isinstance(error, OperationalError | InterfaceError):
        return StoreError(f"Store {database.display_uri} failed: {_first_line(error)}")
    if type(error) is DatabaseError:  # not a constraint or data error: the file is no SQLite database
        return StoreError(f"Cannot open store {database.display_uri}: {_first_line(error)}")
    return error


def is_transient_error(error: BaseException) -> bool:
    """A lock or serialization conflict of the database (worth retrying), not a refusal of the request."""
    if isinstance(error, StoreError):
        text = str(error).lower()
        return "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError):
        text = str(error.orig).lower()
        return (
            "database is locked" in text
            or "database is busy" in text
            or "could not serialize" in text
            or "deadlock" in text
        )
    return False

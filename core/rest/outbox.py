"""Durable outboxes of logging over HTTP: batches wait on local disk until the server acknowledged them.

One SQLite file per run and writing process, under the user's data directory (RUNYARD_OUTBOX_DIR
overrides it): `<run_id>.<pid>.<random>.sqlite`, so that no two processes ever share a file and
removing an emptied one never races with a writer. A file holds the server's URL (without
credentials), the run id, the writing process (host and pid) and the batches: each a ready-to-send
log-batch request body with its batch id and point count. A batch is written (and committed) before
it is sent and deleted once the server acknowledged it; `runyard sync` replays what is left.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

OUTBOX_DIR_ENV = "RUNYARD_OUTBOX_DIR"
SUFFIX = ".sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id TEXT NOT NULL UNIQUE,
    points INTEGER NOT NULL,
    body BLOB NOT NULL
);
"""


def outbox_dir() -> Path:
    """Where outboxes live: $RUNYARD_OUTBOX_DIR, else `outbox` in the user's data directory."""
    override = os.environ.get(OUTBOX_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("runyard", appauthor=False)) / "outbox"


@dataclass(frozen=True)
class Batch:
    """A spooled log-batch request: its id, how many metric points it carries, and its JSON body."""

    batch_id: str
    points: int
    body: bytes


class Outbox:
    """One outbox file (thread-safe): spool batches, read them back in order, delete acknowledged ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def create(cls, server_url: str, run_id: str, directory: Path | None = None) -> Outbox:
        """A new outbox of this process for a run on a server (server_url must carry no credentials)."""
        folder = directory or outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{run_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}{SUFFIX}"
        outbox = cls(folder / name)
        meta = {
            "server_url": server_url,
            "run_id": run_id,
            "host": socket.gethostname(),
            "pid": str(os.getpid()),
        }
        with outbox._locked() as conn:
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta.items())
        return outbox

    # ------------------------------------------------------------------ the file
    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable across a crash of this process
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """The connection under this outbox's lock; commits on leaving (rolls back on an error)."""
        with self._lock:
            conn = self._connect()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def close(self) -> None:
        """Close the connection (the file stays)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ------------------------------------------------------------------ batches
    def add(self, batches: list[Batch]) -> None:
        """Spool batches durably (one transaction)."""
        with self._locked() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO batches (batch_id, points, body) VALUES (?, ?, ?)",
                [(b.batch_id, b.points, b.body) for b in batches],
            )

    def remove(self, batch_id: str) -> None:
        """Forget an acknowledged batch."""
        with self._locked() as conn:
            conn.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def body(self, batch_id: str) -> bytes | None:
        """The body of a spooled batch (None once it was acknowledged)."""
        with self._locked() as conn:
            row = conn.execute("SELECT body FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def batches(self, after: int = 0, limit: int = 100) -> list[tuple[int, Batch]]:
        """Spooled batches in the order they were written, as (seq, batch), seq > after."""
        with self._locked() as conn:
            rows = conn.execute(
                "SELECT seq, batch_id, points, body FROM batches WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [(int(seq), Batch(str(bid), int(n), bytes(body))) for seq, bid, n, body in rows]

    def pending_points(self) -> int:
        """How many metric points wait in this outbox."""
        with self._locked() as conn:
            return int(conn.execute("SELECT COALESCE(SUM(points), 0) FROM batches").fetchone()[0])

    def pending_batches(self) -> int:
        """How many batches wait in this outbox."""
        with self._locked() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0])

    def meta(self) -> dict[str, str]:
        """server_url, run_id, host and pid of the process that wrote it."""
        with self._locked() as conn:
            return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}

    def remove_if_empty(self) -> bool:
        """Delete the file when no batch waits in it (True when it was deleted)."""
        with self._lock:
            conn = self._connect()
            if conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0]:
                return False
            conn.close()
            self._conn = None
            for path in (self.path, *_sidecars(self.path)):
                path.unlink(missing_ok=True)
            return True

    def owner_alive(self) -> bool:
        """True when the process that writes this outbox still runs on this machine."""
        meta = self.meta()
        if meta.get("host") != socket.gethostname():
            return False
        try:
            pid = int(meta.get("pid", "0"))
        except ValueError:
            return False
        return pid == os.getpid() or _pid_alive(pid)


def _sidecars(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def outbox_paths(run_id: str | None = None, directory: Path | None = None) -> list[Path]:
    """Outbox files on this machine (of one run, or all), oldest first."""
    folder = directory or outbox_dir()
    if not folder.is_dir():
        return []
    pattern = f"{run_id}.*{SUFFIX}" if run_id else f"*{SUFFIX}"
    return sorted(folder.glob(pattern), key=lambda p: (p.stat().st_mtime if p.exists() else 0, p.name))


def iter_outboxes(directory: Path | None = None) -> Iterator[Outbox]:
    """Every outbox on this machine."""
    for path in outbox_paths(None, directory):
        yield Outbox(path)


def pending_points(run_id: str, directory: Path | None = None) -> int:
    """How many metric points of this run wait in outboxes on this machine (0 without any: a glob)."""
    total = 0
    for path in outbox_paths(run_id, directory):
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            continue
        try:
            total += int(conn.execute("SELECT COALESCE(SUM(points), 0) FROM batches").fetchone()[0])
        except sqlite3.Error:  # being created or removed right now
            pass
        finally:
            conn.close()
    return total

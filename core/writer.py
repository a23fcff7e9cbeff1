"""Background batching writer: log_metric appends to a buffer; a thread writes batches.

`log_metric` costs a tuple and a deque append (no database round trip, no lock: `deque.append`
and `deque.popleft` are atomic, so a point appended while the writer drains the buffer is either
taken now or stays for the next batch, never lost). A daemon thread wakes every flush interval
(RUNYARD_FLUSH_INTERVAL, default 1 s), or sooner when the buffer fills, and writes what is
buffered with executemany in one transaction per batch. `flush()`, `end_run()` and interpreter
exit write everything. A crash loses at most the points of the last interval; a failed write keeps
its points buffered (ahead of newer ones) and is retried, and `flush()` raises the error. Points
of a run purged meanwhile (deleted for good) are dropped so that they cannot block the other runs'
points forever; the next `flush()` raises RunNotFound saying so.

The writer is fork-safe: a forked child gets fresh locks, an empty buffer and no thread (the
parent's buffered points stay the parent's), and starts its own thread on first use.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections import deque
from itertools import repeat, starmap
from operator import itemgetter
from typing import TYPE_CHECKING

from .config import HEARTBEAT_INTERVAL_SECONDS, flush_interval_seconds

if TYPE_CHECKING:
    from .store import SqlStore

MAX_BUFFERED_BEFORE_WAKE = 20_000
BATCH_SIZE = 50_000

_run_id_of = itemgetter(0)

# (run_id, key, value, timestamp_ms, step)
BufferedPoint = tuple[str, str, float, int, int]

_writers: weakref.WeakSet[MetricWriter] = weakref.WeakSet()


class MetricWriter:
    """Buffers metric points of one store and writes them in batches from a background thread."""

    def __init__(self, store: SqlStore, flush_interval: float | None = None) -> None:
        self.store = store
        self.flush_interval = flush_interval if flush_interval is not None else flush_interval_seconds()
        self._buffer: deque[BufferedPoint] = deque()
        self._heartbeat_runs: set[str] = set()
        self._last_heartbeat = 0.0
        self._init_process_state()
        _writers.add(self)

    def _init_process_state(self) -> None:
        self._lock = threading.Lock()  # guards starting the thread
        self._write_lock = threading.Lock()  # one writer of batches at a time
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._last_error: BaseException | None = None
        self._dropped: BaseException | None = None  # points of a purged run were dropped
        self._stopping = False

    # -- hot path ---------------------------------------------------------------------------
    def add(self, point: BufferedPoint) -> None:
        """Buffer one point (already validated)."""
        buffer = self._buffer
        buffer.append(point)  # atomic: no lock needed (see the module docstring)
        if self._thread is None:
            self._ensure_thread()
        if len(buffer) >= MAX_BUFFERED_BEFORE_WAKE and not self._wake.is_set():
            self._wake.set()

    def add_many(self, points: list[BufferedPoint]) -> None:
        """Buffer several points at once (already validated: all or nothing)."""
        buffer = self._buffer
        buffer.extend(points)  # atomic for a list argument: no other point lands in between
        if self._thread is None:
            self._ensure_thread()
        if len(buffer) >= MAX_BUFFERED_BEFORE_WAKE and not self._wake.is_set():
            self._wake.set()

    # -- heartbeats --------------------------------------------------------------------------
    def watch_run(self, run_id: str) -> None:
        """Send heartbeats for this run while the process lives."""
        self._heartbeat_runs.add(run_id)
        self._ensure_thread()

    def unwatch_run(self, run_id: str) -> None:
        """Stop heartbeats for this run (it ended)."""
        self._heartbeat_runs.discard(run_id)

    # -- flushing ----------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every buffered point now; raise the error if the store refused them."""
        self._write_pending(raise_errors=True)

    def pending(self) -> int:
        """How many points wait in the buffer."""
        return len(self._buffer)

    def _take(self, limit: int) -> list[BufferedPoint]:
        """Remove and return up to limit of the oldest buffered points."""
        n = min(len(self._buffer), limit)
        return list(starmap(self._buffer.popleft, repeat((), n)))

    def _write_pending(self, raise_errors: bool) -> None:
        with self._write_lock:
            # Only what was buffered when the flush began: a busy logger cannot keep flush() running.
            remaining = len(self._buffer)
            while remaining > 0:
                batch = self._take(min(remaining, BATCH_SIZE))
                remaining -= len(batch)
                try:
                    self._write_batch(batch)
                except BaseException as error:
                    self._buffer.extendleft(reversed(batch))  # keep them, ahead of newer points
                    self._last_error = error
                    if raise_errors:
                        raise
                    return
            self._last_error = None
            dropped, self._dropped = self._dropped, None
            if dropped is not None and raise_errors:
                raise dropped
            self._dropped = dropped  # the next flush() reports it

    def _write_batch(self, batch: list[BufferedPoint]) -> None:
        from .exceptions import RunNotFound
        from .metric_store import write_buffered

        store = self.store
        run_ids = set(map(_run_id_of, batch))
        try:
            run_pks = {run_id: store.run_pk(run_id) for run_id in run_ids}
            with store.db.connect(write=True) as conn:
                write_buffered(store.db, conn, batch, run_pks)
            return
        except Exception as error:  # noqa: BLE001 - re-raised below unless a run was purged meanwhile
            gone = run_ids - self._existing_runs(run_ids)
            if not gone:
                raise
            if not isinstance(error, RunNotFound):  # the FOREIGN KEY failure: forget their cached keys
                for run_id in gone:
                    store._run_pks.pop(run_id, None)
        # A run was purged (deleted for good) while its points were buffered: drop those points,
        # write the others (of other runs), and let the next flush() say so.
        kept = [point for point in batch if point[0] not in gone]
        lost = len(batch) - len(kept)
        names = ", ".join(sorted(gone))
        self._dropped = RunNotFound(
            f"Run {names} was deleted for good while {lost} of its metric points waited to be written: "
            "they were dropped (the other runs' points were written)."
        )
        if kept:
            self._write_batch(kept)

    def _existing_runs(self, run_ids: set[str]) -> set[str]:
        """Which of these runs still exist (a database failure leaves them all presumed alive)."""
        from sqlalchemy import bindparam, text

        try:
            with self.store.db.connect() as conn:
                rows = conn.execute(
                    text("SELECT run_id FROM runs WHERE run_id IN :ids").bindparams(
                        bindparam("ids", expanding=True)
                    ),
                    {"ids": sorted(run_ids)},
                )
                return {row[0] for row in rows}
        except Exception:  # noqa: BLE001 - cannot tell: keep every point and retry later
            return set(run_ids)

    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():
            self._after_fork_in_child()
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, name="runyard-writer", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._buffer:
                self._write_pending(raise_errors=False)
                if self._last_error is not None:
                    time.sleep(min(self.flush_interval, 1.0))  # back off, keep the points, retry
            self._maybe_heartbeat()

    def _maybe_heartbeat(self) -> None:
        now = time.monotonic()
        if not self._heartbeat_runs or now - self._last_heartbeat < HEARTBEAT_INTERVAL_SECONDS:
            return
        self._last_heartbeat = now
        try:
            self.store.heartbeat(sorted(self._heartbeat_runs))
        except Exception:  # noqa: BLE001 - a missed heartbeat is retried next interval
            pass

    def _after_fork_in_child(self) -> None:
        self._buffer = deque()
        self._heartbeat_runs = set()
        self._init_process_state()

    def close(self) -> None:
        """Write everything and stop the thread (interpreter exit)."""
        if self._pid != os.getpid():
            return
        self._stopping = True
        self._wake.set()
        try:
            self._write_pending(raise_errors=False)
        except Exception:  # noqa: BLE001 - at exit there is nobody left to tell
            pass


def _after_fork_in_child() -> None:
    for writer in list(_writers):
        writer._after_fork_in_child()


def _flush_all_at_exit() -> None:
    for writer in list(_writers):
        writer.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_flush_all_at_exit)

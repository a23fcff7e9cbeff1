"""Background batching writer: log_metric appends to a buffer; a thread writes batches through the store.

`log_metric` costs a tuple, one length comparison and a deque append (no database round trip, no
lock: `deque.append` and `deque.popleft` are atomic, so a point appended while the writer drains the
buffer is either taken now or stays for the next batch, never lost). A daemon thread wakes every
flush interval (RUNYARD_FLUSH_INTERVAL, default 1 s), or sooner when the buffer fills, and hands
what is buffered to the store in batches (`write_metric_points`: executemany, one transaction per
batch). `flush()`, `end_run()` and interpreter exit write everything.

Backpressure: at most max(RUNYARD_MAX_BUFFERED (default 100,000), points committed in the last flush
interval) points wait unwritten. A caller that would go beyond waits for the writer (or writes the
backlog itself when the thread is idle), so memory stays bounded and a crash loses at most that
many points. A failed write keeps its points buffered (ahead of newer ones) and is retried; while
the buffer is full, logging waits for the store to accept them and warns once, and `flush()` raises
the error. Points of a run purged meanwhile (deleted for good) are dropped so that they cannot block
the other runs' points forever; the next `flush()` raises RunNotFound saying so.

`flush()` and `close()` may be called from a signal handler: when the handler interrupted a write
(or a database transaction) of the same thread they return without writing instead of deadlocking;
the interrupted write finishes, or puts its points back for the exit path to write.

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
from collections.abc import Collection, Sequence
from itertools import repeat, starmap
from operator import itemgetter
from typing import Protocol

from runyard.config import HEARTBEAT_INTERVAL_SECONDS, flush_interval_seconds, max_buffered_floor
from runyard.store.fork_gate import fork_wait_seconds, in_transaction
from runyard.tracking.signals import block_in_this_thread, signals_deferred

MAX_BUFFERED_BEFORE_WAKE = 20_000
BATCH_SIZE = 50_000

_run_id_of = itemgetter(0)

# (run_id, key, value, timestamp_ms, step)
BufferedPoint = tuple[str, str, float, int, int]

_writers: weakref.WeakSet[MetricWriter] = weakref.WeakSet()


class PointStore(Protocol):
    """What the writer needs of a store (SqlStore, or runyard.rest.sender's OutboxSender over HTTP).

    A store that sends points on may also offer `wait_acknowledged()`: flush() and close() call it.
    """

    def write_metric_points(self, points: Sequence[BufferedPoint]) -> None:
        """Write points in one transaction (all or nothing); RunNotFound when a run is gone."""

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Which of these runs exist."""

    def heartbeat(self, run_ids: Sequence[str]) -> None:
        """Record that the processes logging these runs are alive."""


class MetricWriter:
    """Buffers metric points of one store and writes them in batches from a background thread."""

    def __init__(
        self, store: PointStore, flush_interval: float | None = None, max_buffered: int | None = None
    ) -> None:
        self.store = store
        self.flush_interval = flush_interval if flush_interval is not None else flush_interval_seconds()
        self.max_buffered_floor = max_buffered if max_buffered is not None else max_buffered_floor()
        # Below _wake_at the hot path does not look at the points in flight: the two together stay
        # within the floor (a batch is at most floor - _wake_at points).
        self._wake_at = min(MAX_BUFFERED_BEFORE_WAKE, max(1, self.max_buffered_floor // 2))
        self._batch_size = min(BATCH_SIZE, max(1, self.max_buffered_floor - self._wake_at))
        self._buffer: deque[BufferedPoint] = deque()
        self._heartbeat_runs: set[str] = set()
        self._last_heartbeat = 0.0
        self._init_process_state()
        _writers.add(self)

    def _init_process_state(self) -> None:
        self._lock = threading.Lock()  # guards starting the thread
        # One writer of batches at a time; reentrant, so that a signal handler that interrupted this
        # thread between two batches can flush (within a batch, _reentered() makes it return instead).
        self._write_lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._last_error: BaseException | None = None
        self._dropped: BaseException | None = None  # points of a purged run were dropped
        self._stopping = False
        self._batch_thread: int | None = None  # the thread with a batch taken and not yet settled
        self._in_flight = 0  # points taken from the buffer whose batch is not committed yet
        # (monotonic time, points) of recent commits: changed only by the holder of _write_lock and read
        # as an atomic copy, so no lock of its own (a signal handler's flush on a thread that held one
        # while the writer thread waited for it deadlocked).
        self._commits: deque[tuple[float, int]] = deque()
        # The hot path's one comparison: 0 sends the first point to _make_room, which starts the thread.
        self._check_at = 0

    # -- hot path ---------------------------------------------------------------------------
    def add(self, point: BufferedPoint) -> None:
        """Buffer one point (already validated); waits while the backlog is at its bound."""
        buffer = self._buffer
        if len(buffer) >= self._check_at:
            self._make_room(1)
        buffer.append(point)  # atomic: no lock needed (see the module docstring)

    def add_many(self, points: list[BufferedPoint]) -> None:
        """Buffer several points at once (already validated: all or nothing)."""
        buffer = self._buffer
        if len(buffer) + len(points) > self._check_at:
            self._make_room(len(points))
        buffer.extend(points)  # atomic for a list argument: no other point lands in between

    # -- backpressure -----------------------------------------------------------------------
    def max_buffered(self) -> int:
        """The bound on unwritten points: max(RUNYARD_MAX_BUFFERED, points committed in the last interval)."""
        horizon = time.monotonic() - self.flush_interval
        recent = tuple(self._commits)  # one C call: atomic under the GIL, no lock (see _init_process_state)
        return max(self.max_buffered_floor, sum(points for when, points in recent if when >= horizon))

    def _note_commit(self, points: int) -> None:
        """Remember a commit (the caller holds _write_lock) and forget those older than one interval."""
        now = time.monotonic()
        commits, horizon = self._commits, now - self.flush_interval
        commits.append((now, points))
        while commits and commits[0][0] < horizon:
            commits.popleft()

    def _make_room(self, incoming: int) -> None:
        """The slow path of add(): start the thread, wake it, and wait while the backlog is at its bound."""
        if self._thread is None:
            self._ensure_thread()
        backlog = len(self._buffer) + incoming
        if backlog >= self._wake_at and not self._wake.is_set():
            self._wake.set()
        if backlog + self._in_flight > self.max_buffered_floor and self._over_bound(incoming):
            self._wait_for_room(incoming)

    def _over_bound(self, incoming: int) -> bool:
        unwritten = len(self._buffer) + self._in_flight
        return unwritten > 0 and unwritten + incoming > self.max_buffered()

    def _wait_for_room(self, incoming: int) -> None:
        """Block until the backlog fits: wait for the write in progress, or write the backlog here."""
        if self._reentered():  # a signal handler interrupted this thread's write: never deadlock
            return
        warned = False
        while self._over_bound(incoming):
            with self._write_lock:  # waits for a write in progress (the writer then runs at full speed)
                if self._over_bound(incoming):
                    self._write_locked(raise_errors=False)
            error = self._last_error
            if error is not None and self._over_bound(incoming):
                if not warned:
                    warned = True
                    import warnings

                    warnings.warn(
                        f"runyard: logging waits because the store refused the last metric write ({error}); "
                        f"{self.pending()} points are kept and retried.",
                        RuntimeWarning,
                        stacklevel=5,
                    )
                time.sleep(min(self.flush_interval, 1.0))

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
        """Write every buffered point now; raise the error if the store refused them.

        Called from a signal handler that interrupted a write of this thread, it returns at once:
        the interrupted write goes on when the handler returns.
        """
        if self._reentered():
            return
        self._write_pending(raise_errors=True)
        self._wait_acknowledged()

    def _wait_acknowledged(self) -> None:
        """A store that sends points on (over HTTP) waits, bounded, for the server's acknowledgement."""
        wait = getattr(self.store, "wait_acknowledged", None)
        if wait is not None:
            wait()

    def pending(self) -> int:
        """How many points wait to be written (buffered, or in a batch being written)."""
        return len(self._buffer) + self._in_flight

    def _reentered(self) -> bool:
        """True when this thread is in the middle of a batch (a signal handler interrupted it)."""
        return self._batch_thread == threading.get_ident() or in_transaction()

    def _take(self, limit: int) -> list[BufferedPoint]:
        """Remove and return up to limit of the oldest buffered points."""
        n = min(len(self._buffer), limit)
        self._in_flight = n  # counted before they leave the buffer: the bound never undercounts
        return list(starmap(self._buffer.popleft, repeat((), n)))

    def _write_pending(self, raise_errors: bool, lock_timeout: float = -1) -> None:
        if not self._write_lock.acquire(timeout=lock_timeout):
            return
        try:
            self._write_locked(raise_errors)
        finally:
            self._write_lock.release()

    def _write_locked(self, raise_errors: bool) -> None:
        """Write what is buffered now, in batches (the caller holds _write_lock)."""
        me = threading.get_ident()
        # Only what was buffered when the flush began: a busy logger cannot keep flush() running.
        remaining = len(self._buffer)
        while remaining > 0:
            # Signal handlers wait until the batch is settled: one landing between the commit and
            # its bookkeeping (say, sys.exit() from a SIGTERM handler) would put committed points
            # back, and the exit path would write them twice.
            with signals_deferred():
                self._batch_thread = me
                try:
                    batch = self._take(min(remaining, self._batch_size))
                    if not batch:  # a signal handler's flush on this thread took them meanwhile
                        break
                    remaining -= len(batch)
                    try:
                        self._write_batch(batch)
                    except BaseException as error:
                        self._buffer.extendleft(reversed(batch))  # keep them, ahead of newer points
                        if not isinstance(error, Exception):
                            raise  # sys.exit() or Ctrl-C from a signal handler: never swallowed
                        self._last_error = error
                        if raise_errors:
                            raise
                        return
                    self._note_commit(len(batch))
                finally:
                    self._in_flight = 0
                    self._batch_thread = None
        self._last_error = None
        dropped, self._dropped = self._dropped, None
        if dropped is not None and raise_errors:
            raise dropped
        self._dropped = dropped  # the next flush() reports it

    def _write_batch(self, batch: list[BufferedPoint]) -> None:
        from runyard.exceptions import RunNotFound

        store = self.store
        try:
            store.write_metric_points(batch)
            return
        except Exception:  # noqa: BLE001 - re-raised below unless a run was purged meanwhile
            run_ids = set(map(_run_id_of, batch))
            try:
                gone = run_ids - store.existing_run_ids(run_ids)
            except Exception:  # noqa: BLE001 - cannot tell: keep every point and retry later
                gone = set()
            if not gone:
                raise
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
            self._check_at = self._wake_at

    def _loop(self) -> None:
        block_in_this_thread()
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
        """Write everything and stop the thread (interpreter exit; safe from a signal handler)."""
        if self._pid != os.getpid():
            return
        self._stopping = True  # the thread sees it within one flush interval (no Event.set here: a
        # signal handler may have interrupted this thread inside it)
        if self._reentered():  # the interrupted write finishes; the exit path writes the rest
            return
        try:
            # Bounded: a handler must not wait forever for a writer thread that waits on this thread.
            self._write_pending(raise_errors=False, lock_timeout=fork_wait_seconds())
            self._wait_acknowledged()
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

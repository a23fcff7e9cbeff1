"""Grouped durable writes: concurrent write requests share one transaction, committed before they answer.

One writer thread per server process takes every pending write operation at once (group commit:
while one transaction commits, the requests that arrive meanwhile queue up and form the next group,
so a lone request waits for nothing and a busy server commits hundreds of requests together; an
optional linger waits a little longer for more), runs them in one transaction (when one of them
is refused, that transaction is rolled back and the group run again with each operation inside its
own SAVEPOINT: a refused operation rolls back alone and nothing of it is written), records the
writes as signs of life of the RUNNING runs they touched (at most once per run every
TOUCH_INTERVAL_MS: a run's heartbeat time is never older than that behind its last write, and a run
logging hundreds of points a second does not rewrite its row each time), commits once, and only
then resolves each request. A lone operation needs no SAVEPOINT: a refusal rolls back its whole
transaction. A busy database
(another process holding SQLite's write lock past the busy timeout, a PostgreSQL serialization
failure) is retried with backoff; a client sees "database is locked" never, at worst a 503 that
MLflow's client retries.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import RunyardError
from .errors import Unavailable

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore

logger = logging.getLogger("runyard.server")

Operation = Callable[[Any], Any]  # called with the group's open store connection
# A write counts as a sign of life of its RUNNING run; the heartbeat time is rewritten at most this
# often per run (LOST needs 30 minutes without a write: 2 s of coalescing cannot make a run look lost).
TOUCH_INTERVAL_MS = 2_000
_MAX_REMEMBERED_TOUCHES = 100_000


@dataclass
class _Pending:
    run_id: str | None
    operation: Operation
    future: concurrent.futures.Future[Any]


class WriteGroup:
    """Collects write operations from request handlers and commits them in shared transactions."""

    def __init__(
        self,
        store: SqlStore,
        linger_seconds: float = 0.0,
        max_operations: int = 512,
        retry_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.linger_seconds = linger_seconds
        self.max_operations = max_operations
        self.retry_seconds = retry_seconds
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.transactions = 0  # committed groups (benchmarks and tests read it)
        self.operations = 0
        self._touched_ms: dict[str, int] = {}  # run id -> heartbeat time this process last wrote

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="runyard-writes", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the pending operations and stop the thread."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)

    def submit(self, run_id: str | None, operation: Operation) -> concurrent.futures.Future[Any]:
        """Queue operation(conn); the future resolves after its transaction committed (or with its error)."""
        self.start()
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put(_Pending(run_id, operation, future))
        return future

    async def run(self, run_id: str | None, operation: Operation) -> Any:
        """Await operation(conn) run in a shared transaction; the event loop never waits on the database."""
        return await asyncio.wrap_future(self.submit(run_id, operation))

    # ----------------------------------------------------------------- the writer thread
    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            deadline = time.monotonic() + self.linger_seconds
            while len(group) < self.max_operations:
                remaining = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
            self._commit_with_retries(group)

    def _commit_with_retries(self, group: list[_Pending]) -> None:
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.01
        while True:
            try:
                outcomes = self._commit(group)
            except Exception as error:  # noqa: BLE001 - the whole transaction failed: retry or report
                if _is_transient(error) and time.monotonic() < deadline:
                    logger.warning("write group retried: %s", _first_line(error))
                    time.sleep(delay)
                    delay = min(delay * 2, 0.5)
                    continue
                failure: BaseException = error
                if _is_transient(error):
                    failure = Unavailable(
                        "The store is busy (another process holds its write lock); retry the request."
                    )
                for pending in group:
                    if not pending.future.done():
                        pending.future.set_exception(failure)
                return
            for pending, (ok, value) in zip(group, outcomes, strict=True):
                if ok:
                    pending.future.set_result(value)
                else:
                    pending.future.set_exception(value)
            return

    def _commit(self, group: list[_Pending]) -> list[tuple[bool, Any]]:
        if len(group) == 1:
            return [self._commit_one(group[0])]
        outcomes = self._commit_together(group)
        return outcomes if outcomes is not None else self._commit_each(group)

    def _commit_together(self, group: list[_Pending]) -> list[tuple[bool, Any]] | None:
        """The usual group, where no operation is refused: one transaction, no SAVEPOINT per operation.

        The first refusal rolls the whole transaction back and answers None: the group is then run
        again by _commit_each, each operation in its SAVEPOINT (a refused request is rare; the
        SAVEPOINT and RELEASE of every operation cost a tenth of a 500-point log-batch).
        """
        values: list[Any] = []
        try:
            with self.store.db.connect(write=True) as conn:
                for pending in group:
                    try:
                        values.append(pending.operation(conn))
                    except Exception as error:
                        if _is_transient(error):
                            raise  # the whole group is retried
                        raise _Refused from error
                touch = self._touch(conn, [p.run_id for p in group if p.run_id is not None])
        except _Refused:
            return None
        self._touched(touch)
        self.transactions += 1
        self.operations += len(group)
        return [(True, value) for value in values]

    def _commit_each(self, group: list[_Pending]) -> list[tuple[bool, Any]]:
        """The group with each operation in its own SAVEPOINT: a refused one rolls back alone."""
        outcomes: list[tuple[bool, Any]] = []
        touched: list[str] = []
        with self.store.db.connect(write=True) as conn:
            for pending in group:
                savepoint = conn.begin_nested()
                try:
                    value = pending.operation(conn)
                except RunyardError as error:  # refused: this operation alone is rolled back
                    savepoint.rollback()
                    outcomes.append((False, error))
                    continue
                except Exception as error:
                    savepoint.rollback()
                    if _is_transient(error):
                        raise  # the whole group is retried
                    outcomes.append((False, error))
                    continue
                savepoint.commit()
                outcomes.append((True, value))
                if pending.run_id is not None:
                    touched.append(pending.run_id)
            touch = self._touch(conn, touched)
        self._touched(touch)
        self.transactions += 1
        self.operations += len(group)
        return outcomes

    def _commit_one(self, pending: _Pending) -> tuple[bool, Any]:
        """A group of one: its own transaction, no savepoint (a refusal rolls the transaction back)."""
        try:
            with self.store.db.connect(write=True) as conn:
                value = pending.operation(conn)
                touch = self._touch(conn, [] if pending.run_id is None else [pending.run_id])
        except Exception as error:
            if _is_transient(error):
                raise  # retried as a whole
            self.operations += 1  # answered (refused), as in a group
            return False, error
        self._touched(touch)
        self.transactions += 1
        self.operations += 1
        return True, value

    def _touch(self, conn: Any, run_ids: list[str]) -> tuple[list[str], int]:
        """Write the heartbeat time of the runs not touched in the last TOUCH_INTERVAL_MS (in conn)."""
        from runyard.clock import now_ms

        now = now_ms()
        due = sorted({run_id for run_id in run_ids if not self._recently_touched(run_id, now)})
        self.store.touch_runs(conn, due, now)
        return due, now

    def _recently_touched(self, run_id: str, now: int) -> bool:
        last = self._touched_ms.get(run_id)
        return last is not None and 0 <= now - last < TOUCH_INTERVAL_MS

    def _touched(self, touch: tuple[list[str], int]) -> None:
        """Remember the heartbeat times written, once their transaction committed."""
        run_ids, now = touch
        if len(self._touched_ms) > _MAX_REMEMBERED_TOUCHES:
            self._touched_ms.clear()
        for run_id in run_ids:
            self._touched_ms[run_id] = now


class _Refused(Exception):
    """An operation of a group without savepoints was refused: roll back, run it with savepoints."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _is_transient(error: BaseException) -> bool:
    """A lock or serialization conflict (worth retrying), not a refusal of the request."""
    from runyard.store.db import is_transient_error

    return is_transient_error(error)

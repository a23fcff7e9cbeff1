"""Logging over HTTP: the writer's point store that spools to an outbox and sends log-batch requests.

`write_metric_points` (called by the MetricWriter's thread, never by `log_metric`) cuts the points
into log-batch requests of up to 1,000 points per run, each with a batch id, writes them to the
run's outbox on local disk and hands them to a few sender threads (several requests in flight).
A batch leaves the outbox when the server acknowledged it. Connection errors, 5xx, 429 and refused
credentials keep the batch and retry it in the background with backoff (one probe request at a time
while the server is away), so training never blocks or crashes on the network: the writer's
backpressure only waits for the outbox on disk. `wait_acknowledged()` (run by `flush()` and
`end_run`) waits at most RUNYARD_FLUSH_TIMEOUT for every point, then leaves the rest in the outbox
and warns once; `runyard sync` replays outboxes a process left behind. The runyard server records
batch ids, so a batch stored whose answer was lost is not stored again when it is resent.
"""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import threading
import time
import warnings
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from uuid import uuid4

from runyard.config import flush_timeout_seconds, mask_uri
from runyard.exceptions import StoreError

from . import protocol as p
from .outbox import Batch, Outbox, outbox_dir

if TYPE_CHECKING:
    from .transport import Transport

LOG_BATCH_PATH = "/api/2.0/mlflow/runs/log-batch"
DEFAULT_IN_FLIGHT = 4
MEMORY_BATCHES = 256  # request bodies kept in memory to send; later ones are read back from the outbox
FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 5.0
_RETRY_LATER = frozenset({401, 403, 408, 429})  # and every 5xx: the batch is kept and resent

# (run_id, key, value, timestamp_ms, step), as the MetricWriter buffers them
Point = tuple[str, str, float, int, int]
_run_id_of = itemgetter(0)


class RemoteRunStore(Protocol):
    """What the sender asks of the remote store for the writer (heartbeats, which runs exist)."""

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Which of these runs exist."""

    def heartbeat(self, run_ids: Sequence[str]) -> None:
        """Record that the processes logging these runs are alive."""


@dataclass
class _Pending:
    run_id: str
    batch_id: str
    points: int
    body: bytes | None  # None: read it back from the outbox when it is sent


_SPECIAL_FLOATS = {math.inf: '"Infinity"', -math.inf: '"-Infinity"'}


def encode_log_batch(run_id: str, points: Sequence[Point]) -> bytes:
    """The JSON body of a log-batch request carrying these points of one run (MLflow's wire format).

    Built as text in one pass (the bytes json.dumps would give, NaN and infinities as MLflow's
    strings): it runs on the writer's thread for every point, alongside the training loop.
    """
    heads: dict[str, str] = {}
    parts: list[str] = []
    append = parts.append
    special = _SPECIAL_FLOATS
    for _, key, value, timestamp, step in points:
        head = heads.get(key)
        if head is None:
            head = heads[key] = '{"key":' + json.dumps(key) + ',"value":'
        if value != value:
            shown = '"NaN"'
        elif value in special:
            shown = special[value]
        else:
            shown = repr(value)
        append(f'{head}{shown},"timestamp":{timestamp},"step":{step}}}')
    return ('{"run_id":' + json.dumps(run_id) + ',"metrics":[' + ",".join(parts) + "]}").encode()


class OutboxSender:
    """A PointStore for the MetricWriter that logs to a tracking server through durable outboxes."""

    def __init__(
        self,
        server_url: str,
        store: RemoteRunStore | None = None,
        transport: Transport | None = None,
        in_flight: int = DEFAULT_IN_FLIGHT,
        directory: Path | None = None,
    ) -> None:
        from .transport import Transport

        self.transport = transport or Transport(server_url)
        self.server_url = self.transport.base_url  # never carries credentials
        self.store = store
        self.in_flight = max(1, in_flight)
        self.directory = directory or outbox_dir()  # fixed now: points never move directory midway
        self._init_process_state()

    def __repr__(self) -> str:
        return f"OutboxSender({self.server_url!r})"

    def _init_process_state(self) -> None:
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._spool_lock = threading.Lock()
        self._queue: deque[_Pending] = deque()
        self._outboxes: dict[str, Outbox] = {}
        self._unacked = 0  # points spooled by this process and not acknowledged yet
        self._sending = 0
        self._offline = False
        self._probing = False
        self._retry_at = 0.0
        self._backoff = FIRST_RETRY_SECONDS
        self._last_failure = ""
        self._refused: list[str] = []
        self._warned_timeout = False
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ PointStore
    def write_metric_points(self, points: Sequence[Point]) -> None:
        """Spool the points (durably, in log-batch requests of up to 1,000) and queue them for sending."""
        if self._pid != os.getpid():
            self._init_process_state()  # a forked child: the parent's batches stay the parent's
        run_ids = set(map(_run_id_of, points))
        by_run: dict[str, Sequence[Point]]
        if len(run_ids) == 1:  # the usual case: one run logs
            by_run = {run_ids.pop(): points}
        else:
            grouped: dict[str, list[Point]] = {run_id: [] for run_id in run_ids}
            for point in points:
                grouped[point[0]].append(point)
            by_run = dict(grouped)
        size = p.MAX_METRICS_PER_BATCH
        queued: list[_Pending] = []
        with self._spool_lock:
            for run_id, run_points in by_run.items():
                batches = [
                    Batch(uuid4().hex, len(chunk), encode_log_batch(run_id, chunk))
                    for chunk in (run_points[i : i + size] for i in range(0, len(run_points), size))
                ]
                try:
                    self._outbox(run_id).add(batches)
                except (OSError, sqlite3.Error) as error:
                    raise StoreError(
                        f"Cannot write the outbox of run {run_id} in {self.directory} "
                        f"({error}): set RUNYARD_OUTBOX_DIR to a writable directory with free space."
                    ) from None
                queued.extend(_Pending(run_id, b.batch_id, b.points, b.body) for b in batches)
        with self._cond:
            for item in queued:
                if len(self._queue) >= MEMORY_BATCHES:
                    item.body = None
                self._queue.append(item)
                self._unacked += item.points
            self._ensure_threads()
            self._cond.notify_all()

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Which of these runs exist on the server (all of them without a remote store to ask)."""
        return self.store.existing_run_ids(run_ids) if self.store is not None else set(run_ids)

    def heartbeat(self, run_ids: Sequence[str]) -> None:
        """Heartbeats go through the remote store (writes are signs of life by themselves)."""
        if self.store is not None:
            self.store.heartbeat(run_ids)

    # ------------------------------------------------------------------ acknowledgement
    def unacknowledged(self) -> int:
        """Points this process spooled that the server has not acknowledged yet."""
        return self._unacked

    def wait_acknowledged(self, timeout: float | None = None) -> bool:
        """Wait (at most RUNYARD_FLUSH_TIMEOUT) until the server acknowledged every point; warn once if not.

        True when everything arrived (emptied outboxes are removed then). Batches the server refused
        (a run deleted there, say) are reported in a warning: resending cannot fix them.
        """
        if self._pid != os.getpid():
            return True
        limit = flush_timeout_seconds() if timeout is None else timeout
        deadline = time.monotonic() + limit
        with self._cond:
            while self._unacked > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            left, failure = self._unacked, self._last_failure
            refused, self._refused = self._refused, []
            warn_timeout = left > 0 and not self._warned_timeout
            self._warned_timeout = self._warned_timeout or left > 0
        for message in refused:
            warnings.warn(f"runyard: {message}", RuntimeWarning, stacklevel=3)
        if left and warn_timeout:
            why = f" ({failure})" if failure else ""
            warnings.warn(
                f"runyard: {left} metric points are not yet acknowledged by {mask_uri(self.server_url)} "
                f"after {limit:g} s{why}. They stay in the outbox under {self.directory} "
                "and are sent in the background; if this process ends first, run `runyard sync`.",
                RuntimeWarning,
                stacklevel=3,
            )
        if not left:
            self._remove_empty_outboxes()
        return not left

    def close(self) -> None:
        """At exit: wait (bounded) for the acknowledgement of what was spooled; the outbox keeps the rest."""
        try:
            self.wait_acknowledged()
        finally:
            with self._spool_lock:
                for outbox in self._outboxes.values():
                    outbox.close()

    # ------------------------------------------------------------------ outboxes
    def _outbox(self, run_id: str) -> Outbox:
        outbox = self._outboxes.get(run_id)
        if outbox is None:
            outbox = Outbox.create(self.server_url, run_id, self.directory)
            self._outboxes[run_id] = outbox
        return outbox

    def _remove_empty_outboxes(self) -> None:
        with self._spool_lock:
            for run_id, outbox in list(self._outboxes.items()):
                try:
                    if outbox.remove_if_empty():
                        del self._outboxes[run_id]
                except Exception:  # noqa: BLE001 - a file that cannot be removed now is removed by sync
                    pass

    # ------------------------------------------------------------------ sending threads
    def _ensure_threads(self) -> None:
        """Start the sender threads (the caller holds _cond)."""
        if self._threads:
            return
        _ = self.transport.client  # one pool, created before the threads share it
        for index in range(self.in_flight):
            thread = threading.Thread(target=self._work, name=f"runyard-sender-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        from runyard.tracking.signals import block_in_this_thread

        block_in_this_thread()
        pid = os.getpid()
        while True:
            item = self._next(pid)
            if item is None:
                return
            try:
                outcome, message = self._send(item)
            except Exception as error:  # noqa: BLE001 - the thread never dies: keep the batch, retry
                outcome, message = "retry", f"{type(error).__name__}: {error}"
            if outcome != "retry":
                try:
                    self._outboxes[item.run_id].remove(item.batch_id)
                except Exception:  # noqa: BLE001 - left in the outbox: a replay is ignored by batch id
                    pass
            self._settle(item, outcome, message)

    def _next(self, pid: int) -> _Pending | None:
        """The next batch to send: any while the server answers, one probe at a time while it is away."""
        with self._cond:
            while True:
                if self._pid != pid:
                    return None
                if self._queue:
                    if not self._offline:
                        break
                    if not self._probing:
                        wait = self._retry_at - time.monotonic()
                        if wait <= 0:
                            self._probing = True
                            break
                        self._cond.wait(wait)
                        continue
                self._cond.wait()
            self._sending += 1
            return self._queue.popleft()

    def _send(self, item: _Pending) -> tuple[str, str]:
        """POST the batch: ("ok", ""), ("retry", why) or ("refused", the server's message)."""
        body = item.body if item.body is not None else self._outboxes[item.run_id].body(item.batch_id)
        if body is None:
            return "ok", ""  # acknowledged meanwhile (runyard sync)
        return send_batch(self.transport, item.run_id, item.batch_id, item.points, body)

    def _settle(self, item: _Pending, outcome: str, message: str) -> None:
        with self._cond:
            self._sending -= 1
            if outcome == "retry":
                self._queue.appendleft(item)
                self._offline, self._probing = True, False
                self._retry_at = time.monotonic() + self._backoff * (0.5 + random.random() / 2)
                self._backoff = min(self._backoff * 2, MAX_RETRY_SECONDS)
                self._last_failure = message
            else:
                self._unacked -= item.points
                if outcome == "refused":
                    self._refused.append(message)
                self._offline = self._probing = False
                self._backoff = FIRST_RETRY_SECONDS
                self._last_failure = ""
            self._cond.notify_all()


def send_batch(transport: Transport, run_id: str, batch_id: str, points: int, body: bytes) -> tuple[str, str]:
    """POST one spooled log-batch request once: ("ok", ""), ("retry", why) or ("refused", message)."""
    import httpx

    from .transport import error_for

    try:
        response = transport.client.post(
            LOG_BATCH_PATH,
            content=body,
            headers={"Content-Type": "application/json", p.BATCH_ID_HEADER: batch_id},
        )
    except (httpx.TransportError, OSError) as error:
        return "retry", f"cannot reach the server: {type(error).__name__}"
    status = response.status_code
    if status == 200:
        return "ok", ""
    message = str(error_for(response, transport.base_url))
    if status >= 500 or status in _RETRY_LATER:
        return "retry", message
    return (
        "refused",
        f"{mask_uri(transport.base_url)} refused {points} metric points of run {run_id}: {message}",
    )

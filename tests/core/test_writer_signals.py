"""A signal handler that flushes may land on any line of the writer or of the fork gate: it never deadlocks.

A SIGTERM handler that calls `runyard.flush()` (then `sys.exit`) interrupts the logging thread
wherever it is. If that thread holds a lock the writer thread needs while the writer thread holds the
write lock, the handler's flush waits for the writer thread, which waits for the interrupted thread:
the training job hangs forever instead of exiting (seen in CI: the logging thread was inside
the backpressure bound's bookkeeping). These tests interrupt the logging thread on every line that the
writer and the fork gate run in it, with a `flush()` as a handler would, while the writer thread writes.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
from collections.abc import Collection, Sequence
from types import FrameType
from typing import Any

import pytest
from runyard.store import fork_gate
from runyard.store.fork_gate import GATE
from runyard.tracking import writer as writer_module
from runyard.tracking.writer import BufferedPoint, MetricWriter

POINTS = 5_000
DEADLOCK_SECONDS = 60  # far beyond the work (~1 s), so only a deadlock fails the test


class GatedStore:
    """Keeps points; each write is a 'transaction' through the fork gate, as SqlStore's are."""

    def __init__(self) -> None:
        self.written: list[BufferedPoint] = []

    def write_metric_points(self, points: Sequence[BufferedPoint]) -> None:
        """Enter the gate, take a moment (the other thread gets the GIL), keep the points."""
        with GATE.transaction():
            time.sleep(0.002)
            self.written.extend(points)

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Every run exists."""
        return set(run_ids)

    def heartbeat(self, run_ids: Sequence[str]) -> None:
        """Nothing to record."""


def _interrupt_every_line(writer: MetricWriter, work: Any, chance: float) -> threading.Thread:
    """Run work() in a thread whose lines in writer.py and fork_gate.py may call writer.flush() first."""
    files = {writer_module.__file__, fork_gate.__file__}
    state = {"inside": False, "handlers": 0}
    draw = random.Random(7).random

    def local(frame: FrameType, event: str, arg: object) -> Any:
        # Not on every line: the backlog must build up for the bound's bookkeeping to run.
        if event == "line" and not state["inside"] and draw() < chance:
            state["inside"] = True  # a handler is not interrupted by itself
            try:
                writer.flush()  # what a SIGTERM handler does before sys.exit()
                state["handlers"] = int(state["handlers"]) + 1
            finally:
                state["inside"] = False
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename in files else None

    def body() -> None:
        sys.settrace(tracer)
        try:
            work()
        finally:
            sys.settrace(None)

    thread = threading.Thread(target=body, daemon=True)  # daemon: a deadlocked one cannot hold pytest
    thread.start()
    thread.join(DEADLOCK_SECONDS)
    assert int(state["handlers"]) > 50  # the handler really landed all over the writer's code
    return thread


def test_a_flush_landing_anywhere_in_log_metric_never_deadlocks() -> None:
    store = GatedStore()
    writer = MetricWriter(store, flush_interval=0.001, max_buffered=20)  # the bound's slow path: often

    def log() -> None:
        for step in range(POINTS):
            writer.add(("run", "loss", float(step), 1_000 + step, step))
        writer.flush()

    thread = _interrupt_every_line(writer, log, chance=0.005)
    assert not thread.is_alive(), "a flush from a 'signal handler' deadlocked with the writer thread"
    assert sorted(point[4] for point in store.written) == list(range(POINTS))
    writer.close()


def test_a_flush_landing_anywhere_in_a_transaction_of_the_same_thread_never_deadlocks() -> None:
    # The logging thread also runs transactions of its own (log_param, set_tag): a handler may land
    # while it enters or leaves the fork gate, as the writer thread leaves it.
    store = GatedStore()
    writer = MetricWriter(store, flush_interval=0.001, max_buffered=20)

    def log_and_tag() -> None:
        for step in range(POINTS):
            writer.add(("run", "loss", float(step), 1_000 + step, step))
            if step % 10 == 0:
                with GATE.transaction():  # set_tag's transaction
                    pass
        writer.flush()

    thread = _interrupt_every_line(writer, log_and_tag, chance=0.1)
    assert not thread.is_alive(), "a flush from a 'signal handler' deadlocked in the fork gate"
    assert sorted(point[4] for point in store.written) == list(range(POINTS))
    writer.close()


class SignalAfterCommitStore(GatedStore):
    """Sends this process a signal right after each batch is stored, as a SIGTERM at a bad moment."""

    def write_metric_points(self, points: Sequence[BufferedPoint]) -> None:
        """Store the batch (the commit), then the main thread receives the signal."""
        super().write_metric_points(points)
        # To the main thread, as the kernel sends a process's signal when only runyard's threads
        # run beside it (they block it); pytest's own threads would take a process-wide kill.
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)


def test_sys_exit_from_a_handler_right_after_a_commit_does_not_write_the_batch_twice() -> None:
    # Seen in CI: a SIGTERM handler's sys.exit() landed after the commit but before the writer had
    # settled the batch; the batch went back to the buffer and the exit flush wrote it again.
    if threading.current_thread() is not threading.main_thread():  # handlers run on the main thread only
        pytest.fail("signal handlers run on the main thread: run this test there")

    def exit_now(signum: int, frame: FrameType | None) -> None:
        sys.exit(0)

    store = SignalAfterCommitStore()
    writer = MetricWriter(store, flush_interval=3600, max_buffered=1_000_000)
    previous = signal.signal(signal.SIGUSR1, exit_now)
    try:
        for step in range(100):
            writer.add(("run", "loss", float(step), 1_000 + step, step))
        with pytest.raises(SystemExit):  # the handler runs in flush(), or just after it at the latest
            writer.flush()
            for _ in range(100):  # loops and calls check for pending handlers
                time.sleep(0)
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        writer.flush()  # what the exit path writes: only what was not committed
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert [point[4] for point in store.written] == list(range(100))
    writer.close()

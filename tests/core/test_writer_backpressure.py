"""The writer's bound on unwritten points: logging waits instead of buffering without limit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import pytest
import runyard
from runyard import StoreError, TrackingClient
from runyard.tracking.writer import BufferedPoint, MetricWriter


class SlowStore:
    """A store that takes a fixed time per batch (and can refuse the first writes)."""

    def __init__(self, seconds_per_batch: float, failures: int = 0) -> None:
        self.seconds_per_batch = seconds_per_batch
        self.failures = failures
        self.written: list[BufferedPoint] = []
        self.on_write: Callable[[], None] | None = None

    def write_metric_points(self, points: Sequence[BufferedPoint]) -> None:
        """Sleep for the batch, then keep it (or fail while failures remain)."""
        if self.on_write is not None:
            self.on_write()
        time.sleep(self.seconds_per_batch)
        if self.failures > 0:
            self.failures -= 1
            raise StoreError("disk full")
        self.written.extend(points)

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Every run exists."""
        return set(run_ids)

    def heartbeat(self, run_ids: Sequence[str]) -> None:
        """Nothing to record."""


def _points(n: int) -> list[BufferedPoint]:
    return [("run", "loss", float(i), 1_000 + i, i) for i in range(n)]


def test_sys_exit_from_a_signal_handler_during_a_write_is_never_swallowed() -> None:
    # A SIGTERM handler calling sys.exit() can interrupt the logging thread while it writes the
    # backlog itself: the SystemExit must end the program (it was kept as a write error, and the
    # training loop went on logging forever), and the batch stays buffered for the exit flush.
    store = SlowStore(0.0)

    def interrupted() -> None:
        store.on_write = None
        raise SystemExit(0)

    store.on_write = interrupted
    writer = MetricWriter(store, flush_interval=60)
    writer.add_many(_points(10))
    with pytest.raises(SystemExit):
        writer._write_pending(raise_errors=False)
    assert writer.pending() == 10
    writer.flush()
    assert [point[4] for point in store.written] == list(range(10))


def test_unwritten_points_never_exceed_the_bound() -> None:
    # A batch takes longer than the flush interval, so one interval never commits more than one
    # batch (at most the bound): the bound is RUNYARD_MAX_BUFFERED's 2,000 all along.
    store = SlowStore(seconds_per_batch=0.03)
    writer = MetricWriter(store, flush_interval=0.02, max_buffered=2_000)
    points = _points(30_000)
    most = 0
    for count, point in enumerate(points, start=1):
        writer.add(point)
        unwritten = count - len(store.written)  # logged, not yet committed by the store
        most = max(most, unwritten)
        assert unwritten <= writer.max_buffered() == 2_000
    extra = _points(3_000)
    for start in range(0, 3_000, 10):  # log_metrics' path: several points at once
        writer.add_many(extra[start : start + 10])
        assert len(points) + start + 10 - len(store.written) <= 2_000
    writer.flush()
    assert most == 2_000  # logging was held at the bound, not below it
    assert store.written == points + _points(3_000)  # every point once, in order
    writer.close()


def test_the_bound_grows_to_what_the_store_commits_in_one_interval() -> None:
    store = SlowStore(seconds_per_batch=0)
    writer = MetricWriter(store, flush_interval=60, max_buffered=1_000)
    assert writer.max_buffered() == 1_000
    for point in _points(5_000):
        writer.add(point)
    writer.flush()
    assert writer.max_buffered() >= 5_000  # a fast store is not throttled to the floor
    writer.close()


def test_logging_waits_while_the_store_refuses_writes_and_loses_nothing() -> None:
    store = SlowStore(seconds_per_batch=0, failures=3)
    writer = MetricWriter(store, flush_interval=0.01, max_buffered=500)
    points = _points(2_000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for point in points:
            writer.add(point)
    assert any("store refused the last metric write (disk full)" in str(w.message) for w in caught)
    writer.flush()
    assert store.written == points
    writer.close()


def test_flush_and_close_from_a_signal_handler_during_a_write_do_not_deadlock() -> None:
    # A handler runs on the thread it interrupts: here, in the middle of that thread's own write.
    store = SlowStore(seconds_per_batch=0)
    writer = MetricWriter(store, flush_interval=60)
    calls: list[str] = []

    def handler() -> None:
        store.on_write = None
        writer.flush()  # would wait forever for the write lock this thread holds
        writer.close()
        calls.append("handler returned")

    writer.add_many(_points(100))
    store.on_write = handler
    writer.flush()
    assert calls == ["handler returned"]
    assert store.written == _points(100)


def test_flush_inside_a_database_transaction_of_the_same_thread_does_not_deadlock(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SQLITE_BUSY_TIMEOUT", "2000")  # a self-deadlock fails in seconds
    runyard.set_tracking_uri(sqlite_uri)
    run = runyard.start_run(log_system_info=False)
    runyard.log_metric("loss", 1.0, step=0)
    store = TrackingClient(sqlite_uri).store
    with store.db.connect(write=True):  # SQLite's write lock: a second writer would wait for it
        runyard.flush()  # as a signal handler interrupting this transaction would
    runyard.end_run()
    history = TrackingClient(sqlite_uri).get_metric_history(run.info.run_id, "loss")
    assert [m.value for m in history] == [1.0]


# ----------------------------------------------------------------------------- real processes
FULL_SPEED = textwrap.dedent(
    """
    import json, os, signal, sys, time, runyard

    points = int(sys.argv[1])
    run = runyard.start_run(log_system_info=False)
    print(json.dumps({"run_id": run.info.run_id}), flush=True)
    log_metric = runyard.log_metric
    start = time.perf_counter()
    for step in range(points):
        log_metric("loss", 1.0, step=step)
    elapsed = time.perf_counter() - start
    with open("elapsed", "w") as out:
        out.write(str(elapsed))
    os.kill(os.getpid(), signal.SIGKILL)  # right after the last call, at full speed
    """
)


def test_sigkill_at_full_speed_loses_at_most_the_bound(tracking_uri: str, tmp_path: Path) -> None:
    points, floor, interval = 300_000, 20_000, 0.2
    script = tmp_path / "train.py"
    script.write_text(FULL_SPEED)
    env = dict(os.environ, RUNYARD_TRACKING_URI=tracking_uri, RUNYARD_ARTIFACT_ROOT=str(tmp_path / "a"))
    env.update(RUNYARD_MAX_BUFFERED=str(floor), RUNYARD_FLUSH_INTERVAL=str(interval))
    result = subprocess.run(
        [sys.executable, str(script), str(points)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    run_id = json.loads(result.stdout.splitlines()[0])["run_id"]
    elapsed = float((tmp_path / "elapsed").read_text())
    steps = [m.step for m in TrackingClient(tracking_uri).get_metric_history(run_id, "loss")]
    assert steps == list(range(len(steps)))  # what was written is a prefix: no holes
    lost = points - len(steps)
    # The bound is max(floor, points committed in the last interval); the writer's pace is known
    # from the run (points written over the time logging took), with a margin for uneven pace.
    interval_worth = 3 * len(steps) / elapsed * interval
    assert lost <= max(floor, interval_worth), (lost, floor, interval_worth)


SIGTERM_HANDLER = textwrap.dedent(
    """
    import json, os, signal, sys, runyard

    run = runyard.start_run(log_system_info=False)
    logged = 0

    def on_sigterm(signum, frame):
        with open("logged", "w") as out:
            out.write(str(logged))
        runyard.flush()  # may interrupt a write of this very thread: must return, not deadlock
        sys.exit(0)  # the exit path ends the run and writes what is left

    signal.signal(signal.SIGTERM, on_sigterm)
    print(json.dumps({"run_id": run.info.run_id}), flush=True)
    step = 0
    while True:
        runyard.log_metric("loss", float(step), step=step)
        step += 1
        logged = step
    """
)


def test_a_sigterm_handler_that_flushes_and_exits_loses_nothing(tracking_uri: str, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SIGTERM_HANDLER)
    env = dict(os.environ, RUNYARD_TRACKING_URI=tracking_uri, RUNYARD_ARTIFACT_ROOT=str(tmp_path / "a"))
    env.update(RUNYARD_MAX_BUFFERED="5000", RUNYARD_FLUSH_INTERVAL="0.05")  # this thread writes often too
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    run_id = json.loads(process.stdout.readline())["run_id"]
    reader = TrackingClient(tracking_uri)
    while len(reader.get_metric_history(run_id, "loss")) < 50_000:  # logging and writing at full speed
        assert process.poll() is None
        threading.Event().wait(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    logged = int((tmp_path / "logged").read_text())
    run = TrackingClient(tracking_uri).get_run(run_id)
    steps = [m.step for m in TrackingClient(tracking_uri).get_metric_history(run_id, "loss")]
    assert steps == list(range(len(steps)))
    assert len(steps) >= logged  # every point logged before the signal (and maybe one more) arrived
    assert run.info.status == "FINISHED"

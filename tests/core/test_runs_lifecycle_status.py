"""Run lifecycle: nested runs, FAILED/KILLED endings, resume, exit handling, SIGKILL and fork."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import runyard
from runyard import InvalidState, TrackingClient


@pytest.fixture
def store(tracking_uri: str) -> str:
    """Point the fluent API at a fresh store."""
    runyard.set_tracking_uri(tracking_uri)
    return tracking_uri


# ----------------------------------------------------------------------------- in process
def test_nested_runs_record_parent(store: str) -> None:
    runyard.set_experiment("nested")
    with runyard.start_run(run_name="parent") as parent:
        with runyard.start_run(run_name="child", nested=True) as child:
            assert runyard.active_run() is child
            with runyard.start_run(run_name="grandchild", nested=True) as grandchild:
                pass
        assert runyard.active_run() is parent
    client = TrackingClient(store)
    child_run = client.get_run(child.info.run_id)
    assert child_run.info.parent_run_id == parent.info.run_id
    assert child_run.data.tags["runyard.parentRunId"] == parent.info.run_id
    assert child_run.info.experiment_id == parent.info.experiment_id
    assert client.get_run(grandchild.info.run_id).info.parent_run_id == child.info.run_id
    assert client.get_run(parent.info.run_id).info.parent_run_id is None
    assert "runyard.parentRunId" not in client.get_run(parent.info.run_id).data.tags
    for run in (parent, child, grandchild):
        assert client.get_run(run.info.run_id).info.status == "FINISHED"


def test_ending_parent_ends_open_children(store: str) -> None:
    parent = runyard.start_run()
    child = runyard.start_run(nested=True)
    parent.__exit__(None, None, None)  # what leaving `with start_run()` of the parent does
    assert runyard.active_run() is None
    assert runyard.get_run(child.info.run_id).info.status == "FINISHED"


def test_second_non_nested_run_is_a_clear_error(store: str) -> None:
    with runyard.start_run() as first:
        with pytest.raises(InvalidState, match="already active") as caught:
            runyard.start_run()
        assert "nested=True" in str(caught.value) and "end_run()" in str(caught.value)
        assert first.info.run_id in str(caught.value)
        assert runyard.active_run() is first


def test_exception_in_with_block_fails_run_and_reraises(store: str) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with runyard.start_run() as run:
            runyard.log_metric("m", 1.0)
            raise RuntimeError("boom")
    got = runyard.get_run(run.info.run_id)
    assert got.info.status == "FAILED"
    assert got.info.end_time is not None
    assert got.data.metrics == {"m": 1.0}  # buffered points were written before ending
    assert runyard.active_run() is None


def test_keyboard_interrupt_kills_run(store: str) -> None:
    with pytest.raises(KeyboardInterrupt):
        with runyard.start_run() as run:
            raise KeyboardInterrupt
    assert runyard.get_run(run.info.run_id).info.status == "KILLED"


def test_resume_by_run_id_sets_running_again(store: str) -> None:
    with runyard.start_run(run_name="first") as run:
        runyard.log_param("p", 1)
        runyard.log_metric("m", 1.0, step=0)
    finished = runyard.get_run(run.info.run_id)
    assert finished.info.status == "FINISHED" and finished.info.end_time is not None
    with runyard.start_run(run_id=run.info.run_id, tags={"resumed": "yes"}) as resumed:
        assert resumed.info.run_id == run.info.run_id
        assert resumed.info.status == "RUNNING"
        assert resumed.info.end_time is None
        current = TrackingClient(store).get_run(run.info.run_id)
        assert current.info.status == "RUNNING" and current.info.end_time is None
        runyard.log_param("p", 1)  # same value again is fine
        runyard.log_metric("m", 2.0, step=1)
    got = runyard.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "first"
    assert got.data.tags["resumed"] == "yes"
    assert got.data.metric_summaries["m"].count == 2
    assert got.data.metrics["m"] == 2.0


def test_failed_flush_at_end_still_ends_the_run(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: when the final flush raised, the run left the stack but stayed RUNNING forever.
    run = runyard.start_run()

    def failing_flush() -> None:
        raise runyard.StoreError("store went away")

    monkeypatch.setattr(run.writer, "flush", failing_flush)
    with pytest.raises(runyard.StoreError, match="went away"):
        runyard.end_run("FAILED")
    assert runyard.active_run() is None
    assert TrackingClient(store).get_run(run.info.run_id).info.status == "FAILED"


def test_points_of_a_purged_run_do_not_block_other_runs(store: str) -> None:
    try:
        _log_around_a_purged_run(store)
    finally:  # never leave a stuck writer behind: runyard.flush() in later tests would raise its error
        from runyard.tracking import fluent

        writer = fluent._writers.pop(fluent._client().tracking_uri, None)
        if writer is not None:
            writer._stopping = True
            writer._buffer.clear()
            writer._wake.set()


def _log_around_a_purged_run(store: str) -> None:
    parent = runyard.start_run(log_system_info=False)
    child = runyard.start_run(nested=True, log_system_info=False)
    runyard.log_metric("child", 1.0)
    runyard.flush()
    other = TrackingClient(store)
    other.delete_run(child.info.run_id)
    other.gc(run_ids=[child.info.run_id])
    runyard.log_metric("child", 2.0)  # buffered for a run that no longer exists
    with pytest.raises(runyard.RunNotFound):
        runyard.end_run()
    runyard.log_metric("parent", 1.0)
    runyard.end_run()
    assert other.get_run(parent.info.run_id).data.metrics == {"parent": 1.0}


def test_trashed_runs_and_experiments_cannot_be_resumed_or_activated(store: str) -> None:
    client = TrackingClient(store)
    experiment_id = runyard.create_experiment("trash")
    with runyard.start_run(experiment_id=experiment_id) as run:
        pass
    client.delete_run(run.info.run_id)
    with pytest.raises(InvalidState, match="trash"):
        runyard.start_run(run_id=run.info.run_id)
    assert runyard.active_run() is None
    client.delete_experiment(experiment_id)
    with pytest.raises(InvalidState, match="trash"):
        runyard.set_experiment(experiment_id=experiment_id)
    with pytest.raises(runyard.ExperimentExists, match="trash"):
        runyard.set_experiment("trash")  # the name stays reserved while the experiment is in the trash
    with pytest.raises(InvalidState, match="trash"):
        runyard.start_run(experiment_id=experiment_id)
    assert runyard.active_run() is None


def test_resume_unknown_run(store: str) -> None:
    with pytest.raises(runyard.RunNotFound):
        runyard.start_run(run_id="0" * 32)
    assert runyard.active_run() is None


def test_heartbeat_and_is_lost(store: str) -> None:
    with runyard.start_run() as run:
        info = runyard.get_run(run.info.run_id).info
        assert info.heartbeat_time is not None
        assert not info.is_lost(info.heartbeat_time + 1000, stale_after_ms=5000)
        assert info.is_lost(info.heartbeat_time + 10_000, stale_after_ms=5000)
    from runyard.config import STALE_HEARTBEAT_MS

    beat = info.heartbeat_time
    assert not info.is_lost(beat + STALE_HEARTBEAT_MS) and info.is_lost(beat + STALE_HEARTBEAT_MS + 1)
    ended = runyard.get_run(run.info.run_id).info
    assert not ended.is_lost(ended.heartbeat_time + 10**9, stale_after_ms=1)  # type: ignore[operator]


# ----------------------------------------------------------------------------- subprocesses
def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(body))
    return path


def _env(tmp_path: Path, uri: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RUNYARD_TRACKING_URI=uri,
        RUNYARD_ARTIFACT_ROOT=str(tmp_path / "artifacts"),
        RUNYARD_FLUSH_INTERVAL="30",  # no background flush: only flush()/end/exit write
    )
    return env


def _run(tmp_path: Path, uri: str, body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(_script(tmp_path, body))],
        env=_env(tmp_path, uri),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run_id_from(stdout: str) -> str:
    return json.loads(stdout.strip().splitlines()[-1])["run_id"]


def test_exit_without_end_run_finishes_and_flushes(tracking_uri: str, tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        tracking_uri,
        """
        import json, runyard
        run = runyard.start_run()
        for step in range(1000):
            runyard.log_metric("loss", 1.0 / (step + 1), step=step)
        print(json.dumps({"run_id": run.info.run_id}))
        """,
    )
    assert result.returncode == 0, result.stderr
    run_id = _run_id_from(result.stdout)
    client = TrackingClient(tracking_uri)
    got = client.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.info.end_time is not None
    assert got.data.metric_summaries["loss"].count == 1000
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == list(range(1000))


def test_uncaught_exception_fails_run(tracking_uri: str, tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        tracking_uri,
        """
        import json, runyard
        run = runyard.start_run()
        runyard.log_metric("loss", 0.5)
        print(json.dumps({"run_id": run.info.run_id}), flush=True)
        raise ValueError("diverged")
        """,
    )
    assert result.returncode == 1
    assert "ValueError: diverged" in result.stderr  # the user still sees the traceback
    got = TrackingClient(tracking_uri).get_run(_run_id_from(result.stdout))
    assert got.info.status == "FAILED"
    assert got.data.metrics == {"loss": 0.5}


def test_sys_exit_nonzero_without_traceback_is_not_failed_by_excepthook(
    tracking_uri: str, tmp_path: Path
) -> None:
    result = _run(
        tmp_path,
        tracking_uri,
        """
        import json, sys, runyard
        run = runyard.start_run()
        print(json.dumps({"run_id": run.info.run_id}), flush=True)
        sys.exit(0)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert TrackingClient(tracking_uri).get_run(_run_id_from(result.stdout)).info.status == "FINISHED"


def test_sigkill_after_flush_keeps_flushed_points(tracking_uri: str, tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import json, sys, time, runyard
        run = runyard.start_run()
        runyard.log_param("lr", 0.1)
        for step in range(500):
            runyard.log_metric("loss", float(step), step=step)
        runyard.flush()
        for step in range(500, 600):
            runyard.log_metric("loss", float(step), step=step)  # buffered, lost with the process
        print(json.dumps({"run_id": run.info.run_id}), flush=True)
        time.sleep(600)
        """,
    )
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=_env(tmp_path, tracking_uri),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else ""
        run_id = json.loads(line)["run_id"]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    client = TrackingClient(tracking_uri)
    got = client.get_run(run_id)
    assert got.info.status == "RUNNING"  # nobody could end it ...
    assert got.info.heartbeat_time is not None
    now = int(time.time() * 1000)
    assert got.info.is_lost(now + 1000, stale_after_ms=500)  # ... but readers can tell it is lost
    assert got.data.params == {"lr": "0.1"}
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history][:500] == list(range(500))
    assert got.data.metric_summaries["loss"].count == len(history)
    # The store is still usable for writing.
    client.log_param(run_id, "after_kill", "ok")
    client.set_terminated(run_id, "KILLED")
    assert client.get_run(run_id).info.status == "KILLED"
    if tracking_uri.startswith("sqlite"):
        import sqlite3

        path = tracking_uri[len("sqlite:///") :]
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# Regression (multiprocessing): the flush registered at fork was dropped by multiprocessing's child
# bootstrap (it clears finalizers after the fork), so a Process child's points never arrived.
@pytest.mark.parametrize("how", ["os.fork", "multiprocessing"])
def test_forked_child_logs_into_parent_run(tracking_uri: str, tmp_path: Path, how: str) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    child_code = {
        "os.fork": """
            pid = os.fork()
            if pid == 0:
                child_work()
                sys.exit(0)  # a normal exit in the child: atexit runs there too
            os.waitpid(pid, 0)
            pid = os.fork()
            if pid == 0:
                child_work(offset=100)
                runyard.flush()
                os._exit(0)  # no atexit at all: only the explicit flush
            os.waitpid(pid, 0)
        """,
        "multiprocessing": """
            ctx = multiprocessing.get_context("fork")
            workers = [ctx.Process(target=child_work, args=(100 * i,)) for i in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
                assert worker.exitcode == 0
        """,
    }[how]
    body = (
        textwrap.dedent(
            """
            import json, multiprocessing, os, sys, runyard

            def child_work(offset=0):
                for step in range(50):
                    runyard.log_metric("child", float(step), step=offset + step)

            run = runyard.start_run()
            runyard.log_metric("parent", 1.0, step=0)  # buffered in the parent at fork time
            """
        )
        + textwrap.dedent(child_code)
        + textwrap.dedent(
            """
            client = runyard.TrackingClient()
            status_after_children = client.get_run(run.info.run_id).info.status
            runyard.log_metric("parent", 2.0, step=1)
            runyard.end_run()
            print(json.dumps({"run_id": run.info.run_id, "status_after_children": status_after_children}))
            """
        )
    )
    result = _run(tmp_path, tracking_uri, body)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["status_after_children"] == "RUNNING"  # children never end the parent's run
    client = TrackingClient(tracking_uri)
    run_id = payload["run_id"]
    got = client.get_run(run_id)
    assert got.info.status == "FINISHED"
    child_steps = sorted(m.step for m in client.get_metric_history(run_id, "child"))
    assert child_steps == list(range(50)) + list(range(100, 150))
    parent_steps = [m.step for m in client.get_metric_history(run_id, "parent")]
    assert parent_steps == [0, 1]  # the parent's buffered point was written once, not by each child


def _as_from_a_shell() -> None:
    """The child starts with SIGINT at its default and no signal blocked, as a script run from a shell.

    A process inherits its parent's signal mask and ignored signals: in a full test session the pytest
    worker that starts this script may have SIGINT blocked or ignored by something it ran before (a
    library's helper process, a signal test), and the script then never sees Ctrl-C at all.
    """
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_outside_a_with_block_kills_run(tracking_uri: str, tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import json, time, runyard
        run = runyard.start_run()
        runyard.log_metric("loss", 0.25)
        print(json.dumps({"run_id": run.info.run_id}), flush=True)
        time.sleep(600)
        """,
    )
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=_env(tmp_path, tracking_uri),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_shell,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert line, err
    assert "KeyboardInterrupt" in err
    got = TrackingClient(tracking_uri).get_run(json.loads(line)["run_id"])
    assert got.info.status == "KILLED"
    assert got.data.metrics == {"loss": 0.25}


def test_fork_while_another_thread_holds_the_api_lock(tracking_uri: str, tmp_path: Path) -> None:
    # Regression: the child inherited the module's lock held by a parent thread and hung forever.
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    result = _run(
        tmp_path,
        tracking_uri,
        """
        import json, os, signal, threading, runyard
        from runyard.tracking import fluent

        run = runyard.start_run()
        held, release = threading.Event(), threading.Event()

        def holder():
            with fluent._state_lock:
                held.set()
                release.wait()

        thread = threading.Thread(target=holder)
        thread.start()
        held.wait()
        pid = os.fork()
        if pid == 0:
            signal.alarm(20)  # a hang ends the child with SIGALRM instead of blocking the test
            runyard.log_param("from_child", "yes")
            runyard.flush()
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        release.set()
        thread.join()
        runyard.end_run()
        print(json.dumps({"run_id": run.info.run_id, "child_status": status}))
        """,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["child_status"] == 0
    assert TrackingClient(tracking_uri).get_run(payload["run_id"]).data.params == {"from_child": "yes"}


def test_sigkill_while_writing_leaves_a_consistent_store(tracking_uri: str, tmp_path: Path) -> None:
    """Killed mid-write: every flushed point is there, summaries agree with history, store usable."""
    script = _script(
        tmp_path,
        """
        import json, runyard
        run = runyard.start_run(log_system_info=False)
        print(json.dumps({"run_id": run.info.run_id}), flush=True)
        step = 0
        while True:
            for _ in range(2000):
                runyard.log_metric("loss", float(step), step=step)
                runyard.log_metric("acc", float(step) / 2, step=step)
                step += 1
            runyard.flush()
            print(step, flush=True)
        """,
    )
    env = _env(tmp_path, tracking_uri)
    env["RUNYARD_FLUSH_INTERVAL"] = "0.01"  # the background thread writes all the time too
    process = subprocess.Popen(
        [sys.executable, str(script)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    run_id = json.loads(process.stdout.readline())["run_id"]
    flushed = 0
    try:
        for _ in range(5):
            line = process.stdout.readline()
            assert line, "the script stopped early"
            flushed = int(line)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
    client = TrackingClient(tracking_uri)
    run = client.get_run(run_id)
    for key in ("loss", "acc"):
        history = client.get_metric_history(run_id, key)
        steps = [m.step for m in history]
        assert steps[:flushed] == list(range(flushed))  # nothing flushed was lost
        assert steps == list(range(len(steps)))  # and nothing half-written: a prefix, no holes
        summary = run.data.metric_summaries[key]
        assert summary.count == len(history)
        assert summary.latest_step == len(history) - 1
    client.log_metric(run_id, "after", 1.0)
    client.set_terminated(run_id, "KILLED")
    if tracking_uri.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(tracking_uri[len("sqlite:///") :]) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        connection.close()


def test_multiprocessing_child_runs_are_ended_with_the_right_status(
    tracking_uri: str, tmp_path: Path
) -> None:
    # Regression: a run started inside a multiprocessing child (fork) was never ended (atexit does not
    # run there), so it stayed RUNNING; now it ends FINISHED, or FAILED when the child raised.
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    result = _run(
        tmp_path,
        tracking_uri,
        """
        import json, multiprocessing, runyard

        def child(name, fail, queue):
            run = runyard.start_run(run_name=name, log_system_info=False)
            queue.put(run.info.run_id)
            runyard.log_metric("m", 1.0)
            if fail:
                raise RuntimeError("worker crashed")

        parent = runyard.start_run(log_system_info=False)  # the children's runs are their own
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        ids = {}
        for name, fail in (("ok", False), ("bad", True)):
            process = ctx.Process(target=child, args=(name, fail, queue))
            process.start()
            ids[name] = queue.get(timeout=60)
            process.join()
        runyard.end_run()
        print(json.dumps({"run_id": parent.info.run_id, "children": ids}))
        """,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    client = TrackingClient(tracking_uri)
    ok = client.get_run(payload["children"]["ok"])
    bad = client.get_run(payload["children"]["bad"])
    assert (ok.info.status, ok.data.metrics) == ("FINISHED", {"m": 1.0})
    assert (bad.info.status, bad.data.metrics) == ("FAILED", {"m": 1.0})
    assert client.get_run(payload["run_id"]).info.status == "FINISHED"


def test_background_writer_persists_points_without_flush(tracking_uri: str, tmp_path: Path) -> None:
    """Without flush() or exit, the writer thread stores points on its own (a crash loses only the last)."""
    script = _script(
        tmp_path,
        """
        import json, time, runyard
        run = runyard.start_run(log_system_info=False)
        for step in range(300):
            runyard.log_metric("loss", float(step), step=step)
        reader = runyard.TrackingClient()
        deadline = time.time() + 60
        while time.time() < deadline and len(reader.get_metric_history(run.info.run_id, "loss")) < 300:
            time.sleep(0.05)  # no flush(): only the background thread can write them
        print(json.dumps({"run_id": run.info.run_id}), flush=True)
        time.sleep(600)
        """,
    )
    env = _env(tmp_path, tracking_uri)
    env["RUNYARD_FLUSH_INTERVAL"] = "0.1"
    process = subprocess.Popen(
        [sys.executable, str(script)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
    history = TrackingClient(tracking_uri).get_metric_history(json.loads(line)["run_id"], "loss")
    assert [m.step for m in history] == list(range(300))

"""SIGTERM (what schedulers and preemption send) ends the run KILLED with its points; the process ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runyard import TrackingClient

SCRIPT = textwrap.dedent(
    """
    import signal, sys, time, runyard
    runyard.set_tracking_uri(sys.argv[1])
    if sys.argv[2] == "own-handler":
        def mine(signum, frame):
            print("own handler ran", flush=True)
            sys.exit(7)
        signal.signal(signal.SIGTERM, mine)
    run = runyard.start_run(log_system_info=False)
    print(run.info.run_id, flush=True)
    step = 0
    while True:
        runyard.log_metric("loss", 1.0 / (step + 1), step=step)
        step += 1
        if step % 1000 == 0:
            time.sleep(0.01)
    """
)


def _start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], str, str]:
    uri = f"sqlite:///{tmp_path / 'runyard.db'}"
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, uri, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    time.sleep(1.5)  # let it log for a while (points wait in the buffer between flushes)
    return process, uri, run_id


@pytest.mark.slow
def test_sigterm_marks_the_run_killed_writes_its_points_and_ends_by_the_signal(tmp_path: Path) -> None:
    process, uri, run_id = _start(tmp_path, "default")
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGTERM  # the default action still happens
    run = TrackingClient(uri).get_run(run_id)
    assert run.info.status == "KILLED"
    summary = run.data.metric_summaries["loss"]
    assert summary.count == summary.latest_step + 1  # every point up to the last one logged is there


@pytest.mark.slow
def test_an_existing_sigterm_handler_still_runs_after_the_run_ended(tmp_path: Path) -> None:
    process, uri, run_id = _start(tmp_path, "own-handler")
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert "own handler ran" in out
    assert process.returncode == 7
    assert TrackingClient(uri).get_run(run_id).info.status == "KILLED"

"""A run that runyard's client logs through a server is judged LOST like a local one once its process dies.

The process is really killed with SIGKILL (no handler runs, no end_run); LOST is then checked at the
moments the rule names (heartbeat_time + the heartbeat timeout), never by waiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard import TrackingClient
from runyard.config import STALE_HEARTBEAT_MS
from server_helpers import ServerProcess, start_server

# The second run starts right after the first one's heartbeat was sent: with heartbeats only every
# HEARTBEAT_INTERVAL_SECONDS it would wait up to that long for its own first one.
TRAINING = """
import sys, runyard
runyard.set_tracking_uri(sys.argv[1])
runyard.set_experiment("/heartbeats")
with runyard.start_run(run_name="first", log_system_info=False):
    runyard.log_metric("loss", 1.0, step=0)
    runyard.flush()
run = runyard.start_run(run_name="second", log_system_info=False)
runyard.log_metric("loss", 0.5, step=0)
runyard.flush()
print(run.info.run_id, flush=True)
sys.stdin.read()  # alive until killed
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    running = start_server(tmp_path / "server")
    try:
        yield running
    finally:
        running.stop()


def test_a_killed_runyard_client_run_is_lost_after_the_heartbeat_timeout(
    server: ServerProcess, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_TRACKING", "MLFLOW_"))}
    child = subprocess.Popen(
        [sys.executable, "-c", TRAINING, server.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        run_id = child.stdout.readline().strip() if child.stdout else ""
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert run_id, "the training process did not start its run"

    info = TrackingClient(server.url).get_run(run_id).info
    assert info.status == "RUNNING"  # nobody ended it: the process was killed
    assert not info.heartbeat_from_writes  # judged by runyard heartbeats, not by the 30-minute writes rule
    assert info.heartbeat_time is not None
    last_sign = info.heartbeat_time
    assert not info.is_lost(last_sign + STALE_HEARTBEAT_MS)
    assert info.is_lost(last_sign + STALE_HEARTBEAT_MS + 1)  # as a local run after the same silence

"""Forced network drops and a server away for a whole run: every point arrives exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from runyard.cli import cli
from runyard.rest.outbox import outbox_paths, pending_points
from server_helpers import ServerProcess, free_port, start_server
from test_outbox_sender import history, new_run, restart

pytestmark = pytest.mark.slow

# A training process logging over HTTP: `rounds` rounds of `per_round` points, a short pause between
# rounds (so that the test's server kills land while it logs), then flush(). Prints "acknowledged"
# when the server acknowledged every point within RUNYARD_FLUSH_TIMEOUT.
LOGGER = textwrap.dedent(
    """
    import sys, time, warnings
    from runyard.rest.sender import OutboxSender
    from runyard.tracking.writer import MetricWriter

    url, run_id, rounds, per_round, pause = sys.argv[1:6]
    rounds, per_round, pause = int(rounds), int(per_round), float(pause)
    sender = OutboxSender(url)
    writer = MetricWriter(sender, flush_interval=0.05)
    step = 0
    for _ in range(rounds):
        for _ in range(per_round):
            writer.add((run_id, "loss", step * 0.25, 1_000 + step, step))
            step += 1
        time.sleep(pause)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        writer.flush()
    print("acknowledged" if sender.unacknowledged() == 0 else "left in outbox")
    for warning in caught:
        print("warning:", warning.message)
    """
)


def start_logger(
    url: str, run_id: str, outboxes: Path, rounds: int, per_round: int, pause: float, flush_timeout: float
) -> subprocess.Popen[str]:
    """The logging process (its own outbox directory and flush timeout)."""
    env = {**os.environ, "RUNYARD_OUTBOX_DIR": str(outboxes), "RUNYARD_FLUSH_TIMEOUT": str(flush_timeout)}
    command = [sys.executable, "-c", LOGGER, url, run_id, str(rounds), str(per_round), str(pause)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_killing_and_restarting_the_server_while_a_process_logs_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path / "server", port=free_port())
    run_id = new_run(server.url)
    rounds, per_round = 60, 500
    logger = start_logger(server.url, run_id, tmp_path / "outbox", rounds, per_round, 0.05, flush_timeout=240)
    try:
        for _ in range(4):
            time.sleep(0.4)
            server.process.kill()  # no goodbye: requests in flight lose their answers
            server.process.wait(timeout=30)
            time.sleep(0.2)
            server = restart(server)
        output, _ = logger.communicate(timeout=300)
    finally:
        if logger.poll() is None:
            logger.kill()
        server.stop()
    assert logger.returncode == 0, output
    assert "acknowledged" in output, output
    back = restart(server)
    try:
        points = history(back.url, run_id)
    finally:
        back.stop()
    assert len(points) == rounds * per_round
    assert points == [(step, step * 0.25) for step in range(rounds * per_round)]
    assert outbox_paths(run_id, tmp_path / "outbox") == []


@pytest.fixture
def outboxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RUNYARD_OUTBOX_DIR in the test's directory (for `runyard sync` run in this process)."""
    folder = tmp_path / "outbox"
    monkeypatch.setenv("RUNYARD_OUTBOX_DIR", str(folder))
    return folder


def log_while_the_server_is_away(tmp_path: Path, outboxes: Path, points: int) -> tuple[ServerProcess, str]:
    """A run created on a server that then goes away for the whole run: the logging process ends first."""
    server = start_server(tmp_path / "server", port=free_port())
    run_id = new_run(server.url)
    server.stop()
    logger = start_logger(server.url, run_id, outboxes, 1, points, 0, flush_timeout=0.2)
    output, _ = logger.communicate(timeout=120)
    assert logger.returncode == 0, output
    assert "left in outbox" in output and "runyard sync" in output, output
    assert pending_points(run_id) == points
    return server, run_id


def test_runyard_sync_sends_what_a_process_left_while_the_server_was_away(
    tmp_path: Path, outboxes: Path
) -> None:
    server, run_id = log_while_the_server_is_away(tmp_path, outboxes, 2_345)
    back = restart(server)
    try:
        result = CliRunner().invoke(cli, ["sync"])
        assert result.exit_code == 0, result.output
        assert f"Sent 2,345 points of run {run_id} to {back.url}." in result.output
        assert "removed 1 emptied outbox." in result.output
        assert history(back.url, run_id) == [(step, step * 0.25) for step in range(2_345)]
        assert outbox_paths(run_id) == []
        again = CliRunner().invoke(cli, ["sync"])  # nothing left: says so, sends nothing twice
        assert again.exit_code == 0 and "Nothing to sync" in again.output
        assert len(history(back.url, run_id)) == 2_345
    finally:
        back.stop()


def test_runyard_sync_while_the_server_is_still_away_says_so_and_keeps_the_points(
    tmp_path: Path, outboxes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runyard.rest.sync.FIRST_WAIT_SECONDS", 0.01)
    server, run_id = log_while_the_server_is_away(tmp_path, outboxes, 10)
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 1
    assert "is still away" in result.output
    assert "10 points of 1 run still wait in outboxes; run `runyard sync` again" in result.output
    assert "Traceback" not in result.output
    assert pending_points(run_id) == 10


def test_runyard_sync_of_a_replayed_batch_stores_it_once(tmp_path: Path, outboxes: Path) -> None:
    server, run_id = log_while_the_server_is_away(tmp_path, outboxes, 1_500)
    back = restart(server)
    try:
        # The first batch was stored, but the outbox never heard back (its answer was lost).
        from runyard.rest.outbox import Outbox
        from runyard.rest.sender import send_batch
        from runyard.rest.transport import Transport

        [path] = outbox_paths(run_id)
        [(_, first), _] = Outbox(path).batches()
        assert send_batch(Transport(back.url), run_id, first.batch_id, first.points, first.body)[0] == "ok"
        result = CliRunner().invoke(cli, ["sync", "--store", back.url])
        assert result.exit_code == 0, result.output
        assert history(back.url, run_id) == [(step, step * 0.25) for step in range(1_500)]
    finally:
        back.stop()


def test_runyard_sync_leaves_the_outbox_of_a_process_that_still_logs_to_it(outboxes: Path) -> None:
    from runyard.rest.outbox import Batch, Outbox

    mine = Outbox.create("http://127.0.0.1:9", "livelyrun")  # this process: alive
    mine.add([Batch("b1", 42, b"{}")])
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 0, result.output
    assert (
        f"Kept 42 points of run livelyrun: its process {os.getpid()} still logs and sends it."
        in result.output
    )
    assert pending_points("livelyrun") == 42

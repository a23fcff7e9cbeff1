"""Logging over HTTP through the outbox: points arrive once, wait on disk while the server is away."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard.exceptions import StoreError
from runyard.rest.outbox import Outbox, outbox_paths, pending_points
from runyard.rest.sender import OutboxSender
from runyard.rest.transport import Transport
from runyard.tracking.writer import MetricWriter
from server_helpers import ServerProcess, free_port, start_server

API = "/api/2.0/mlflow"


@pytest.fixture
def outboxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RUNYARD_OUTBOX_DIR in the test's directory."""
    folder = tmp_path / "outbox"
    monkeypatch.setenv("RUNYARD_OUTBOX_DIR", str(folder))
    return folder


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of this test alone (the test stops and restarts it on the same port)."""
    running = start_server(tmp_path / "server", port=free_port())
    try:
        yield running
    finally:
        running.stop()


def new_run(url: str) -> str:
    """A run created on the server (start_run needs the server)."""
    answer = Transport(url, retries=2).call("POST", f"{API}/runs/create", {"experiment_id": "0"})
    return str(answer["run"]["info"]["run_id"])


def history(url: str, run_id: str, key: str = "loss") -> list[tuple[int, float]]:
    """The metric history on the server, as sorted (step, value) pairs."""
    params = {"run_id": run_id, "metric_key": key, "max_results": 1_000_000}
    answer = Transport(url, retries=2).call("GET", f"{API}/metrics/get-history", params)
    return sorted((int(m["step"]), float(m["value"])) for m in answer.get("metrics", []))


def restart(server: ServerProcess) -> ServerProcess:
    """The same server (store, port) started again."""
    port = int(server.url.rsplit(":", 1)[1])
    return start_server(server.log_path.parent, server.store_uri, port=port)


def test_points_logged_over_http_arrive_once_and_the_outbox_is_removed(
    server: ServerProcess, outboxes: Path
) -> None:
    run_id = new_run(server.url)
    writer = MetricWriter(OutboxSender(server.url))
    for step in range(5_500):  # several requests of at most 1,000 points
        writer.add((run_id, "loss", step / 4, 1_000 + step, step))
    writer.add((run_id, "acc", float("nan"), 7, 0))
    writer.flush()
    assert history(server.url, run_id) == [(step, step / 4) for step in range(5_500)]
    assert len(history(server.url, run_id, "acc")) == 1
    assert pending_points(run_id) == 0
    assert outbox_paths(run_id) == []


def test_while_the_server_is_away_points_wait_in_the_outbox_and_flush_warns_once(
    own_server: ServerProcess, outboxes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = new_run(own_server.url)
    own_server.stop()
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT", "0.3")
    sender = OutboxSender(own_server.url)
    writer = MetricWriter(sender)
    for step in range(2_500):
        writer.add((run_id, "loss", float(step), 1_000 + step, step))
    with pytest.warns(RuntimeWarning, match=r"2500 metric points are not yet acknowledged.*runyard sync"):
        writer.flush()
    assert pending_points(run_id) == 2_500
    writer.add((run_id, "loss", 2_500.0, 3_500, 2_500))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once: the second flush is quiet
        writer.flush()
    assert pending_points(run_id) == 2_501

    back = restart(own_server)
    try:
        assert sender.wait_acknowledged(timeout=120), back.log()
        assert history(back.url, run_id) == [(step, float(step)) for step in range(2_501)]
        assert pending_points(run_id) == 0
        assert outbox_paths(run_id) == []
    finally:
        back.stop()


def test_the_outbox_holds_the_server_url_without_credentials(
    own_server: ServerProcess, outboxes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = new_run(own_server.url)
    own_server.stop()
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT", "0")
    with_secret = own_server.url.replace("http://", "http://alice:s3cr3t-pw@")
    writer = MetricWriter(OutboxSender(with_secret))
    writer.add((run_id, "loss", 1.0, 1, 0))
    with pytest.warns(RuntimeWarning) as caught:
        writer.flush()
    assert all("s3cr3t-pw" not in str(w.message) for w in caught)
    [path] = outbox_paths(run_id)
    assert Outbox(path).meta()["server_url"] == own_server.url
    assert Outbox(path).meta()["run_id"] == run_id
    assert not any(b"s3cr3t-pw" in p.read_bytes() for p in path.parent.iterdir())
    writer.close()  # now, while RUNYARD_FLUSH_TIMEOUT is 0 (the exit path would wait 30 s)


def test_points_of_a_run_deleted_on_the_server_are_reported_not_retried_forever(
    server: ServerProcess, outboxes: Path
) -> None:
    run_id = new_run(server.url)
    Transport(server.url).call("POST", f"{API}/runs/delete", {"run_id": run_id})
    writer = MetricWriter(OutboxSender(server.url))
    writer.add((run_id, "loss", 1.0, 1, 0))
    with pytest.warns(RuntimeWarning, match=f"refused 1 metric points of run {run_id}"):
        writer.flush()
    assert pending_points(run_id) == 0


def test_an_outbox_directory_that_cannot_be_written_is_a_clear_error_and_keeps_the_points(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the outbox directory should be")
    writer = MetricWriter(OutboxSender("http://127.0.0.1:9", directory=blocked / "outbox"))
    writer.add(("run1", "loss", 1.0, 1, 0))
    with pytest.raises(StoreError, match="Cannot write the outbox of run run1 .*RUNYARD_OUTBOX_DIR"):
        writer.flush()
    assert writer.pending() == 1  # kept, retried once the directory can be written
    writer.close()

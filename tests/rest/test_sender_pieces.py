"""The HTTP writer's pieces: log-batch bodies in MLflow's wire format, the flush timeout setting."""

from __future__ import annotations

import json
import math

import pytest
from runyard.rest.sender import encode_log_batch


def test_a_batch_body_is_the_json_mlflow_expects() -> None:
    points = [
        ("run1", "loss", 0.1, 1_700_000_000_000, 0),
        ("run1", "val/acc", math.nan, 5, 1),
        ("run1", "loss", math.inf, 6, 2),
        ("run1", "loss", -math.inf, 7, -3),
        ("run1", "big", 1e300, 8, 2**62),
    ]
    body = json.loads(encode_log_batch("run1", points))
    assert body == {
        "run_id": "run1",
        "metrics": [
            {"key": "loss", "value": 0.1, "timestamp": 1_700_000_000_000, "step": 0},
            {"key": "val/acc", "value": "NaN", "timestamp": 5, "step": 1},
            {"key": "loss", "value": "Infinity", "timestamp": 6, "step": 2},
            {"key": "loss", "value": "-Infinity", "timestamp": 7, "step": -3},
            {"key": "big", "value": 1e300, "timestamp": 8, "step": 2**62},
        ],
    }


def test_keys_with_quotes_and_backslashes_stay_valid_json() -> None:
    body = json.loads(encode_log_batch("r", [("r", 'odd "key" \\ é', 1.0, 1, 1)]))
    assert body["metrics"][0]["key"] == 'odd "key" \\ é'


def test_the_flush_timeout_setting_is_seconds_and_a_bad_value_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runyard.config import flush_timeout_seconds
    from runyard.exceptions import InvalidInput

    monkeypatch.delenv("RUNYARD_FLUSH_TIMEOUT", raising=False)
    assert flush_timeout_seconds() == 30
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT", "2.5")
    assert flush_timeout_seconds() == 2.5
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT", "0")
    assert flush_timeout_seconds() == 0
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT", bad)
        with pytest.raises(InvalidInput, match="RUNYARD_FLUSH_TIMEOUT=.*number of seconds >= 0"):
            flush_timeout_seconds()


class RemoteStoreDouble:
    """Stands in for the HTTP store of a tracking server: heartbeats and run checks only."""

    def __init__(self) -> None:
        from runyard.rest.transport import Transport

        self.transport = Transport("http://alice:pw@127.0.0.1:9")
        self.beats: list[list[str]] = []

    def existing_run_ids(self, run_ids: object) -> set[str]:
        """Every run exists."""
        return set(run_ids)  # type: ignore[call-overload]

    def heartbeat(self, run_ids: list[str]) -> None:
        """Remember the heartbeat."""
        self.beats.append(list(run_ids))


def test_a_tracking_server_uri_gives_the_writer_the_outbox_sender_on_the_stores_connection() -> None:
    from runyard.rest.sender import OutboxSender
    from runyard.tracking.client import TrackingClient
    from runyard.tracking.fluent import _point_store_for

    client = TrackingClient("http://alice:pw@127.0.0.1:9")
    remote = RemoteStoreDouble()
    client._store = remote
    sender = _point_store_for(client)
    assert isinstance(sender, OutboxSender)
    assert sender.transport is remote.transport  # one connection pool per server
    assert sender.server_url == "http://127.0.0.1:9"  # what the outbox records: no credentials
    sender.heartbeat(["r1"])
    assert remote.beats == [["r1"]]


def test_a_database_uri_gives_the_writer_the_store_itself(sqlite_uri: str) -> None:
    from runyard.tracking.client import TrackingClient
    from runyard.tracking.fluent import _point_store_for

    client = TrackingClient(sqlite_uri)
    assert _point_store_for(client) is client.store

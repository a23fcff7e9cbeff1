"""LOST for runs that never sent a runyard heartbeat: 30 minutes without a write, not 90 seconds."""

from __future__ import annotations

from runyard import TrackingClient
from runyard.config import STALE_HEARTBEAT_MS, STALE_WRITES_MS
from runyard.tracking.context import HEARTBEAT_FROM_WRITES, HEARTBEAT_SOURCE

MINUTE = 60_000
START = 1_800_000_000_000


def _writes_only_run(client: TrackingClient, experiment_id: str) -> str:
    """A run as the server creates it for an MLflow client (its writes are its only signs of life)."""
    run = client.create_run(experiment_id, start_time=START, tags={HEARTBEAT_SOURCE: HEARTBEAT_FROM_WRITES})
    return run.info.run_id


def test_a_run_without_runyard_heartbeats_is_lost_only_after_30_minutes(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("lost-rule")
    writes_only = _writes_only_run(client, experiment_id)
    heartbeating = client.create_run(experiment_id, start_time=START).info.run_id
    ten_minutes_later = START + 10 * MINUTE
    info = client.get_run(writes_only).info
    assert info.heartbeat_from_writes
    assert not info.is_lost(ten_minutes_later, STALE_HEARTBEAT_MS)  # the TUI passes its threshold
    assert client.get_run(heartbeating).info.is_lost(ten_minutes_later)
    overview = client.experiment_overview([experiment_id], now_ms=ten_minutes_later)
    assert (overview.running, overview.lost) == (1, 1)

    half_an_hour_later = START + STALE_WRITES_MS + MINUTE
    assert client.get_run(writes_only).info.is_lost(half_an_hour_later)
    overview = client.experiment_overview([experiment_id], now_ms=half_an_hour_later)
    assert (overview.running, overview.lost) == (0, 2)
    found = client.search_runs([experiment_id], f"attributes.run_id = '{writes_only}'")
    assert found[0].info.heartbeat_from_writes  # search pages carry the rule too


def test_a_runyard_heartbeat_brings_back_the_short_timeout(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("lost-rule-heartbeat")
    run_id = _writes_only_run(client, experiment_id)
    client.store.heartbeat([run_id], timestamp=START + MINUTE)
    info = client.get_run(run_id).info
    assert not info.heartbeat_from_writes
    assert HEARTBEAT_SOURCE not in client.get_run(run_id).data.tags
    assert info.is_lost(START + MINUTE + STALE_HEARTBEAT_MS + 1)

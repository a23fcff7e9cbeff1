"""Watch snapshot and alerts: NaN, LOST, stalled, GPU idle; thresholds per store; `runyard watch --once`."""

from __future__ import annotations

import json
import math

import pytest
import runyard
from click.testing import CliRunner
from runyard import InvalidInput, Metric, TrackingClient
from runyard.cli import cli
from runyard.tracking.watch import set_threshold, thresholds, watch_snapshot

T0 = 1_800_000_000_000
GPU = "system/gpu_0_utilization_percentage"


def _running(client: TrackingClient, name: str, points: list[Metric], heartbeat: int | None = None) -> str:
    experiment_id = client.store.get_or_create_experiment("/watch")
    run_id = client.create_run(experiment_id, run_name=name, start_time=T0).info.run_id
    client.log_batch(run_id, metrics=points)
    client.store.heartbeat([run_id], timestamp=heartbeat or T0 + 600_000)
    return run_id


def _steady(key: str = "loss", count: int = 20, every_ms: int = 1000, value: float = 1.0) -> list[Metric]:
    return [Metric(key, value / (s + 1), T0 + s * every_ms, s) for s in range(count)]


def _by_name(client: TrackingClient, now: int) -> dict[str, runyard.tracking.watch.WatchedRun]:
    experiment_id = client.store.get_or_create_experiment("/watch")
    return {row.run.info.run_name: row for row in watch_snapshot(client, [experiment_id], now)}


def test_each_alert_kind_fires_and_a_healthy_run_has_none(client: TrackingClient) -> None:
    now = T0 + 20_000
    _running(client, "healthy", _steady())
    _running(client, "nan", [*_steady(count=10), Metric("loss", math.nan, T0 + 19_000, 10)])
    _running(client, "inf", [*_steady(count=10), Metric("acc", -math.inf, T0 + 19_000, 3)])
    _running(client, "lost", _steady(), heartbeat=T0 - 600_000)
    idle = [Metric(GPU, 3.0, T0 - 400_000 + s * 20_000, s) for s in range(21)]
    _running(client, "gpu idle", _steady() + idle)
    busy = [Metric(GPU, 3.0 if s < 18 else 95.0, T0 - 400_000 + s * 20_000, s) for s in range(21)]
    _running(client, "gpu busy again", _steady() + busy)
    rows = _by_name(client, now)
    assert rows["healthy"].alerts == [] and rows["gpu busy again"].alerts == []
    assert [(a.kind, a.message) for a in rows["nan"].alerts] == [("nan", "loss became NaN at step 10")]
    assert [(a.kind, a.message) for a in rows["inf"].alerts] == [("nan", "acc became -inf at step 3")]
    assert [a.kind for a in rows["lost"].alerts] == ["lost"] and rows["lost"].status == "LOST"
    assert [a.kind for a in rows["gpu idle"].alerts] == ["gpu_idle"]
    assert rows["gpu idle"].gpu_utilization[-1] == 3.0


def test_stall_uses_ten_times_the_median_interval_with_a_floor(client: TrackingClient) -> None:
    _running(client, "fast", _steady(every_ms=10_000))  # a point every 10 s, last at T0 + 190 s
    last = T0 + 190_000
    assert _by_name(client, last + 99_000)["fast"].alerts == []
    stalled = _by_name(client, last + 101_000)["fast"].alerts
    assert [a.kind for a in stalled] == ["stalled"] and "usually one every 10 s" in stalled[0].message
    set_threshold(client, "stall_factor", "20")
    assert _by_name(client, last + 101_000)["fast"].alerts == []  # the store's own threshold


def test_pace_and_eta_come_from_the_recent_points_and_the_progress_total(client: TrackingClient) -> None:
    run_id = _running(client, "paced", _steady(count=20, every_ms=500))  # 2 steps a second
    client.set_tags(run_id, {"runyard.progress.total": "219"})
    row = _by_name(client, T0 + 10_000)["paced"]
    assert row.steps_per_second == pytest.approx(2.0)
    assert row.step == 19 and row.total == 219 and row.eta_seconds == pytest.approx(100.0)
    assert list(row.sparklines) == ["loss"] and len(row.sparklines["loss"]) == 20


def test_finished_runs_are_not_watched(client: TrackingClient) -> None:
    run_id = _running(client, "done", _steady())
    client.set_terminated(run_id)
    assert _by_name(client, T0 + 20_000) == {}


def test_thresholds_refuse_unknown_names_and_bad_values(client: TrackingClient) -> None:
    with pytest.raises(InvalidInput, match="Unknown alert threshold 'gpu'"):
        set_threshold(client, "gpu", "5")
    with pytest.raises(InvalidInput, match="not a number >= 0"):
        set_threshold(client, "gpu_idle_percent", "-1")
    set_threshold(client, "alerts.gpu_idle_percent", "5")
    assert thresholds(client)["alerts.gpu_idle_percent"] == 5.0


def test_set_progress_tags_the_active_run(tracking_uri: str) -> None:
    runyard.set_tracking_uri(tracking_uri)
    with runyard.start_run(log_system_info=False, capture_output=False) as run:
        runyard.set_progress(total=500)
        with pytest.raises(InvalidInput, match="a whole number > 0"):
            runyard.set_progress(total=0)
    assert runyard.get_run(run.info.run_id).data.tags["runyard.progress.total"] == "500"


def test_watch_once_exits_3_with_alerts_and_0_without(client: TrackingClient) -> None:
    runner = CliRunner()
    store = ["--store", client.tracking_uri]
    client.store.get_or_create_experiment("/watch")
    result = runner.invoke(cli, ["watch", "--once", *store])
    assert result.exit_code == 0 and "No RUNNING runs." in result.output
    _running(
        client, "healthy", [Metric("loss", 1.0, runyard.clock.now_ms(), 0)], heartbeat=runyard.clock.now_ms()
    )
    result = runner.invoke(cli, ["watch", "--once", "--json", *store])
    assert result.exit_code == 0 and json.loads(result.output)[0]["alerts"] == []
    _running(
        client,
        "broken",
        [Metric("loss", math.nan, runyard.clock.now_ms(), 0)],
        heartbeat=runyard.clock.now_ms(),
    )
    result = runner.invoke(cli, ["watch", "--once", "--json", *store])
    assert result.exit_code == 3
    broken = next(row for row in json.loads(result.output) if row["run_name"] == "broken")
    assert broken["alerts"] == [{"kind": "nan", "message": "loss became NaN at step 0"}]
    result = runner.invoke(cli, ["watch", "--once", "-e", "/watch", *store])
    assert result.exit_code == 3 and "⚠ nan: loss became NaN at step 0" in result.output
    result = runner.invoke(cli, ["watch", "--set-threshold", "gpu", *store])
    assert result.exit_code == 2 and "NAME=VALUE" in result.output
    result = runner.invoke(cli, ["watch", "--set-threshold", "nope=1", *store])
    assert (
        result.exit_code == 1
        and "Unknown alert threshold" in result.output
        and "Traceback" not in result.output
    )
    result = runner.invoke(cli, ["watch", "--json", *store])
    assert result.exit_code == 2 and "--json needs --once" in result.output


def test_a_snapshot_costs_the_same_few_queries_for_3_or_30_runs(sqlite_uri: str) -> None:
    from sqlalchemy import event

    client = TrackingClient(sqlite_uri)
    limits = thresholds(client)
    statements: list[str] = []
    experiment_id = client.store.get_or_create_experiment("/watch")

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sizes = []
    for total in (3, 30):
        while len(_by_name(client, T0)) < total:
            _running(client, f"run-{len(statements)}-{uuid_hex()}", _steady(count=5))
        event.listen(client.store.db.engine, "before_cursor_execute", count)
        statements.clear()
        watch_snapshot(client, [experiment_id], T0 + 10_000, (), limits)
        event.remove(client.store.db.engine, "before_cursor_execute", count)
        sizes.append(len(statements))
    assert sizes[0] == sizes[1] <= 4  # runs, their params/tags and summaries, their recent points


def uuid_hex() -> str:
    """A unique suffix for run names."""
    import uuid

    return uuid.uuid4().hex[:6]

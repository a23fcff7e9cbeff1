"""The last 32 points per (run, key) kept beside the summary: what sparklines and alerts read."""

from __future__ import annotations

import math

import pytest
from runyard import Metric, TrackingClient
from runyard.store.recent import RECENT_POINTS, pack, unpack


def test_the_last_32_points_survive_across_batches_in_order(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(20)])
    client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(20, 50)])
    client.log_batch(run_id, metrics=[Metric("acc", 0.5, 5, 0)])
    recent = client.recent_metrics([run_id])[run_id]
    assert [m.step for m in recent["loss"]] == list(range(50 - RECENT_POINTS, 50))
    assert recent["loss"][-1] == Metric("loss", 1.0 / 50, 1049, 49)
    assert recent["acc"] == [Metric("acc", 0.5, 5, 0)]
    assert set(client.recent_metrics([run_id], keys=["acc"])[run_id]) == {"acc"}


def test_a_batch_mixing_a_full_key_and_a_short_one_merges_only_the_short_one(client: TrackingClient) -> None:
    # The full key's stored points are not even read (issue 13): its blob is the batch's last 32.
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.log_batch(run_id, metrics=[Metric(k, 1.0, 1, s) for k in ("full", "short") for s in range(10)])
    batch = [Metric("full", 2.0, 2, s) for s in range(10, 10 + RECENT_POINTS + 5)] + [
        Metric("short", 3.0, 3, 99)
    ]
    client.log_batch(run_id, metrics=batch)
    recent = client.recent_metrics([run_id])[run_id]
    assert [m.step for m in recent["full"]] == list(range(15, 10 + RECENT_POINTS + 5))
    assert [m.step for m in recent["short"]] == [*range(10), 99]


def test_nan_and_infinity_are_kept_as_such(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 1.0, 1, 0), Metric("loss", math.nan, 2, 1), Metric("loss", math.inf, 3, 2)],
    )
    values = [m.value for m in client.recent_metrics([run_id])[run_id]["loss"]]
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2] == math.inf


def test_points_logged_through_the_writer_fill_recent(tracking_uri: str) -> None:
    import runyard

    runyard.set_tracking_uri(tracking_uri)
    with runyard.start_run(log_system_info=False, capture_output=False) as run:
        for step in range(40):
            runyard.log_metric("loss", float(step), step=step)
    recent = runyard.TrackingClient(tracking_uri).recent_metrics([run.info.run_id])
    assert [m.value for m in recent[run.info.run_id]["loss"]] == [float(s) for s in range(8, 40)]


def test_runs_without_points_and_unknown_runs_give_empty_maps(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    assert client.recent_metrics([run_id, "f" * 32]) == {run_id: {}, "f" * 32: {}}


@pytest.mark.parametrize("count", [0, 1, 32, 40])
def test_pack_keeps_the_newest(count: int) -> None:
    points = [(s, 1000 + s, s / 2) for s in range(count)]
    assert unpack(pack(points)) == points[-RECENT_POINTS:]
    assert unpack(None) == [] and unpack(b"\x00" * 5) == []


@pytest.mark.parametrize("with_keys", [True, False])
def test_a_screen_of_runs_reads_its_summaries_by_run_not_by_scanning_the_key(
    sqlite_uri: str, with_keys: bool
) -> None:
    """A sparkline column on a big store: the query must not walk every run's summary of the key."""
    import sqlite3

    from runyard.store.recent import recent_sql

    client = TrackingClient(sqlite_uri)
    experiment_id = client.create_experiment("e")
    for index in range(3):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(run_id, metrics=[Metric("loss", float(index), 1, 0)])
    screen = [f"run{index}" for index in range(28)]  # a screen of rows: the plan depends on the count
    sql = recent_sql(with_keys).replace(":ids", f"({', '.join('?' * len(screen))})").replace(":keys", "(?)")
    with sqlite3.connect(sqlite_uri.removeprefix("sqlite:///")) as conn:
        found = conn.execute("EXPLAIN QUERY PLAN " + sql, screen + ["loss"] * with_keys)
        plan = " | ".join(row[3] for row in found)
    assert plan.startswith("SEARCH r USING") and "run_id=?" in plan, plan
    assert "SEARCH s USING PRIMARY KEY (run_pk=?" in plan, plan

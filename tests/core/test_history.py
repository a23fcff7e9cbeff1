"""Downsampled metric histories and the metric_blocks the writer keeps: exact min/max, NaN, since_step."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest
from runyard import InvalidInput, Metric, RunNotFound, TrackingClient
from runyard.store import history as history_module
from runyard.store.metric_blocks import BLOCK_STEPS

T0 = 1_700_000_000_000


def _make_run(client: TrackingClient) -> str:
    experiment_id = client.create_experiment("history")
    return client.create_run(experiment_id, run_name="r").info.run_id


def _log(
    client: TrackingClient, run_id: str, points: Sequence[tuple[float, int, int]], key: str = "loss"
) -> None:
    """Log (value, timestamp, step) points in batches of 5,000 (several write transactions)."""
    for start in range(0, len(points), 5000):
        chunk = points[start : start + 5000]
        client.log_batch(run_id, metrics=[Metric(key, v, ts, step) for v, ts, step in chunk])


def _stored_blocks(client: TrackingClient, run_id: str, key: str) -> dict[int, tuple]:  # type: ignore[type-arg]
    from sqlalchemy import text

    pk = client.store.run_pk(run_id)
    with client.store.db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT block, min_value, max_value, first_step, last_step, first_timestamp, last_timestamp, "
                'last_value, count FROM metric_blocks WHERE run_pk = :pk AND "key" = :key'
            ),
            {"pk": pk, "key": key},
        ).all()
    return {int(r[0]): tuple(r[1:]) for r in rows}


def _plain_fold(points: Sequence[tuple[float, int, int]]) -> dict[int, tuple]:  # type: ignore[type-arg]
    """The blocks by the definition: group by step // BLOCK_STEPS, then min/max/first/last/count."""
    groups: dict[int, list[tuple[float, int, int]]] = {}
    for value, ts, step in points:
        groups.setdefault(step // BLOCK_STEPS, []).append((value, ts, step))
    expected = {}
    for block, members in groups.items():
        real = [v for v, _, _ in members if not math.isnan(v)]
        last = max(members, key=lambda p: (p[2], p[1], -math.inf if math.isnan(p[0]) else p[0]))
        expected[block] = (
            min(real) if real else None,
            max(real) if real else None,
            min(p[2] for p in members),
            max(p[2] for p in members),
            min(p[1] for p in members),
            last[1],
            None if math.isnan(last[0]) else last[0],
            len(members),
        )
    return expected


def test_blocks_equal_a_plain_fold_of_the_points(client: TrackingClient) -> None:
    run_id = _make_run(client)
    rng = random.Random(7)
    points = []
    for _ in range(12_000):
        step = rng.randrange(0, 6 * BLOCK_STEPS)  # out of order, repeated steps, several blocks
        value = math.nan if rng.random() < 0.05 else rng.uniform(-100, 100)
        points.append((value, T0 + rng.randrange(0, 10_000), step))
    points += [(math.nan, T0, 7 * BLOCK_STEPS + s) for s in range(5)]  # a block of NaN only
    _log(client, run_id, points)
    stored = _stored_blocks(client, run_id, "loss")
    expected = _plain_fold(points)
    assert sorted(stored) == sorted(expected)
    for block, row in expected.items():
        got = stored[block]
        assert got[2:6] == row[2:6] and got[7] == row[7], block
        for i in (0, 1, 6):
            assert (got[i] is None and row[i] is None) or got[i] == pytest.approx(row[i]), (block, i)
    assert stored[7][0] is None and stored[7][1] is None and stored[7][6] is None
    # the last block's last value is the summary's latest value
    summary = client.get_run(run_id).data.metric_summaries["loss"]
    top = stored[max(stored)]
    assert top[3] == summary.latest_step and math.isnan(summary.latest_value) and top[6] is None


def _spiky_points(n: int) -> list[tuple[float, int, int]]:
    points = [(math.sin(step / 50.0), T0 + step * 10, step) for step in range(n)]
    points[n // 3] = (1000.0, T0 + (n // 3) * 10, n // 3)  # a single spike and a single dip
    points[2 * n // 3] = (-500.0, T0 + (2 * n // 3) * 10, 2 * n // 3)
    return points


def _expected_step_buckets(points: Sequence[tuple[float, int, int]], max_points: int) -> list[tuple]:  # type: ignore[type-arg]
    steps = [s for _, _, s in points]
    lo, hi = min(steps), max(steps)
    width = max(1, -(-(hi - lo + 1) // max_points))
    buckets: dict[int, list[tuple[float, int, int]]] = {}
    for point in points:
        buckets.setdefault((point[2] - lo) // width, []).append(point)
    out = []
    for index in sorted(buckets):
        members = buckets[index]
        last = max(members, key=lambda p: (p[2], p[1], p[0]))
        out.append((last[2], last[0], min(p[0] for p in members), max(p[0] for p in members), len(members)))
    return out


def test_sql_buckets_keep_true_min_max_and_last_values(client: TrackingClient) -> None:
    run_id = _make_run(client)
    points = _spiky_points(5000)
    _log(client, run_id, points)
    history = client.get_metric_history_downsampled(run_id, "loss", 64)
    assert history.source == "sql-buckets"
    assert len(history) <= 64 and history.total_points == 5000
    assert max(history.maxs) == 1000.0 and min(history.mins) == -500.0
    got = list(zip(history.steps, history.values, history.mins, history.maxs, history.counts, strict=True))
    assert got == _expected_step_buckets(points, 64)
    assert history.steps[-1] == 4999 and history.values[-1] == pytest.approx(math.sin(4999 / 50.0))


def test_blocks_path_matches_the_raw_path(client: TrackingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = _make_run(client)
    points = _spiky_points(30 * BLOCK_STEPS)
    _log(client, run_id, points)
    raw = client.get_metric_history_downsampled(run_id, "loss", 20)
    monkeypatch.setattr(history_module, "RAW_BUCKET_LIMIT", 1000)
    monkeypatch.setattr(history_module, "MIN_BLOCK_BUCKETS", 10)
    blocks = client.get_metric_history_downsampled(run_id, "loss", 20)
    assert (raw.source, blocks.source) == ("sql-buckets", "blocks")
    assert len(blocks) <= 20 and blocks.total_points == raw.total_points == len(points)
    assert max(blocks.maxs) == 1000.0 and min(blocks.mins) == -500.0
    assert blocks.steps[-1] == raw.steps[-1] == len(points) - 1
    assert blocks.values[-1] == raw.values[-1]
    # blocks are only as fine as BLOCK_STEPS: every bucket covers whole blocks, in step order
    assert blocks.steps == sorted(blocks.steps) and all((s + 1) % BLOCK_STEPS == 0 for s in blocks.steps)


def test_few_points_come_back_as_they_are_with_nan_kept(client: TrackingClient) -> None:
    run_id = _make_run(client)
    points = [(1.0, T0, 0), (math.nan, T0 + 1, 1), (3.0, T0 + 2, 2), (math.inf, T0 + 3, 3)]
    _log(client, run_id, points)
    history = client.get_metric_history_downsampled(run_id, "loss", 100)
    assert history.source == "points"
    assert history.steps == [0, 1, 2, 3] and history.timestamps == [T0, T0 + 1, T0 + 2, T0 + 3]
    assert history.values[0] == 1.0 and math.isnan(history.values[1]) and math.isnan(history.mins[1])
    assert history.values[3] == math.inf


def test_nan_in_buckets(client: TrackingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = _make_run(client)
    # steps 0..99 real, 100..199 all NaN, 200..299 real but the very last point NaN
    points = [(float(s), T0 + s, s) for s in range(100)]
    points += [(math.nan, T0 + s, s) for s in range(100, 200)]
    points += [(float(s), T0 + s, s) for s in range(200, 299)] + [(math.nan, T0 + 299, 299)]
    _log(client, run_id, points)
    for limit in (history_module.RAW_BUCKET_LIMIT, 10):  # SQL buckets, then blocks of a tiny size
        monkeypatch.setattr(history_module, "RAW_BUCKET_LIMIT", limit)
        history = client.get_metric_history_downsampled(run_id, "loss", 3)
        assert history.counts == [100, 100, 100]
        assert (history.mins[0], history.maxs[0], history.values[0]) == (0.0, 99.0, 99.0)
        assert all(math.isnan(v) for v in (history.mins[1], history.maxs[1], history.values[1]))
        assert (history.mins[2], history.maxs[2]) == (200.0, 298.0) and math.isnan(history.values[2])


def test_since_step_fetches_only_newer_points_and_extends(client: TrackingClient) -> None:
    run_id = _make_run(client)
    _log(client, run_id, [(float(s), T0 + s, s) for s in range(3000)])
    drawn = client.get_metric_history_downsampled(run_id, "loss", 50)
    assert drawn.last_step == 2999
    assert len(client.get_metric_history_downsampled(run_id, "loss", 50, since_step=2999)) == 0
    _log(client, run_id, [(float(s), T0 + s, s) for s in range(3000, 3010)] + [(-7.0, T0 + 3010, 3010)])
    tail = client.get_metric_history_downsampled(run_id, "loss", 50, since_step=drawn.last_step)
    assert tail.source == "points" and tail.steps == list(range(3000, 3011))
    merged = drawn.extended(tail, 50)
    assert len(merged) <= 50 and merged.total_points == 3011 and merged.last_step == 3010
    assert min(merged.mins) == -7.0 and max(merged.maxs) == 3009.0 and merged.values[-1] == -7.0


def test_since_step_inside_a_block_uses_blocks_and_raw_tail(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "RAW_BUCKET_LIMIT", 100)
    monkeypatch.setattr(history_module, "MIN_BLOCK_BUCKETS", 2)
    run_id = _make_run(client)
    _log(client, run_id, [(float(s % 1000), T0 + s, s) for s in range(8 * BLOCK_STEPS)])
    since = 3 * BLOCK_STEPS + 10  # inside block 3
    tail = client.get_metric_history_downsampled(run_id, "loss", 500, since_step=since)
    assert tail.source == "blocks"
    assert tail.total_points == 8 * BLOCK_STEPS - since - 1 and min(tail.steps) > since
    assert max(tail.maxs) == 999.0 and min(tail.mins) == 0.0


def test_time_axis_orders_by_timestamp(client: TrackingClient) -> None:
    run_id = _make_run(client)
    # steps and timestamps disagree: step 0 was logged last
    _log(client, run_id, [(1.0, T0 + 500, 0), (2.0, T0 + 100, 1), (3.0, T0 + 200, 2)])
    history = client.get_metric_history_downsampled(run_id, "loss", 10, x_axis="time")
    assert history.xs == [T0 + 100, T0 + 200, T0 + 500] and history.values == [2.0, 3.0, 1.0]
    _log(client, run_id, [(float(i), T0 + 1000 + i * 7, 10 + i) for i in range(400)])
    bucketed = client.get_metric_history_downsampled(run_id, "loss", 10, x_axis="time")
    assert len(bucketed) <= 10 and bucketed.xs == sorted(bucketed.xs) and bucketed.total_points == 403
    assert max(bucketed.maxs) == 399.0 and bucketed.timestamps[-1] == T0 + 1000 + 399 * 7


def test_stale_blocks_are_not_trusted(client: TrackingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    monkeypatch.setattr(history_module, "RAW_BUCKET_LIMIT", 10)
    monkeypatch.setattr(history_module, "MIN_BLOCK_BUCKETS", 2)
    run_id = _make_run(client)
    _log(client, run_id, [(float(s), T0 + s, s) for s in range(4 * BLOCK_STEPS)])
    with client.store.db.connect(write=True) as conn:
        conn.execute(text("DELETE FROM metric_blocks WHERE block = 2"))
    history = client.get_metric_history_downsampled(run_id, "loss", 16)
    assert history.source == "sql-buckets" and history.total_points == 4 * BLOCK_STEPS


def test_bad_arguments_and_missing_metrics(client: TrackingClient) -> None:
    run_id = _make_run(client)
    empty = client.get_metric_history_downsampled(run_id, "never logged", 100)
    assert len(empty) == 0 and empty.last_step is None and empty.source == "empty"
    with pytest.raises(InvalidInput, match="max_points"):
        client.get_metric_history_downsampled(run_id, "loss", 1)
    with pytest.raises(InvalidInput, match="x_axis"):
        client.get_metric_history_downsampled(run_id, "loss", 100, x_axis="wall")
    with pytest.raises(RunNotFound):
        client.get_metric_history_downsampled("0" * 32, "loss", 100)

"""Metric histories downsampled for charts: per bucket the last point plus the true min and max.

A chart a few hundred cells wide never needs a million points, but it must still show the spikes: every
bucket carries the min and max of all its points, and its last point (by step, then timestamp) as the
line's value. Three ways to get there, cheapest that is exact enough first:

- few points (at most max_points): the raw points, one bucket each;
- a moderate history, or blocks too coarse for the requested width: buckets computed in SQL over the raw
  points (one window-function query);
- a large history: the pre-aggregated blocks of metric_blocks.py (~1,000 rows per 1,000,000 points),
  merged into buckets in Python.

NaN stays NaN: a bucket whose points are all NaN has NaN min and max; a NaN last point gives a NaN value.
`since_step` returns only points with a greater step (live refresh); `DownsampledHistory.extended`
appends such a tail to what is drawn and re-buckets when it grows past max_points.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from runyard.downsample import Unit, bucket_units, from_units
from runyard.entities import DownsampledHistory
from runyard.exceptions import InvalidInput
from runyard.store.metric_blocks import BLOCK_STEPS

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore
    from sqlalchemy.engine import Connection

X_AXES = ("step", "time")
MAX_POINTS_LIMIT = 100_000
RAW_BUCKET_LIMIT = 20_000
"""Histories (or tails) up to this many points are bucketed in SQL over the raw points (exact)."""
MIN_BLOCK_BUCKETS = 100
"""Blocks are used only when the range holds at least min(max_points, this) of them."""

_NAN = math.nan
_NEG_INF = -math.inf


def downsample_history(
    store: SqlStore,
    run_id: str,
    key: str,
    max_points: int,
    x_axis: str = "step",
    since_step: int | None = None,
) -> DownsampledHistory:
    """At most max_points buckets of a metric's history (only steps > since_step when given)."""
    if (
        isinstance(max_points, bool)
        or not isinstance(max_points, int)
        or not 2 <= max_points <= MAX_POINTS_LIMIT
    ):
        raise InvalidInput(f"max_points must be an integer from 2 to {MAX_POINTS_LIMIT}, got {max_points!r}.")
    if x_axis not in X_AXES:
        raise InvalidInput(f"x_axis must be 'step' or 'time', got {x_axis!r}.")
    if since_step is not None and (isinstance(since_step, bool) or not isinstance(since_step, int)):
        raise InvalidInput(f"since_step must be an integer step or None, got {since_step!r}.")
    run_pk = store.run_pk(run_id)
    with store.db.connect() as conn:
        units, source = _read_units(conn, run_pk, key, max_points, x_axis, since_step)
    if len(units) > max_points:
        units = bucket_units(units, max_points)
    return from_units(key, x_axis, units, source)


def _read_units(
    conn: Connection, run_pk: int, key: str, max_points: int, x_axis: str, since_step: int | None
) -> tuple[list[Unit], str]:
    from sqlalchemy import text

    params: dict[str, Any] = {"pk": run_pk, "key": key}
    summary = conn.execute(
        text('SELECT count FROM metric_summaries WHERE run_pk = :pk AND "key" = :key'), params
    ).first()
    if summary is None:
        return [], "empty"
    total = int(summary[0])
    first_full_block = 0 if since_step is None else since_step // BLOCK_STEPS + 1
    block_stats = conn.execute(
        text(
            "SELECT COUNT(*), COALESCE(SUM(count), 0), "
            "COALESCE(SUM(CASE WHEN block >= :b THEN count ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN block >= :b THEN 1 ELSE 0 END), 0) "
            'FROM metric_blocks WHERE run_pk = :pk AND "key" = :key'
        ),
        {**params, "b": first_full_block},
    ).one()
    blocks_complete = int(block_stats[1]) == total  # stale or missing blocks: never trust them
    if since_step is None:
        in_range, full_blocks = total, int(block_stats[0])
    elif blocks_complete:
        # points in fully-new blocks, plus the newer points of the block holding since_step (an index range)
        partial = conn.execute(
            text(
                'SELECT COUNT(*) FROM metrics WHERE run_pk = :pk AND "key" = :key '
                "AND step > :since AND step < :below"
            ),
            {**params, "since": since_step, "below": first_full_block * BLOCK_STEPS},
        ).one()[0]
        in_range, full_blocks = int(block_stats[2]) + int(partial), int(block_stats[3])
    else:
        in_range, full_blocks = total, 0
    if in_range <= max_points:
        return _raw_points(conn, params, x_axis, since_step), "points"
    use_blocks = (
        blocks_complete and in_range > RAW_BUCKET_LIMIT and full_blocks >= min(max_points, MIN_BLOCK_BUCKETS)
    )
    if not use_blocks:
        return _sql_buckets(conn, params, max_points, x_axis, since_step, None), "sql-buckets"
    units: list[Unit] = []
    if since_step is not None and since_step + 1 < first_full_block * BLOCK_STEPS:
        # the partly drawn block: its newer points, bucketed like the rest
        units = _sql_buckets(conn, params, max_points, x_axis, since_step, first_full_block * BLOCK_STEPS)
    units += _block_units(conn, params, x_axis, first_full_block if since_step is not None else None)
    return units, "blocks"


def _step_range(since_step: int | None, below_step: int | None) -> tuple[str, dict[str, Any]]:
    clauses, params = "", {}
    if since_step is not None:
        clauses += " AND step > :since"
        params["since"] = since_step
    if below_step is not None:
        clauses += " AND step < :below"
        params["below"] = below_step
    return clauses, params


def _raw_points(conn: Connection, params: dict[str, Any], x_axis: str, since_step: int | None) -> list[Unit]:
    from sqlalchemy import text

    where, extra = _step_range(since_step, None)
    rows = conn.execute(
        text(
            f'SELECT step, timestamp, value FROM metrics WHERE run_pk = :pk AND "key" = :key{where} '
            "ORDER BY step, timestamp, id"
        ),
        {**params, **extra},
    )
    if x_axis == "step":
        return [(step, step, ts, value, value, value, 1, step) for step, ts, value in rows]
    units = [(ts, step, ts, value, value, value, 1, ts) for step, ts, value in rows]
    units.sort(key=lambda unit: unit[0])  # stable: ties keep step order
    return units


def _sql_buckets(
    conn: Connection,
    params: dict[str, Any],
    max_points: int,
    x_axis: str,
    since_step: int | None,
    below_step: int | None,
) -> list[Unit]:
    """Buckets of equal x width computed in SQL over the raw points (exact min, max and last)."""
    from sqlalchemy import text

    where, extra = _step_range(since_step, below_step)
    bound = {**params, **extra}
    column = "step" if x_axis == "step" else "timestamp"
    base = f'FROM metrics WHERE run_pk = :pk AND "key" = :key{where}'
    lo, hi = conn.execute(
        text(f"SELECT (SELECT MIN({column}) {base}), (SELECT MAX({column}) {base})"), bound
    ).one()
    if lo is None:
        return []
    width = max(1, -(-(int(hi) - int(lo) + 1) // max_points))
    bucket = f"(({column} - :lo) / :width)"
    rows = conn.execute(
        text(
            "SELECT step, timestamp, value, mn, mx, cnt, first_x FROM ("
            f"SELECT {bucket} AS bucket, step, timestamp, value, "
            f"MIN(value) OVER w AS mn, MAX(value) OVER w AS mx, COUNT(*) OVER w AS cnt, "
            f"MIN({column}) OVER w AS first_x, "
            f"ROW_NUMBER() OVER (PARTITION BY {bucket} "
            "ORDER BY step DESC, timestamp DESC, value DESC NULLS LAST, id DESC) AS rn "
            f"{base} WINDOW w AS (PARTITION BY {bucket})"
            ") AS buckets WHERE rn = 1 ORDER BY bucket"
        ),
        {**bound, "lo": int(lo), "width": width},
    )
    units: list[Unit] = []
    for step, ts, value, mn, mx, cnt, first_x in rows:
        x = step if x_axis == "step" else ts
        units.append((x, step, ts, value, mn, mx, int(cnt), int(first_x)))
    if x_axis == "time":
        units.sort(key=lambda unit: unit[0])
    return units


def _block_units(conn: Connection, params: dict[str, Any], x_axis: str, from_block: int | None) -> list[Unit]:
    from sqlalchemy import text

    where = "" if from_block is None else " AND block >= :b"
    rows = conn.execute(
        text(
            "SELECT first_step, last_step, first_timestamp, last_timestamp, last_value, min_value, "
            f'max_value, count FROM metric_blocks WHERE run_pk = :pk AND "key" = :key{where} ORDER BY block'
        ),
        {**params, "b": from_block},
    )
    units: list[Unit] = []
    for first_step, last_step, first_ts, last_ts, last_value, mn, mx, count in rows:
        if x_axis == "step":
            units.append((last_step, last_step, last_ts, last_value, mn, mx, int(count), first_step))
        else:
            units.append((last_ts, last_step, last_ts, last_value, mn, mx, int(count), first_ts))
    if x_axis == "time":
        units.sort(key=lambda unit: unit[0])
    return units

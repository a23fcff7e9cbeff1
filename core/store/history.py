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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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


@dataclass
class DownsampledHistory:
    """Buckets of one metric's history, in x order: last step/time/value of each, with its min and max."""

    key: str
    x_axis: str = "step"
    steps: list[int] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    mins: list[float] = field(default_factory=list)
    maxs: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    source: str = "empty"
    """How it was computed: 'empty', 'points', 'sql-buckets', 'blocks' or 'merged'."""

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def total_points(self) -> int:
        """How many logged points the buckets cover."""
        return sum(self.counts)

    @property
    def last_step(self) -> int | None:
        """The greatest step covered (pass it as since_step to fetch only newer points)."""
        return max(self.steps) if self.steps else None

    @property
    def xs(self) -> list[int]:
        """The x coordinate of each bucket: its last step, or its last timestamp on the time axis."""
        return self.steps if self.x_axis == "step" else self.timestamps

    def extended(self, newer: DownsampledHistory, max_points: int) -> DownsampledHistory:
        """This history followed by a newer tail (from since_step), re-bucketed to at most max_points."""
        if not newer.steps:
            return self
        if not self.steps:
            return newer
        units = list(_units_of(self)) + list(_units_of(newer))
        if len(units) <= max_points:
            return _from_units(self.key, self.x_axis, units, "merged")
        return _from_units(self.key, self.x_axis, _bucket_units(units, max_points), "merged")


# A unit is one point, one SQL bucket or one block:
# (x, step, timestamp, value, min, max, count, first_x) with None for NaN in value/min/max.
_Unit = tuple[int, int, int, float | None, float | None, float | None, int, int]


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
        units = _bucket_units(units, max_points)
    return _from_units(key, x_axis, units, source)


def _read_units(
    conn: Connection, run_pk: int, key: str, max_points: int, x_axis: str, since_step: int | None
) -> tuple[list[_Unit], str]:
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
    units: list[_Unit] = []
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


def _raw_points(conn: Connection, params: dict[str, Any], x_axis: str, since_step: int | None) -> list[_Unit]:
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
) -> list[_Unit]:
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
    units: list[_Unit] = []
    for step, ts, value, mn, mx, cnt, first_x in rows:
        x = step if x_axis == "step" else ts
        units.append((x, step, ts, value, mn, mx, int(cnt), int(first_x)))
    if x_axis == "time":
        units.sort(key=lambda unit: unit[0])
    return units


def _block_units(
    conn: Connection, params: dict[str, Any], x_axis: str, from_block: int | None
) -> list[_Unit]:
    from sqlalchemy import text

    where = "" if from_block is None else " AND block >= :b"
    rows = conn.execute(
        text(
            "SELECT first_step, last_step, first_timestamp, last_timestamp, last_value, min_value, "
            f'max_value, count FROM metric_blocks WHERE run_pk = :pk AND "key" = :key{where} ORDER BY block'
        ),
        {**params, "b": from_block},
    )
    units: list[_Unit] = []
    for first_step, last_step, first_ts, last_ts, last_value, mn, mx, count in rows:
        if x_axis == "step":
            units.append((last_step, last_step, last_ts, last_value, mn, mx, int(count), first_step))
        else:
            units.append((last_ts, last_step, last_ts, last_value, mn, mx, int(count), first_ts))
    if x_axis == "time":
        units.sort(key=lambda unit: unit[0])
    return units


def _bucket_units(units: Sequence[_Unit], max_points: int) -> list[_Unit]:
    """Merge units into at most max_points buckets of equal x width (by each unit's last x)."""
    lo = min(unit[7] for unit in units)
    hi = max(unit[0] for unit in units)
    width = max(1, -(-(hi - lo + 1) // max_points))
    merged: dict[int, list[Any]] = {}
    for x, step, ts, value, mn, mx, count, first_x in units:
        index = (x - lo) // width
        order = (step, ts, _NEG_INF if value is None or value != value else value)
        entry = merged.get(index)
        if entry is None:
            merged[index] = [x, step, ts, value, mn, mx, count, first_x, order]
            continue
        if order >= entry[8]:
            entry[0], entry[1], entry[2], entry[3], entry[8] = x, step, ts, value, order
        if mn is not None and (entry[4] is None or mn < entry[4]):
            entry[4] = mn
        if mx is not None and (entry[5] is None or mx > entry[5]):
            entry[5] = mx
        entry[6] += count
        entry[7] = min(entry[7], first_x)
    return [tuple(merged[index][:8]) for index in sorted(merged)]  # type: ignore[misc]


def _units_of(history: DownsampledHistory) -> Iterable[_Unit]:
    xs = history.xs
    for i in range(len(history.steps)):
        yield (
            xs[i],
            history.steps[i],
            history.timestamps[i],
            _none_if_nan(history.values[i]),
            _none_if_nan(history.mins[i]),
            _none_if_nan(history.maxs[i]),
            history.counts[i],
            xs[i],
        )


def _from_units(key: str, x_axis: str, units: Sequence[_Unit], source: str) -> DownsampledHistory:
    history = DownsampledHistory(key=key, x_axis=x_axis, source=source)
    for _x, step, ts, value, mn, mx, count, _first in units:
        history.steps.append(int(step))
        history.timestamps.append(int(ts))
        history.values.append(_NAN if value is None else float(value))
        history.mins.append(_NAN if mn is None else float(mn))
        history.maxs.append(_NAN if mx is None else float(mx))
        history.counts.append(int(count))
    return history


def _none_if_nan(value: float) -> float | None:
    return None if value != value else value

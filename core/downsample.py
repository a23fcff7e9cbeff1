"""Pure-Python bucketing of metric histories: merge points, SQL buckets and blocks into chart buckets."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from runyard.entities import DownsampledHistory

_NAN = math.nan
_NEG_INF = -math.inf

# A unit is one point, one SQL bucket or one block:
# (x, step, timestamp, value, min, max, count, first_x) with None for NaN in value/min/max.
Unit = tuple[int, int, int, float | None, float | None, float | None, int, int]


def bucket_units(units: Sequence[Unit], max_points: int) -> list[Unit]:
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
    return [tuple(merged[index][:8]) for index in sorted(merged)]


def units_of(history: DownsampledHistory) -> Iterable[Unit]:
    xs = history.xs
    for i in range(len(history.steps)):
        yield (
            xs[i],
            history.steps[i],
            history.timestamps[i],
            none_if_nan(history.values[i]),
            none_if_nan(history.mins[i]),
            none_if_nan(history.maxs[i]),
            history.counts[i],
            xs[i],
        )


def from_units(key: str, x_axis: str, units: Sequence[Unit], source: str) -> DownsampledHistory:
    history = DownsampledHistory(key=key, x_axis=x_axis, source=source)
    for _x, step, ts, value, mn, mx, count, _first in units:
        history.steps.append(int(step))
        history.timestamps.append(int(ts))
        history.values.append(_NAN if value is None else float(value))
        history.mins.append(_NAN if mn is None else float(mn))
        history.maxs.append(_NAN if mx is None else float(mx))
        history.counts.append(int(count))
    return history


def none_if_nan(value: float) -> float | None:
    return None if value != value else value

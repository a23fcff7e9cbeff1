"""Pre-aggregated metric blocks: min/max/last/count per (run, key, block of BLOCK_STEPS steps).

The writer folds every batch of points into blocks in Python and upserts them with one executemany in
the same transaction as the points, so a 1,000,000-point history is ~1,000 block rows that a chart
reads in milliseconds (history.py) instead of scanning every point. NaN is stored as NULL, as in
models.py: a NULL min/max means every point of the block was NaN; a NULL last_value means the last
point was NaN. "Last" uses the same order as the metric summary: greatest (step, timestamp, value)
with NaN lowest, so the last block's last_value always equals the summary's latest value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

BLOCK_STEPS = 256
"""Steps per block: block = step // BLOCK_STEPS."""

# (run_pk, key, value, timestamp, step), as metric_store.PointRow
_Point = tuple[int, str, float, int, int]
# (run_pk, key, block, min, max, first_step, last_step, first_ts, last_ts, last_value, count)
BlockRow = tuple[int, str, int, float | None, float | None, int, int, int, int, float | None, int]

_NEG_INF = -math.inf


def fold_blocks(points: Sequence[_Point]) -> list[BlockRow]:
    """Fold points into one row per (run_pk, key, block): min, max, first/last step and time, last, count."""
    folded: dict[tuple[int, str, int], list[Any]] = {}
    get = folded.get
    for run_pk, key, value, timestamp, step in points:
        block = step // BLOCK_STEPS
        nan = value != value
        entry = get((run_pk, key, block))
        if entry is None:
            # min, max, first_step, last_step, first_ts, last_ts, last order value, last value, count
            real = None if nan else value
            folded[(run_pk, key, block)] = [
                real,
                real,
                step,
                step,
                timestamp,
                timestamp,
                _NEG_INF if nan else value,
                value,
                1,
            ]
            continue
        if not nan:
            if entry[0] is None or value < entry[0]:
                entry[0] = value
            if entry[1] is None or value > entry[1]:
                entry[1] = value
        if step < entry[2]:
            entry[2] = step
        if timestamp < entry[4]:
            entry[4] = timestamp
        order_value = _NEG_INF if nan else value
        if (step, timestamp, order_value) >= (entry[3], entry[5], entry[6]):
            entry[3], entry[5], entry[6], entry[7] = step, timestamp, order_value, value
        entry[8] += 1
    return [
        (run_pk, key, block, e[0], e[1], e[2], e[3], e[4], e[5], None if e[7] != e[7] else e[7], e[8])
        for (run_pk, key, block), e in folded.items()
    ]


def upsert_blocks_sql(placeholder: str) -> str:
    """INSERT ... ON CONFLICT DO UPDATE merging a folded block into the stored one (SQLite and PostgreSQL)."""
    marks = ", ".join([placeholder] * 11)
    b, x = "metric_blocks", "excluded"
    newer = (
        f"({x}.last_step > {b}.last_step OR ({x}.last_step = {b}.last_step AND "
        f"({x}.last_timestamp > {b}.last_timestamp OR "
        f"({x}.last_timestamp = {b}.last_timestamp AND {x}.last_value IS NOT NULL AND "
        f"({b}.last_value IS NULL OR {x}.last_value >= {b}.last_value)))))"
    )

    def smaller(column: str, op: str) -> str:
        return (
            f"{column} = CASE WHEN {b}.{column} IS NULL THEN {x}.{column} WHEN {x}.{column} IS NULL "
            f"THEN {b}.{column} WHEN {x}.{column} {op} {b}.{column} THEN {x}.{column} ELSE {b}.{column} END"
        )

    def least(column: str) -> str:
        return f"{column} = CASE WHEN {x}.{column} < {b}.{column} THEN {x}.{column} ELSE {b}.{column} END"

    return (
        f'INSERT INTO {b} (run_pk, "key", block, min_value, max_value, first_step, last_step, '
        f"first_timestamp, last_timestamp, last_value, count) VALUES ({marks}) "
        f'ON CONFLICT (run_pk, "key", block) DO UPDATE SET '
        f"{smaller('min_value', '<')}, {smaller('max_value', '>')}, "
        f"{least('first_step')}, {least('first_timestamp')}, "
        f"last_value = CASE WHEN {newer} THEN {x}.last_value ELSE {b}.last_value END, "
        f"last_timestamp = CASE WHEN {newer} THEN {x}.last_timestamp ELSE {b}.last_timestamp END, "
        f"last_step = CASE WHEN {newer} THEN {x}.last_step ELSE {b}.last_step END, "
        f"count = {b}.count + {x}.count"
    )

"""Metric points: the executemany write path with summary upkeep, and history reads.

Points reach the database through the DBAPI's executemany inside one transaction, never through ORM
objects (the ORM is ~15x slower here). The per-(run, key) summary is folded in Python first, so a
batch of 10,000 points of 10 keys costs 10 summary upserts, not 10,000.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .entities import Metric
from .metric_blocks import write_blocks  # per-block min/max/last for charts (history.py)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .db import Database

# (run_pk, key, value, timestamp, step)
PointRow = tuple[int, str, float, int, int]

_NEG_INF = -math.inf


def _insert_sql(placeholder: str) -> str:
    marks = ", ".join([placeholder] * 5)
    return f'INSERT INTO metrics (run_pk, "key", value, timestamp, step) VALUES ({marks})'


def _summary_sql(placeholder: str) -> str:
    marks = ", ".join([placeholder] * 8)
    s, x = "metric_summaries", "excluded"
    newer = (
        f"({x}.latest_step > {s}.latest_step OR ({x}.latest_step = {s}.latest_step AND "
        f"({x}.latest_timestamp > {s}.latest_timestamp OR "
        f"({x}.latest_timestamp = {s}.latest_timestamp AND {x}.latest_value IS NOT NULL AND "
        f"({s}.latest_value IS NULL OR {x}.latest_value >= {s}.latest_value)))))"
    )
    return (
        f'INSERT INTO {s} (run_pk, "key", latest_value, latest_step, latest_timestamp, '
        "min_value, max_value, count) "
        f'VALUES ({marks}) ON CONFLICT (run_pk, "key") DO UPDATE SET '
        f"latest_value = CASE WHEN {newer} THEN {x}.latest_value ELSE {s}.latest_value END, "
        f"latest_step = CASE WHEN {newer} THEN {x}.latest_step ELSE {s}.latest_step END, "
        f"latest_timestamp = CASE WHEN {newer} THEN {x}.latest_timestamp ELSE {s}.latest_timestamp END, "
        f"min_value = CASE WHEN {s}.min_value IS NULL THEN {x}.min_value WHEN {x}.min_value IS NULL "
        f"THEN {s}.min_value WHEN {x}.min_value < {s}.min_value THEN {x}.min_value ELSE {s}.min_value END, "
        f"max_value = CASE WHEN {s}.max_value IS NULL THEN {x}.max_value WHEN {x}.max_value IS NULL "
        f"THEN {s}.max_value WHEN {x}.max_value > {s}.max_value THEN {x}.max_value ELSE {s}.max_value END, "
        f"count = {s}.count + {x}.count"
    )


def fold_summaries(
    points: Sequence[PointRow],
) -> list[tuple[int, str, float | None, int, int, float | None, float | None, int]]:
    """Per (run_pk, key): latest (greatest step, timestamp, value; NaN lowest), min, max, count."""
    folded: dict[tuple[int, str], list] = {}  # type: ignore[type-arg]
    for run_pk, key, value, timestamp, step in points:
        nan = value != value
        order_value = _NEG_INF if nan else value
        entry = folded.get((run_pk, key))
        if entry is None:
            folded[(run_pk, key)] = [
                step,
                timestamp,
                order_value,
                value,
                None if nan else value,
                None if nan else value,
                1,
            ]
            continue
        if (step, timestamp, order_value) >= (entry[0], entry[1], entry[2]):
            entry[0], entry[1], entry[2], entry[3] = step, timestamp, order_value, value
        if not nan:
            if entry[4] is None or value < entry[4]:
                entry[4] = value
            if entry[5] is None or value > entry[5]:
                entry[5] = value
        entry[6] += 1
    return [
        (run_pk, key, None if e[3] != e[3] else e[3], e[0], e[1], e[4], e[5], e[6])
        for (run_pk, key), e in folded.items()
    ]


def write_points(database: Database, conn: Connection, points: Sequence[PointRow]) -> None:
    """Insert points and upsert their summaries inside the caller's transaction."""
    if not points:
        return
    placeholder = database.paramstyle
    rows = [(pk, key, None if value != value else value, ts, step) for pk, key, value, ts, step in points]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(_insert_sql(placeholder), rows)
        cursor.executemany(_summary_sql(placeholder), fold_summaries(points))
        write_blocks(cursor, placeholder, points)
    finally:
        cursor.close()


def read_history(conn: Connection, run_pk: int, key: str) -> list[Metric]:
    """Every point of one metric of one run, ordered by step then timestamp (NaN as NaN)."""
    from sqlalchemy import text

    result = conn.execute(
        text(
            'SELECT value, timestamp, step FROM metrics WHERE run_pk = :pk AND "key" = :key '
            "ORDER BY step, timestamp, id"
        ),
        {"pk": run_pk, "key": key},
    )
    nan = math.nan
    return [Metric(key, nan if v is None else v, ts, step) for v, ts, step in result]

"""Metric points: the executemany write path with summary upkeep, and history reads.

Points reach the database through the DBAPI's executemany inside one transaction, never through ORM
objects (the ORM is ~15x slower here). The per-(run, key) summary is folded in Python first, so a
batch of 10,000 points of 10 keys costs 10 summary upserts, not 10,000. The hot path avoids
per-point Python work where it can: a batch of one run binds (key, value, timestamp, step) taken
by a C-level itemgetter, with the run's integer key written into the statement; SQLite stores a
bound NaN as NULL by itself, other backends get NaN replaced by NULL in Python.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from runyard.entities import Metric
from runyard.store.metric_blocks import BlockRow, fold_blocks, upsert_blocks_sql  # per-block rows for charts
from runyard.store.recent import merged_blobs, newest_of_batch

if TYPE_CHECKING:
    from runyard.store.db import Database
    from sqlalchemy.engine import Connection

# (run_pk, key, value, timestamp, step)
PointRow = tuple[int, str, float, int, int]
# (run_pk, key, latest_value, latest_step, latest_timestamp, min_value, max_value, count)
SummaryRow = tuple[int, str, float | None, int, int, float | None, float | None, int]

_INF = math.inf
_IN_CHUNK = 900  # stay below SQLite's bound-parameter limit
_run_id_of = itemgetter(0)
_key_value_ts_step = itemgetter(1, 2, 3, 4)
_value_of = itemgetter(2)


def _insert_sql(placeholder: str, run_pk: int | None = None) -> str:
    """The point INSERT; with run_pk, the run's integer key is part of the statement (4 parameters)."""
    first = placeholder if run_pk is None else str(int(run_pk))
    marks = ", ".join([first] + [placeholder] * 4)
    return f'INSERT INTO metrics (run_pk, "key", value, timestamp, step) VALUES ({marks})'


def _summary_sql(placeholder: str) -> str:
    marks = ", ".join([placeholder] * 9)
    s, x = "metric_summaries", "excluded"
    newer = (
        f"({x}.latest_step > {s}.latest_step OR ({x}.latest_step = {s}.latest_step AND "
        f"({x}.latest_timestamp > {s}.latest_timestamp OR "
        f"({x}.latest_timestamp = {s}.latest_timestamp AND {x}.latest_value IS NOT NULL AND "
        f"({s}.latest_value IS NULL OR {x}.latest_value >= {s}.latest_value)))))"
    )
    return (
        f'INSERT INTO {s} (run_pk, "key", latest_value, latest_step, latest_timestamp, '
        "min_value, max_value, count, recent) "
        f'VALUES ({marks}) ON CONFLICT (run_pk, "key") DO UPDATE SET '
        f"latest_value = CASE WHEN {newer} THEN {x}.latest_value ELSE {s}.latest_value END, "
        f"latest_step = CASE WHEN {newer} THEN {x}.latest_step ELSE {s}.latest_step END, "
        f"latest_timestamp = CASE WHEN {newer} THEN {x}.latest_timestamp ELSE {s}.latest_timestamp END, "
        f"min_value = CASE WHEN {s}.min_value IS NULL THEN {x}.min_value WHEN {x}.min_value IS NULL "
        f"THEN {s}.min_value WHEN {x}.min_value < {s}.min_value THEN {x}.min_value ELSE {s}.min_value END, "
        f"max_value = CASE WHEN {s}.max_value IS NULL THEN {x}.max_value WHEN {x}.max_value IS NULL "
        f"THEN {s}.max_value WHEN {x}.max_value > {s}.max_value THEN {x}.max_value ELSE {s}.max_value END, "
        f"count = {s}.count + {x}.count, recent = {x}.recent"
    )


def _point_rows(
    database: Database, points: Sequence[tuple[Any, str, float, int, int]], run_pks: Mapping[Any, int] | None
) -> tuple[str, Iterable[tuple[Any, ...]]]:
    """The INSERT statement and its parameter rows for a batch (NaN as NULL)."""
    placeholder = database.paramstyle
    needs_nan_pass = not database.is_sqlite and _may_have_nan(points)
    if run_pks is not None and len(run_pks) == 1 and not needs_nan_pass:
        (run_pk,) = run_pks.values()
        return _insert_sql(placeholder, run_pk), map(_key_value_ts_step, points)
    if run_pks is None:
        if not needs_nan_pass:
            return _insert_sql(placeholder), points
        return _insert_sql(placeholder), [
            (run, key, None if value != value else value, ts, step) for run, key, value, ts, step in points
        ]
    return _insert_sql(placeholder), [
        (run_pks[run], key, None if value != value else value, ts, step)
        for run, key, value, ts, step in points
    ]


def _may_have_nan(points: Sequence[tuple[Any, str, float, int, int]]) -> bool:
    """True when a value may be NaN (a C-level sum: NaN, or inf plus -inf, gives NaN)."""
    total = sum(map(_value_of, points))
    return total != total


def write_points(database: Database, conn: Connection, points: Sequence[PointRow]) -> None:
    """Insert points (keyed by run_pk) and upsert their summaries inside the caller's transaction."""
    write_buffered(database, conn, points, None)


def write_buffered(
    database: Database,
    conn: Connection,
    points: Sequence[tuple[Any, str, float, int, int]],
    run_pks: Mapping[Any, int] | None,
) -> None:
    """Insert points whose first element is a run id mapped through run_pks (None: it is the run_pk).

    The batch is folded once into metric blocks (metric_blocks.py); the summaries are derived from
    the blocks. Blocks and summaries (with the recent points, recent.py) are upserted in the caller's
    transaction too.
    """
    if not points:
        return
    placeholder = database.paramstyle
    blocks = fold_blocks(points)  # keyed by whatever identifies the run
    newest = newest_of_batch(points, {(b[0], b[1]) for b in blocks})
    if run_pks is not None:
        blocks = [(run_pks[b[0]], *b[1:]) for b in blocks]
        newest = {(run_pks[run], key): found for (run, key), found in newest.items()}
    recent = merged_blobs(conn, newest)
    summaries = [(*row, recent[(row[0], row[1])]) for row in summaries_from_blocks(blocks)]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        insert_sql, rows = _point_rows(database, points, run_pks)
        cursor.executemany(insert_sql, rows)  # type: ignore[arg-type]  # any iterable of rows
        cursor.executemany(upsert_blocks_sql(placeholder), blocks)
        cursor.executemany(_summary_sql(placeholder), summaries)
    finally:
        cursor.close()


def write_run_points(
    database: Database, run_pks: dict[str, int], points: Sequence[tuple[str, str, float, int, int]]
) -> None:
    """Write points keyed by run id in one transaction; run_pks caches run id -> run_pk across calls.

    Raises RunNotFound naming every run of the batch that does not exist (any more); nothing is
    written then. A run purged after its key was cached fails the FOREIGN KEY: its key is forgotten.
    """
    from runyard.exceptions import RunNotFound
    from sqlalchemy.exc import IntegrityError

    if not points:
        return
    run_ids = set(map(_run_id_of, points))
    unknown = run_ids.difference(run_pks)
    if unknown:
        with database.connect() as conn:
            run_pks.update(run_keys(conn, unknown))
    gone = run_ids.difference(run_pks)
    if not gone:
        try:
            with database.connect(write=True) as conn:
                write_buffered(database, conn, points, {run_id: run_pks[run_id] for run_id in run_ids})
            return
        except IntegrityError:
            with database.connect() as conn:
                gone = run_ids.difference(run_keys(conn, run_ids))
            if not gone:
                raise
            for run_id in gone:
                run_pks.pop(run_id, None)
    names = ", ".join(sorted(gone))
    raise RunNotFound(f"Run {names} not found (deleted for good?): its metric points cannot be written.")


def run_keys(conn: Connection, run_ids: Iterable[str]) -> dict[str, int]:
    """run id -> run_pk of the runs among run_ids that exist (any lifecycle stage)."""
    from sqlalchemy import bindparam, text

    statement = text("SELECT run_id, id FROM runs WHERE run_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    ids = sorted(run_ids)
    found: dict[str, int] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        found.update(
            (row[0], int(row[1])) for row in conn.execute(statement, {"ids": ids[start : start + _IN_CHUNK]})
        )
    return found


def summaries_from_blocks(blocks: Iterable[BlockRow]) -> list[SummaryRow]:
    """Per (run_pk, key), the summary of a batch from its folded blocks (one pass over blocks, not points).

    Blocks cover disjoint step ranges, so the latest point of a (run, key) is the last point of its
    highest block; min and max skip all-NaN blocks (NULL); counts add up.
    """
    folded: dict[tuple[int, str], list[Any]] = {}
    for run_pk, key, block, low, high, _fs, last_step, _ft, last_ts, last_value, count in blocks:
        entry = folded.get((run_pk, key))
        if entry is None:
            folded[(run_pk, key)] = [block, last_value, last_step, last_ts, low, high, count]
            continue
        if block > entry[0]:
            entry[0], entry[1], entry[2], entry[3] = block, last_value, last_step, last_ts
        if low is not None and (entry[4] is None or low < entry[4]):
            entry[4] = low
        if high is not None and (entry[5] is None or high > entry[5]):
            entry[5] = high
        entry[6] += count
    return [(pk, key, e[1], e[2], e[3], e[4], e[5], e[6]) for (pk, key), e in folded.items()]


def read_history(conn: Connection, run_pk: int, key: str) -> list[Metric]:
    """Every point of one metric of one run, as MLflow orders them: by timestamp, then step, then value.

    NaN is NaN; among points equal on timestamp and step it sorts as 0, as in MLflow's store. Charts
    read step order through history.py instead.
    """
    from sqlalchemy import text

    result = conn.execute(
        text(
            'SELECT value, timestamp, step FROM metrics WHERE run_pk = :pk AND "key" = :key '
            "ORDER BY step, timestamp, id"
        ),
        {"pk": run_pk, "key": key},
    )
    nan = math.nan
    points = [Metric(key, nan if v is None else v, ts, step) for v, ts, step in result]
    points.sort(key=lambda m: (m.timestamp, m.step, 0.0 if math.isnan(m.value) else m.value))
    return points


def history_rows(conn: Connection, run_pk: int, key: str) -> list[tuple[float | None, int, int]]:
    """(value, timestamp, step) of every point of one metric in read_history's order (NULL value = NaN).

    Raw DBAPI rows without entities: the server streams 100,000-point histories straight to JSON.
    """
    placeholder = "?" if conn.dialect.name == "sqlite" else "%s"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            "SELECT value, timestamp, step FROM metrics "
            f'WHERE run_pk = {placeholder} AND "key" = {placeholder} ORDER BY step, timestamp, id',
            (run_pk, key),
        )
        rows = list(cursor.fetchall())
    finally:
        cursor.close()
    rows.sort(key=lambda row: (row[1], row[2], 0.0 if row[0] is None else row[0]))  # MLflow's order
    return rows


def history_rows_page(
    conn: Connection, run_pk: int, key: str, offset: int, limit: int
) -> list[tuple[float | None, int, int]]:
    """Rows offset..offset+limit of history_rows(conn, run_pk, key), in the same order, sorted and cut by
    the database: a page costs memory for the page only, however long the history."""
    placeholder = "?" if conn.dialect.name == "sqlite" else "%s"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            "SELECT value, timestamp, step FROM metrics "
            f'WHERE run_pk = {placeholder} AND "key" = {placeholder} '
            "ORDER BY timestamp, step, COALESCE(value, 0.0), id "
            f"LIMIT {placeholder} OFFSET {placeholder}",
            (run_pk, key, limit, offset),
        )
        return list(cursor.fetchall())
    finally:
        cursor.close()

"""The runs of a search page: params, tags and metric summaries of up to ~1,000 runs, as Run entities.

This is the hot path of every search page (benchmarks/README.md, "Against MLflow"): most of a page's
CPU time is the driver turning ~25,000 rows into Python objects, then building ~12,000 entities. So:

- raw DBAPI cursors (SQLAlchemy's per-row processing cost more than the queries);
- a page whose run keys form a dense block (the newest runs of a one-experiment store are the last
  run_pks) is read with one range scan over the (run_pk, key) primary key instead of one B-tree
  descent per run; rows of runs not on the page (other experiments, deleted runs) are dropped here;
- entities are frozen dataclasses whose generated __init__ sets each field through
  object.__setattr__: they get their whole `__dict__` at once instead (the same objects: equal,
  hashable, immutable), created by C-level map() calls rather than a Python loop a row;
- the garbage collector is paused while the objects are created (a pass midway costs more than the rest).
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

from runyard.entities import HEARTBEAT_FROM_WRITES, HEARTBEAT_SOURCE, MetricSummary, Run, RunData, RunInfo
from runyard.store.search_sql import PAGE_RUN_COLUMNS

_INFO_FIELDS = tuple(PAGE_RUN_COLUMNS[:-1])
_PK = len(_INFO_FIELDS)  # where runs.id sits in a page row
DENSE_SLACK = 32
"""A page is read by range when its run keys span at most n + n/32 values: measured on 10,000 runs,
a range returning 1.9x the page's rows costs 1.7x the per-run lookups (the driver's per-row cost
dominates), an exact block 0.9x."""


def load_page(conn: Any, dialect: str, rows: Sequence[Sequence[Any]]) -> list[Run]:
    """Runs for page rows (PAGE_RUN_COLUMNS first, in that order), in the rows' order.

    Same entities as `SqlStore.load_runs`: params, tags and metric summaries in three queries (per
    chunk of runs when the page is not dense), inputs and outputs by `load_inputs`.
    """
    if not rows:
        return []
    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of small objects: a collection pass midway costs more than the rest
    try:
        return _load_page(conn, dialect, rows)
    finally:
        if collecting:
            gc.enable()


def run_key_scopes(
    dialect: str, pks: Sequence[int], column: str = "run_pk"
) -> tuple[list[tuple[str, list[Any]]], set[int] | None]:
    """WHERE conditions on a run_pk column (with their bound arguments) that cover these run keys.

    Also the set of keys to keep when a condition returns rows of other runs (None: every row is
    on the page). Dense keys: one `BETWEEN`; otherwise `IN` chunks (SQLite's bound-variable limit)
    or PostgreSQL's `= ANY(array)`.
    """
    marker = "?" if dialect == "sqlite" else "%s"
    low, high = min(pks), max(pks)
    span = high - low + 1
    if span <= len(pks) + len(pks) // DENSE_SLACK:
        keep = None if span == len(set(pks)) else set(pks)
        return [(f"{column} BETWEEN {marker} AND {marker}", [low, high])], keep
    if dialect != "sqlite":
        return [(f"{column} = ANY(%s)", [list(pks)])], None
    from runyard.store.inputs import key_chunks

    chunks = key_chunks(dialect, list(pks))
    return [(f"{column} IN ({', '.join('?' * len(chunk))})", chunk) for chunk in chunks], None


_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_LATEST = itemgetter("latest_value")


def _load_page(conn: Any, dialect: str, rows: Sequence[Sequence[Any]]) -> list[Run]:
    from runyard.store.inputs import load_inputs

    new, set_dict = object.__new__, object.__setattr__
    pks = [row[_PK] for row in rows]
    params: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    tags: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    summaries: dict[int, dict[str, MetricSummary]] = {pk: {} for pk in pks}
    metrics: dict[int, dict[str, float]] = {pk: {} for pk in pks}
    nan = float("nan")
    scopes, keep = run_key_scopes(dialect, pks)
    # Rows come ordered by (run_pk, key) (the primary key's order: no sort step), so every dict is
    # built already sorted by key; PostgreSQL sorts keys by code point as Python does with "C".
    key_order = '"key"' if dialect == "sqlite" else '"key" COLLATE "C"'
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        for where, args in scopes:
            for table, target in (("params", params), ("tags", tags)):
                cursor.execute(
                    f'SELECT run_pk, "key", value FROM {table} WHERE {where} ORDER BY run_pk, {key_order}',
                    args,
                )
                found = cursor.fetchall()
                if keep is not None:
                    found = [row for row in found if row[0] in keep]
                for pk, key, value in found:
                    target[pk][key] = value
            cursor.execute(
                'SELECT run_pk, "key", latest_value, latest_step, latest_timestamp, min_value, max_value, '
                f"count FROM metric_summaries WHERE {where} ORDER BY run_pk, {key_order}",
                args,
            )
            found = cursor.fetchall()
            fields = [
                {
                    "key": key,
                    "latest_value": nan if latest is None else latest,  # NULL stands for NaN
                    "latest_step": step,
                    "latest_timestamp": timestamp,
                    "min_value": nan if low is None else low,
                    "max_value": nan if high is None else high,
                    "count": count,
                }
                for _, key, latest, step, timestamp, low, high, count in found
            ]
            objects = list(map(new, repeat(MetricSummary, len(fields))))
            deque(map(set_dict, objects, repeat("__dict__"), fields), maxlen=0)
            # Rows are sorted by run_pk, so each run's rows come together; rows of runs in the range
            # that are not on the page go to a scratch dict.
            scratch_summaries: dict[str, MetricSummary] = {}
            scratch_metrics: dict[str, float] = {}
            current, run_summaries, run_metrics = None, scratch_summaries, scratch_metrics
            pairs = zip(map(_FIRST, found), map(_SECOND, found), objects, map(_LATEST, fields), strict=True)
            for pk, key, summary, latest in pairs:
                if pk != current:
                    current = pk
                    run_summaries = summaries.get(pk, scratch_summaries)
                    run_metrics = metrics.get(pk, scratch_metrics)
                run_summaries[key] = summary
                run_metrics[key] = latest
    finally:
        cursor.close()
    inputs, outputs = load_inputs(conn, pks)
    # Runs, their RunInfo and RunData: each built by a comprehension or map() over the page, which
    # costs about half of one Python loop doing everything a run.
    count = len(pks)
    infos = list(map(new, repeat(RunInfo, count)))
    datas = list(map(new, repeat(RunData, count)))
    runs: list[Run] = list(map(new, repeat(Run, count)))
    info_fields = list(map(dict, map(zip, repeat(_INFO_FIELDS), rows)))  # zip stops before id and sorts
    for info_dict, pk in zip(info_fields, pks, strict=True):
        info_dict["heartbeat_from_writes"] = tags[pk].get(HEARTBEAT_SOURCE) == HEARTBEAT_FROM_WRITES
    data_fields = [
        {"params": params[pk], "metrics": metrics[pk], "tags": tags[pk], "metric_summaries": summaries[pk]}
        for pk in pks
    ]
    run_fields = [
        {"info": info, "data": data, "inputs": inputs[pk], "outputs": outputs[pk]}
        for info, data, pk in zip(infos, datas, pks, strict=True)
    ]
    for created, their_fields in ((infos, info_fields), (datas, data_fields), (runs, run_fields)):
        deque(map(set_dict, created, repeat("__dict__"), their_fields), maxlen=0)
    return runs

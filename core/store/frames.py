"""The SQL behind metric history DataFrames: run keys resolved, then each (run, key) history in blocks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from runyard.exceptions import RunNotFound
from sqlalchemy import select

from .sql_store import chunked, runs_t

if TYPE_CHECKING:
    from .sql_store import SqlStore


def iter_history_blocks(
    store: SqlStore, run_ids: Sequence[str], keys: Sequence[str] | None, fetch: int
) -> Iterator[tuple[int, str, list[Any]]]:
    """(index of the run in run_ids, key, rows) with rows lists of at most `fetch` (step, timestamp, value).

    Runs come in the order given, each run's keys (all when None, else those it has) by name, each
    history ordered by step, timestamp; the first block of a history may be empty. Raises
    RunNotFound before any block when a run is missing.
    """
    pk_of: dict[str, int] = {}
    with store.db.connect() as conn:
        for chunk in chunked(list(run_ids)):
            for run_id, pk in conn.execute(
                select(runs_t.c.run_id, runs_t.c.id).where(runs_t.c.run_id.in_(list(chunk)))
            ):
                pk_of[run_id] = int(pk)
        missing = [r for r in run_ids if r not in pk_of]
        if missing:
            raise RunNotFound(f"Run {missing[0]!r} not found (and {len(missing) - 1} more).")
        mark = store.db.paramstyle
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            for index, run_id in enumerate(run_ids):
                pk = pk_of[run_id]
                cursor.execute(f'SELECT "key" FROM metric_summaries WHERE run_pk = {mark}', (pk,))
                run_keys = {row[0] for row in cursor.fetchall()}
                for key in sorted(run_keys if keys is None else run_keys.intersection(keys)):
                    cursor.execute(
                        f"SELECT step, timestamp, value FROM metrics WHERE run_pk = {mark} "
                        f'AND "key" = {mark} ORDER BY step, timestamp, id',
                        (pk, key),
                    )
                    yield index, key, cursor.fetchmany(fetch)  # may be empty: every key is seen
                    while rows := cursor.fetchmany(fetch):
                        yield index, key, rows
        finally:
            cursor.close()

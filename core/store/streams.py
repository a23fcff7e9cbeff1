"""Streams out of the store for exports: every metric point of a run, in chunks, through a streaming cursor.

sqlite3 cursors step lazily; on PostgreSQL a named (server-side) cursor streams the rows, so a run of any
size costs one chunk of memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from runyard.exceptions import RunNotFound

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore

CHUNK_POINTS = 65_536

# (key, step, timestamp_ms, value)
PointRow = tuple[str, int, int, float]


def iter_metric_points(store: SqlStore, run_id: str, chunk: int = CHUNK_POINTS) -> Iterator[list[PointRow]]:
    """Every metric point of a run ordered by key, step, timestamp: lists of at most `chunk` rows."""
    try:
        pk = store.run_pk(run_id)
    except RunNotFound:
        raise
    with store.db.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        sqlite = store.db.is_sqlite
        cursor = dbapi.cursor() if sqlite else dbapi.cursor(name=f"runyard_stream_{pk}")
        try:
            cursor.execute(
                f'SELECT "key", step, timestamp, value FROM metrics WHERE run_pk = {store.db.paramstyle} '
                'ORDER BY "key", step, timestamp, id',
                (pk,),
            )
            while rows := cursor.fetchmany(chunk):
                yield rows
        finally:
            cursor.close()

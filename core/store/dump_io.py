"""The SQL of dumps: reading runs for an export (keyset pages, streaming metric cursor) and writing an import.

runyard.interop keeps the file format, the checks and the order of things; these functions hold every
statement. Export reads through one connection (one consistent snapshot); import writes each run in
one transaction that the caller opens with `write_transaction` and ends by leaving the block.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from runyard.entities import DatasetInput, LifecycleStage
from sqlalchemy import insert, select

from . import metrics as metric_store
from .inputs import RunInputs, load_inputs, write_inputs
from .sql_store import chunked, experiment_tags_t, experiments_t, params_t, runs_t, tags_t

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .sql_store import SqlStore

# (key, step, timestamp, value) as the metrics table holds them
MetricRow = tuple[str, int, int, "float | None"]


class DumpReader:
    """Reads the runs of a store for an export, all through one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def run_pages(
        self, experiment_ids: Sequence[str], include_deleted: bool, page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Run rows (dicts of the runs table) of the experiments, page_size at a time, by integer key."""
        if not experiment_ids:
            return
        last_pk = -1
        while True:
            query = select(runs_t).where(runs_t.c.id > last_pk, runs_t.c.experiment_id.in_(experiment_ids))
            if not include_deleted:
                query = query.where(runs_t.c.lifecycle_stage == LifecycleStage.ACTIVE)
            query = query.order_by(runs_t.c.id).limit(page_size)
            rows = [dict(row) for row in self._conn.execute(query).mappings()]
            if not rows:
                return
            yield rows
            last_pk = int(rows[-1]["id"])

    def params_and_tags(
        self, run_pks: Sequence[int]
    ) -> tuple[dict[int, list[tuple[str, str]]], dict[int, list[tuple[str, str]]]]:
        """(params, tags) of runs by integer key: (key, value) lists, every run present."""
        params: dict[int, list[tuple[str, str]]] = {pk: [] for pk in run_pks}
        tags: dict[int, list[tuple[str, str]]] = {pk: [] for pk in run_pks}
        for table, into in ((params_t, params), (tags_t, tags)):
            for pk, key, value in self._conn.execute(
                select(table.c.run_pk, table.c.key, table.c.value).where(table.c.run_pk.in_(run_pks))
            ):
                into[pk].append((key, value))
        return params, tags

    def inputs(self, run_pks: Sequence[int]) -> dict[int, RunInputs]:
        """Dataset and model inputs of runs by integer key."""
        inputs, _ = load_inputs(self._conn, run_pks)
        return inputs

    def console_rows(self, run_pk: int) -> Iterator[tuple[int, int, str, str]]:
        """(seq, timestamp, stream, text) of one run's console chunks, in order."""
        from runyard.store.console import read_chunks

        for chunk in read_chunks(self._conn, run_pk, None, None, newest=False):
            yield chunk.seq, chunk.timestamp, chunk.stream, chunk.text

    def metric_rows(self, run_pk: int, fetch: int) -> Iterator[Sequence[MetricRow]]:
        """Every point of one run ordered by key, step, timestamp, through a streaming DBAPI cursor.

        Yields lists of at most `fetch` (key, step, timestamp, value) rows.
        """
        conn = self._conn
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        sqlite = conn.dialect.name == "sqlite"
        # sqlite3 cursors step lazily; on PostgreSQL a named (server-side) cursor streams the rows.
        cursor = dbapi.cursor() if sqlite else dbapi.cursor(name=f"runyard_export_{run_pk}")
        try:
            cursor.execute(
                'SELECT "key", step, timestamp, value FROM metrics WHERE run_pk = '
                + ("?" if sqlite else "%s")
                + ' ORDER BY "key", step, timestamp, id',
                (run_pk,),
            )
            while rows := cursor.fetchmany(fetch):
                yield rows
        finally:
            cursor.close()


@contextmanager
def open_dump_reader(store: SqlStore) -> Iterator[DumpReader]:
    """A DumpReader on one connection of the store, closed when the block ends."""
    with store.db.connect() as conn:
        yield DumpReader(conn)


def existing_run_ids(store: SqlStore, run_ids: Sequence[str]) -> set[str]:
    """Which of these run ids the store holds (a store not created yet holds none, and stays uncreated)."""
    found: set[str] = set()
    if store.db.is_missing():
        return found
    with store.db.connect() as conn:
        for chunk in chunked(list(run_ids)):
            found.update(
                row[0] for row in conn.execute(select(runs_t.c.run_id).where(runs_t.c.run_id.in_(chunk)))
            )
    return found


class RunTransaction:
    """The statements of one import transaction (a run with its experiment when new)."""

    def __init__(self, store: SqlStore, conn: Connection) -> None:
        self._store = store
        self._conn = conn

    def experiment_by_name(self, name: str) -> tuple[str, str] | None:
        """(experiment id, artifact location) of the experiment with this name, or None."""
        row = self._conn.execute(
            select(experiments_t.c.experiment_id, experiments_t.c.artifact_location).where(
                experiments_t.c.name == name
            )
        ).first()
        return None if row is None else (str(row[0]), str(row[1]))

    def experiment_name_of(self, experiment_id: str) -> str | None:
        """Name of the experiment holding this id, or None when the id is free."""
        row = self._conn.execute(
            select(experiments_t.c.name).where(experiments_t.c.experiment_id == experiment_id)
        ).first()
        return None if row is None else str(row[0])

    def insert_experiment(self, values: dict[str, Any], tags: dict[str, str]) -> None:
        """Insert an experiment row (columns of the experiments table) and its tags."""
        self._conn.execute(insert(experiments_t).values(**values))
        if tags:
            self._conn.execute(
                insert(experiment_tags_t),
                [{"experiment_id": values["experiment_id"], "key": k, "value": v} for k, v in tags.items()],
            )

    def insert_run(self, values: dict[str, Any]) -> int:
        """Insert a run row (columns of the runs table); returns its integer key."""
        key = self._conn.execute(insert(runs_t).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def insert_params(self, run_pk: int, items: Sequence[tuple[str, str]]) -> None:
        """Insert (key, value) params of a run."""
        self._insert_key_values(params_t, run_pk, items)

    def insert_tags(self, run_pk: int, items: Sequence[tuple[str, str]]) -> None:
        """Insert (key, value) tags of a run."""
        self._insert_key_values(tags_t, run_pk, items)

    def _insert_key_values(self, table: Any, run_pk: int, items: Sequence[tuple[str, str]]) -> None:
        if items:
            self._conn.execute(
                insert(table), [{"run_pk": run_pk, "key": key, "value": value} for key, value in items]
            )

    def write_points(self, points: Sequence[tuple[int, str, float, int, int]]) -> None:
        """Insert (run_pk, key, value, timestamp, step) points and their summaries."""
        metric_store.write_points(self._store.db, self._conn, points)

    def insert_console(self, run_pk: int, chunks: Sequence[tuple[int, str, str]]) -> None:
        """Append (timestamp, stream, text) console chunks to a run, in order."""
        from runyard.store.console import append_chunks

        append_chunks(self._conn, run_pk, chunks, None)

    def write_inputs(self, run_pk: int, experiment_id: str, inputs: Sequence[DatasetInput]) -> None:
        """Insert the dataset inputs of a run."""
        write_inputs(self._store, self._conn, run_pk, experiment_id, inputs)


@contextmanager
def write_transaction(store: SqlStore) -> Iterator[RunTransaction]:
    """One write transaction: committed when the block ends, rolled back when it raises."""
    with store.db.connect(write=True) as conn:
        yield RunTransaction(store, conn)

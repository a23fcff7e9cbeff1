"""Params and tags of runs in the SQL store, and log_batch that writes them with metric points at once.

A mixin of SqlStore: params are write-once, a run-name or parent tag also sets the run's column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runyard.exceptions import InvalidInput, ParamImmutable
from runyard.store.tables import Row, params_t, runs_t, tags_t
from runyard.system_tags import (
    PARENT_TAGS,
    RUN_NAME_TAGS,
    TagChanges,
    check_parent,
    is_read_only,
    split_user_tags,
)
from runyard.validation import validate_key, validate_param_value, validate_tag_value
from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore


class RunValueOps:
    """Params and tags of the runs of a SqlStore (mixin: `self` is the SqlStore)."""

    def log_params(
        self: SqlStore, run_id: str, params: Mapping[str, object], conn: Connection | None = None
    ) -> None:
        """Write params; the same value again is fine, a different value is an error (nothing written)."""
        clean = {validate_key(k, "param"): validate_param_value(k, v) for k, v in params.items()}
        if not clean:
            return
        with self._writing(conn) as conn:
            pk = int(self._require_run(conn, run_id, active=True)["id"])
            self._insert_params(conn, pk, run_id, clean)

    def _insert_params(
        self: SqlStore, conn: Connection, pk: int, run_id: str, clean: Mapping[str, str]
    ) -> None:
        existing: dict[str, str] = dict(
            conn.execute(
                select(params_t.c.key, params_t.c.value).where(
                    and_(params_t.c.run_pk == pk, params_t.c.key.in_(list(clean)))
                )
            ).all()
        )
        for key, value in clean.items():
            if key in existing and existing[key] != value:
                raise ParamImmutable(
                    f"Param {key!r} of run {run_id} is already {existing[key]!r}; cannot change it to "
                    f"{value!r} (params are write-once: log a new key or start a new run).",
                    key=key,
                )
        new = [{"run_pk": pk, "key": k, "value": v} for k, v in clean.items() if k not in existing]
        if new:
            # ON CONFLICT DO NOTHING, then compare: another process (say, a second rank of a
            # distributed job) may have written the same keys since the check above (PostgreSQL).
            statement = self._dialect_insert(params_t).on_conflict_do_nothing(
                index_elements=[params_t.c.run_pk, params_t.c.key]
            )
            conn.execute(statement, new)
            stored: dict[str, str] = dict(
                conn.execute(
                    select(params_t.c.key, params_t.c.value).where(
                        and_(params_t.c.run_pk == pk, params_t.c.key.in_([row["key"] for row in new]))
                    )
                ).all()
            )
            for key, value in clean.items():
                if key not in existing and stored.get(key) != value:
                    raise ParamImmutable(
                        f"Param {key!r} of run {run_id} was just set to {stored.get(key)!r} by another "
                        f"writer; cannot change it to {value!r} (params are write-once).",
                        key=key,
                    )

    def set_tags(
        self: SqlStore, run_id: str, tags: Mapping[str, object], conn: Connection | None = None
    ) -> None:
        """Set (or replace) tags of a run."""
        clean = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in tags.items()}
        if not clean:
            return
        changes = split_user_tags(clean)
        with self._writing(conn) as conn:
            self._apply_user_tags(conn, self._require_run(conn, run_id, active=True), changes)

    def _apply_user_tags(self: SqlStore, conn: Connection, row: Row, changes: TagChanges) -> None:
        """Write user tags; a run-name or parent tag changes the run's column too (they always agree)."""
        values: dict[str, Any] = {}
        if changes.run_name is not None:
            values["run_name"] = changes.run_name
        if changes.parent_run_id is not None:

            def lookup(run_id: str) -> tuple[str, str | None] | None:
                found = self._run_row(conn, run_id)
                return (found["experiment_id"], found["parent_run_id"]) if found else None

            check_parent(row["run_id"], row["experiment_id"], changes.parent_run_id, lookup)
            values["parent_run_id"] = changes.parent_run_id
        if values:
            conn.execute(update(runs_t).where(runs_t.c.id == row["id"]).values(**values))
        tags = changes.stored_tags()
        if tags:
            self._upsert(conn, tags_t, int(row["id"]), tags)

    def _upsert(self: SqlStore, conn: Connection, table: Any, pk: int, values: Mapping[str, str]) -> None:
        # One atomic statement: delete-then-insert raced with a concurrent writer of the same key on
        # PostgreSQL (duplicate key error).
        statement = self._dialect_insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.run_pk, table.c.key], set_={"value": statement.excluded.value}
        )
        conn.execute(statement, [{"run_pk": pk, "key": k, "value": v} for k, v in values.items()])

    def delete_tag(self: SqlStore, run_id: str, key: str, conn: Connection | None = None) -> None:
        """Remove a tag; a missing key is an error naming it; a parent tag detaches the run."""
        if key in RUN_NAME_TAGS or is_read_only(key):
            raise InvalidInput(f"Tag {key!r} is written by runyard and cannot be deleted.", key=key)
        with self._writing(conn) as conn:
            pk = int(self._require_run(conn, run_id, active=True)["id"])
            if key in PARENT_TAGS:
                conn.execute(update(runs_t).where(runs_t.c.id == pk).values(parent_run_id=None))
                key = PARENT_TAGS[0]
            result = conn.execute(delete(tags_t).where(and_(tags_t.c.run_pk == pk, tags_t.c.key == key)))
            if result.rowcount == 0:
                raise InvalidInput(f"Run {run_id} has no tag {key!r}.", key=key)

    def log_batch(
        self: SqlStore,
        run_id: str,
        metrics: Sequence[tuple[str, float, int, int]] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        conn: Connection | None = None,
        batch_id: str | None = None,
    ) -> None:
        """Params, tags and metric points (key, value, timestamp, step) in one transaction: all or nothing.

        With a batch id, a batch of this run already stored with that id is a replay: nothing is written.
        """
        from runyard.store.batches import claim_batch, run_batches_t, validate_batch_id
        from runyard.store.metrics import write_points

        if batch_id is not None:
            validate_batch_id(batch_id)
        clean_params = {
            validate_key(k, "param"): validate_param_value(k, v) for k, v in (params or {}).items()
        }
        clean_tags = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in (tags or {}).items()}
        changes = split_user_tags(clean_tags)
        with self._writing(conn) as conn:
            row = self._require_run(conn, run_id, active=True)
            pk = int(row["id"])
            if batch_id is not None and not claim_batch(
                conn, self._dialect_insert(run_batches_t), pk, batch_id
            ):
                return
            if clean_params:
                self._insert_params(conn, pk, run_id, clean_params)
            if clean_tags:
                self._apply_user_tags(conn, row, changes)
            if metrics:
                write_points(self.db, conn, [(pk, key, value, ts, step) for key, value, ts, step in metrics])

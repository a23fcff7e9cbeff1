"""Experiments of the SQL store: create, look up, rename and tag them (a mixin of SqlStore)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from runyard import clock
from runyard.entities import Experiment, LifecycleStage
from runyard.exceptions import ExperimentExists, ExperimentNotFound, InvalidInput, InvalidState
from runyard.store.tables import (
    _EXPERIMENT_BY_ID,
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    Row,
    chunked,
    experiment_tags_t,
    experiments_t,
)
from runyard.store.views import stage_condition
from runyard.validation import validate_experiment_name, validate_key, validate_tag_value
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore


class ExperimentOps:
    """Experiments of a SqlStore (mixin: `self` is the SqlStore)."""

    def create_experiment(
        self: SqlStore,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
        experiment_id: str | None = None,
        creation_time: int | None = None,
    ) -> str:
        """Create an experiment; returns its id. A name in use (even in the trash) is an error."""
        name = validate_experiment_name(name)
        clean_tags = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in (tags or {}).items()}
        experiment_id = experiment_id or uuid.uuid4().hex
        location = artifact_location or f"{self.artifact_root}/{experiment_id}"
        if "://" in location and not location.startswith("file://"):
            raise InvalidInput(
                f"Artifact location {location!r} is not supported: give a local or shared filesystem path "
                "(or a file:// URI) that every machine logging to this store can reach.",
                key=name,
            )
        if not location.startswith(("file://", "/")):
            from pathlib import Path

            location = str(Path(location).absolute())
        timestamp = creation_time if creation_time is not None else clock.now_ms()  # demo: a fixed clock
        try:
            with self.db.connect(write=True) as conn:
                existing = conn.execute(
                    select(experiments_t.c.lifecycle_stage).where(experiments_t.c.name == name)
                ).first()
                if existing is not None:
                    raise _name_taken(name, existing[0])
                conn.execute(
                    insert(experiments_t).values(
                        experiment_id=experiment_id,
                        name=name,
                        artifact_location=location,
                        lifecycle_stage=LifecycleStage.ACTIVE,
                        creation_time=timestamp,
                        last_update_time=timestamp,
                    )
                )
                if clean_tags:
                    conn.execute(
                        insert(experiment_tags_t),
                        [
                            {"experiment_id": experiment_id, "key": k, "value": v}
                            for k, v in clean_tags.items()
                        ],
                    )
        except IntegrityError:
            # Another process created the same name (or id) between our check and insert.
            raise ExperimentExists(f"Experiment {name!r} already exists.", key=name) from None
        return experiment_id

    def get_or_create_experiment(self: SqlStore, name: str, tags: Mapping[str, str] | None = None) -> str:
        """The id of the active experiment with that name, created when missing (race-safe)."""
        name = validate_experiment_name(name)
        self.db.create_if_missing()  # the lookup below must not refuse a store this call will create
        for _ in range(3):
            found = self._experiment_row_by_name(name)
            if found is not None:
                if found["lifecycle_stage"] != LifecycleStage.ACTIVE:
                    raise _name_taken(name, found["lifecycle_stage"])
                return str(found["experiment_id"])
            try:
                experiment_id = DEFAULT_EXPERIMENT_ID if name == DEFAULT_EXPERIMENT_NAME else None
                return self.create_experiment(name, tags=tags, experiment_id=experiment_id)
            except ExperimentExists:
                continue
        raise ExperimentExists(f"Experiment {name!r} could not be created.", key=name)

    def _experiment_row_by_name(self: SqlStore, name: str) -> Row | None:
        with self.db.connect() as conn:
            row = conn.execute(select(experiments_t).where(experiments_t.c.name == name)).mappings().first()
            return dict(row) if row else None

    def get_experiment(self: SqlStore, experiment_id: str) -> Experiment:
        """The experiment with that id (any lifecycle stage)."""
        experiments = self.get_experiments([str(experiment_id)])
        if not experiments:
            raise ExperimentNotFound(f"No experiment with id {experiment_id!r}.")
        return experiments[0]

    def get_experiment_by_name(self: SqlStore, name: str) -> Experiment | None:
        """The experiment with that name, or None (also when the store does not exist yet)."""
        if self.db.is_missing():  # MLflow's "if get_experiment_by_name(n) is None: create" on a new file
            return None
        row = self._experiment_row_by_name(name)
        return self.get_experiment(row["experiment_id"]) if row else None

    def get_experiments(self: SqlStore, experiment_ids: Sequence[str]) -> list[Experiment]:
        """Experiments by id, in the order given (unknown ids are skipped)."""
        with self.db.connect() as conn:
            rows: list[Row] = []
            tags: dict[str, dict[str, str]] = {}
            for chunk in chunked(list(experiment_ids)):
                rows += (
                    conn.execute(select(experiments_t).where(experiments_t.c.experiment_id.in_(chunk)))
                    .mappings()
                    .all()
                )
                for t in conn.execute(
                    select(experiment_tags_t).where(experiment_tags_t.c.experiment_id.in_(chunk))
                ):
                    tags.setdefault(t.experiment_id, {})[t.key] = t.value
        by_id = {
            row["experiment_id"]: _experiment_entity(row, tags.get(row["experiment_id"], {})) for row in rows
        }
        return [by_id[i] for i in experiment_ids if i in by_id]

    def list_experiments(self: SqlStore, view_type: str = "ACTIVE_ONLY") -> list[Experiment]:
        """Every experiment of the lifecycle view, by name."""
        query = (
            select(experiments_t.c.experiment_id)
            .where(stage_condition(experiments_t.c.lifecycle_stage, view_type))
            .order_by(experiments_t.c.name)
        )
        with self.db.connect() as conn:
            ids = [row[0] for row in conn.execute(query)]
        return self.get_experiments(ids)

    def rename_experiment(self: SqlStore, experiment_id: str, new_name: str) -> None:
        """Give an experiment a new (unused) name."""
        new_name = validate_experiment_name(new_name)
        try:
            with self.db.connect(write=True) as conn:
                self._require_experiment(conn, experiment_id)
                clash = conn.execute(
                    select(experiments_t.c.experiment_id, experiments_t.c.lifecycle_stage).where(
                        experiments_t.c.name == new_name
                    )
                ).first()
                if clash is not None and clash[0] != experiment_id:
                    raise _name_taken(new_name, clash[1])
                conn.execute(
                    update(experiments_t)
                    .where(experiments_t.c.experiment_id == experiment_id)
                    .values(name=new_name, last_update_time=clock.now_ms())
                )
        except IntegrityError:
            raise ExperimentExists(f"Experiment {new_name!r} already exists.", key=new_name) from None

    def set_experiment_tag(self: SqlStore, experiment_id: str, key: str, value: str) -> None:
        """Set (or replace) a tag of an experiment."""
        key = validate_key(key, "tag")
        value = validate_tag_value(key, value)
        with self.db.connect(write=True) as conn:
            self._require_experiment(conn, experiment_id)
            statement = self._dialect_insert(experiment_tags_t).values(
                experiment_id=experiment_id, key=key, value=value
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[experiment_tags_t.c.experiment_id, experiment_tags_t.c.key],
                    set_={"value": statement.excluded.value},
                )
            )

    def delete_experiment_tag(self: SqlStore, experiment_id: str, key: str) -> None:
        """Remove a tag of an active experiment; a missing key is an error naming it."""
        with self.db.connect(write=True) as conn:
            experiment = self._require_experiment(conn, experiment_id)
            if experiment["lifecycle_stage"] != LifecycleStage.ACTIVE:
                raise InvalidState(
                    f"Experiment {experiment['name']!r} is in the trash: restore it before editing its tags."
                )
            result = conn.execute(
                delete(experiment_tags_t).where(
                    experiment_tags_t.c.experiment_id == str(experiment_id),
                    experiment_tags_t.c.key == key,
                )
            )
            if result.rowcount == 0:
                raise InvalidInput(f"Experiment {experiment_id} has no tag {key!r}.", key=key)

    def _require_experiment(self: SqlStore, conn: Connection, experiment_id: str) -> Row:
        row = self._fetch_one(conn, _EXPERIMENT_BY_ID, str(experiment_id))
        if row is None:
            raise ExperimentNotFound(f"No experiment with id {experiment_id!r}.")
        return row


def _experiment_entity(row: Row, tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=row["experiment_id"],
        name=row["name"],
        artifact_location=row["artifact_location"],
        lifecycle_stage=row["lifecycle_stage"],
        creation_time=row["creation_time"],
        last_update_time=row["last_update_time"],
        deleted_time=row["deleted_time"],
        tags=dict(sorted(tags.items())),
    )


def _name_taken(name: str, stage: str) -> ExperimentExists:
    if stage == LifecycleStage.DELETED:
        return ExperimentExists(
            f"Experiment {name!r} is in the trash: restore it (`runyard experiments restore`) or purge it "
            "(`runyard gc`) before reusing the name.",
            key=name,
        )
    return ExperimentExists(f"Experiment {name!r} already exists: choose another name.", key=name)

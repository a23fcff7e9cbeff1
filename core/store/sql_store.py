"""The SQL store: runs, store settings and console output here; every read returns plain entities.

Experiments are in `experiments.py` (ExperimentOps), params and tags in `run_values.py` (RunValueOps),
metric points are written by `metrics.py` (the executemany hot path), search by `search.py`, the trash
and garbage collection by `lifecycle.py`; the table handles they share are in `tables.py`. All of them
share this store's Database.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from runyard import clock
from runyard.config import default_artifact_root
from runyard.entities import (
    ConsoleChunk,
    LifecycleStage,
    Metric,
    MetricSummary,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    SourceType,
)
from runyard.exceptions import InvalidInput, InvalidState, RunNotFound
from runyard.store.db import Database, get_database
from runyard.store.experiments import ExperimentOps
from runyard.store.inputs import DatasetInputOps, load_inputs
from runyard.store.logged_models import LoggedModelOps
from runyard.store.operations import StoreOperations
from runyard.store.run_values import RunValueOps

# The shared names, re-exported: modules and tests import them from here.
from runyard.store.tables import _RUN_BY_ID, Row
from runyard.store.tables import DEFAULT_EXPERIMENT_ID as DEFAULT_EXPERIMENT_ID
from runyard.store.tables import DEFAULT_EXPERIMENT_NAME as DEFAULT_EXPERIMENT_NAME
from runyard.store.tables import chunked as chunked
from runyard.store.tables import experiment_tags_t as experiment_tags_t
from runyard.store.tables import experiments_t as experiments_t
from runyard.store.tables import float_or_nan as float_or_nan
from runyard.store.tables import params_t as params_t
from runyard.store.tables import runs_t as runs_t
from runyard.store.tables import summaries_t as summaries_t
from runyard.store.tables import tags_t as tags_t
from runyard.system_tags import PARENT_TAGS, RUN_NAME_TAGS
from runyard.tracking import context as ctx
from runyard.tracking.artifacts import ArtifactRepository, local_path_of
from runyard.validation import validate_key, validate_run_name, validate_tag_value
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection


class SqlStore(ExperimentOps, RunValueOps, StoreOperations, DatasetInputOps, LoggedModelOps):
    """Experiments, runs, params, tags, dataset inputs and logged models in SQL; plain entities out."""

    def __init__(self, tracking_uri: str, artifact_root: str | None = None, must_exist: bool = False) -> None:
        self.tracking_uri = tracking_uri
        self.db: Database = get_database(tracking_uri, must_exist=must_exist)
        self.artifact_root = artifact_root or default_artifact_root(tracking_uri)
        self._run_pks: dict[str, int] = {}

    # ----------------------------------------------------------------- runs
    def create_run(
        self,
        experiment_id: str,
        run_name: str | None,
        user_id: str,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        source_type: str | None = None,
        source_name: str | None = None,
        entry_point: str | None = None,
        source_version: str | None = None,
        status: str = RunStatus.RUNNING,
        run_id: str | None = None,
        conn: Connection | None = None,
    ) -> Run:
        """Create a run in an active experiment; returns it (as get_run would, without reading it back).

        With conn (a server's grouped write), the run is created inside the caller's transaction.
        """
        from runyard.names import memorable_name

        clean_tags = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in (tags or {}).items()}
        # MLflow's tags={"mlflow.runName": ..., "mlflow.parentRunId": ...} set the columns (and runyard.*)
        named = [clean_tags.pop(key) for key in RUN_NAME_TAGS if key in clean_tags]
        parents = [clean_tags.pop(key) for key in PARENT_TAGS if key in clean_tags]
        run_name = run_name if run_name is not None else next((n for n in named if n), None)
        parent_run_id = parent_run_id or next((p for p in parents if p), None)
        name = validate_run_name(run_name) if run_name is not None else memorable_name()
        if status not in RunStatus.ALL:
            raise InvalidInput(f"Invalid status {status!r}: use one of {', '.join(RunStatus.ALL)}.")
        if source_type is not None and source_type not in SourceType.ALL:
            raise InvalidInput(
                f"Invalid source type {source_type!r}: use one of {', '.join(SourceType.ALL)}."
            )
        run_id = run_id or uuid.uuid4().hex
        start = start_time if start_time is not None else clock.now_ms()
        clean_tags[ctx.RUN_NAME] = name  # the tag always agrees with the run_name column
        if parent_run_id:
            clean_tags[ctx.PARENT_RUN_ID] = parent_run_id
        owned = conn is None
        with self._writing(conn) as conn:
            experiment = self._require_experiment(conn, experiment_id)
            if experiment["lifecycle_stage"] != LifecycleStage.ACTIVE:
                raise InvalidState(
                    f"Experiment {experiment['name']!r} is in the trash: restore it before adding runs."
                )
            if parent_run_id is not None and self._run_row(conn, parent_run_id) is None:
                raise RunNotFound(f"Parent run {parent_run_id!r} not found.")
            artifact_uri = (
                f"{str(local_path_of(experiment['artifact_location'])).rstrip('/')}/{run_id}/artifacts"
            )
            row: dict[str, Any] = {
                "run_id": run_id,
                "experiment_id": str(experiment_id),
                "run_name": name,
                "user_id": user_id,
                "status": status,
                "start_time": start,
                "end_time": None,
                "heartbeat_time": start if status == RunStatus.RUNNING else None,
                "lifecycle_stage": LifecycleStage.ACTIVE,
                "deleted_time": None,
                "deletion_id": None,
                "source_type": source_type,
                "source_name": source_name,
                "entry_point": entry_point,
                "source_version": source_version,
                "parent_run_id": parent_run_id,
                "artifact_uri": artifact_uri,
            }
            # The values as parameters of one cached statement (nothing to compile per run).
            inserted = conn.execute(insert(runs_t), row).inserted_primary_key
            assert inserted is not None  # one row inserted: its key
            run_pk = int(inserted[0])
            if clean_tags:
                conn.execute(
                    insert(tags_t), [{"run_pk": run_pk, "key": k, "value": v} for k, v in clean_tags.items()]
                )
        if owned:  # a grouped write may still be rolled back: its run id is cached once it is read
            self._run_pks[run_id] = run_pk
        tags = dict(sorted(clean_tags.items()))
        return Run(info=run_info_entity({"id": run_pk, **row}, tags), data=RunData(tags=tags))

    def _run_row(self, conn: Connection, run_id: str) -> Row | None:
        return self._fetch_one(conn, _RUN_BY_ID, run_id)

    def _fetch_one(
        self, conn: Connection, query: tuple[tuple[str, ...], dict[str, str]], value: str
    ) -> dict[str, Any] | None:
        columns, sql = query
        found = conn.exec_driver_sql(sql[self.db.paramstyle], (value,)).first()
        return dict(zip(columns, found, strict=True)) if found is not None else None

    def _require_run(self, conn: Connection, run_id: str, active: bool = False) -> Row:
        if not isinstance(run_id, str) or not run_id:
            raise RunNotFound(f"Run {run_id!r} not found: give a run id (32 hex characters).")
        row = self._run_row(conn, run_id)
        if row is None:
            raise RunNotFound(f"Run {run_id!r} not found.")
        if active and row["lifecycle_stage"] != LifecycleStage.ACTIVE:
            raise InvalidState(f"Run {run_id!r} is in the trash: restore it before changing it.")
        return row

    def run_pk(self, run_id: str) -> int:
        """The internal integer key of a run (cached; it never changes)."""
        pk = self._run_pks.get(run_id)
        if pk is None:
            with self.db.connect() as conn:
                pk = int(self._require_run(conn, run_id)["id"])
            self._run_pks[run_id] = pk
        return pk

    def existing_run_ids(self, run_ids: Collection[str]) -> set[str]:
        """Which of these runs exist (in any lifecycle stage)."""
        from runyard.store.metrics import run_keys

        with self.db.connect() as conn:
            return set(run_keys(conn, run_ids))

    def write_metric_points(self, points: Sequence[tuple[str, str, float, int, int]]) -> None:
        """Write buffered points (run_id, key, value, timestamp, step) in one transaction: all or nothing.

        Raises RunNotFound naming the runs that do not exist (purged while their points waited).
        """
        from runyard.store.metrics import write_run_points

        write_run_points(self.db, self._run_pks, points)

    # ----------------------------------------------------------------- store settings
    def get_store_settings(self, prefix: str = "") -> dict[str, str]:
        """Settings of the whole store (alert thresholds, ...) whose key starts with prefix."""
        from runyard.store.models import StoreSettingRow

        table = StoreSettingRow.__table__
        query = select(table.c.key, table.c.value)
        if prefix:
            query = query.where(func.substr(table.c.key, 1, len(prefix)) == prefix)
        if self.db.is_missing():
            return {}
        with self.db.connect() as conn:
            return {str(key): str(value) for key, value in conn.execute(query)}

    def set_store_setting(self, key: str, value: str | None) -> None:
        """Set one setting of the store (None removes it, back to the default)."""
        from runyard.store.models import StoreSettingRow

        table = StoreSettingRow.__table__
        if not isinstance(key, str) or not key or len(key) > 250:
            raise InvalidInput(f"Invalid setting name {key!r}: give a name of 1 to 250 characters.")
        with self.db.connect(write=True) as conn:
            conn.execute(delete(table).where(table.c.key == key))
            if value is not None:
                conn.execute(insert(table).values(key=key, value=str(value)))

    # ----------------------------------------------------------------- recent points
    def recent_metrics(
        self, run_ids: Sequence[str], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, list[Metric]]]:
        """run id -> key -> its last points (up to 32, oldest first) for sparklines and alerts, one query."""
        from runyard.store.recent import read_recent

        with self.db.connect() as conn:
            return read_recent(conn, list(run_ids), None if keys is None else list(keys))

    # ----------------------------------------------------------------- console output
    def append_console(
        self, run_id: str, chunks: Sequence[tuple[int, str, str]], max_chars: int | None = None
    ) -> None:
        """Append captured (timestamp_ms, stream, text) to a run; keep at most max_chars (the oldest go)."""
        from runyard.store.console import STREAMS, append_chunks

        for _timestamp, stream, _text in chunks:
            if stream not in STREAMS:
                raise InvalidInput(f"Unknown console stream {stream!r}: use one of {', '.join(STREAMS)}.")
        pk = self.run_pk(run_id)
        with self.db.connect(write=True) as conn:
            append_chunks(conn, pk, chunks, max_chars)

    def get_console(
        self, run_id: str, after_seq: int | None = None, limit: int | None = None, newest: bool = False
    ) -> list[ConsoleChunk]:
        """A run's captured output chunks in order: those after after_seq, the first (newest: last) limit."""
        from runyard.store.console import read_chunks

        with self.db.connect() as conn:
            pk = int(self._require_run(conn, run_id)["id"])
            return read_chunks(conn, pk, after_seq, limit, newest)

    def get_run(self, run_id: str) -> Run:
        """The run with its params, latest metrics (with summaries) and tags."""
        with self.db.connect() as conn:
            row = self._require_run(conn, run_id)
            return self.load_runs(conn, [row])[0]

    def load_runs(self, conn: Connection, rows: Sequence[Row]) -> list[Run]:
        """Entities for run rows, with params, summaries and tags fetched in a constant number of queries."""
        pks = [int(row["id"]) for row in rows]
        params: dict[int, dict[str, str]] = {pk: {} for pk in pks}
        tags: dict[int, dict[str, str]] = {pk: {} for pk in pks}
        summaries: dict[int, dict[str, MetricSummary]] = {pk: {} for pk in pks}
        for chunk in chunked(pks):
            for p in conn.execute(
                select(params_t.c.run_pk, params_t.c.key, params_t.c.value).where(
                    params_t.c.run_pk.in_(chunk)
                )
            ):
                params[p[0]][p[1]] = p[2]
            for t in conn.execute(
                select(tags_t.c.run_pk, tags_t.c.key, tags_t.c.value).where(tags_t.c.run_pk.in_(chunk))
            ):
                tags[t[0]][t[1]] = t[2]
            for s in conn.execute(select(summaries_t).where(summaries_t.c.run_pk.in_(chunk))).mappings():
                summaries[s["run_pk"]][s["key"]] = summary_entity(s)
        inputs, outputs = load_inputs(conn, pks)
        runs = []
        for row in rows:
            pk = int(row["id"])
            run_summaries = {key: summaries[pk][key] for key in sorted(summaries[pk])}
            data = RunData(
                params=dict(sorted(params[pk].items())),
                metrics={key: s.latest_value for key, s in run_summaries.items()},
                tags=dict(sorted(tags[pk].items())),
                metric_summaries=run_summaries,
            )
            runs.append(
                Run(
                    info=run_info_entity(row, data.tags),
                    data=data,
                    inputs=inputs[pk],
                    outputs=outputs[pk],
                )
            )
        return runs

    def update_run(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        clear_end_time: bool = False,
    ) -> None:
        """Change a run's status, end time or name."""
        values: dict[str, Any] = {}
        if status is not None:
            if status not in RunStatus.ALL:
                raise InvalidInput(f"Invalid status {status!r}: use one of {', '.join(RunStatus.ALL)}.")
            values["status"] = status
            if status == RunStatus.RUNNING:
                values["heartbeat_time"] = clock.now_ms()
        if end_time is not None or clear_end_time:
            values["end_time"] = end_time
        if run_name is not None:
            values["run_name"] = validate_run_name(run_name)
        if not values:
            return
        with self.db.connect(write=True) as conn:
            row = self._require_run(conn, run_id)
            conn.execute(update(runs_t).where(runs_t.c.id == row["id"]).values(**values))
            if run_name is not None:
                self._upsert(conn, tags_t, int(row["id"]), {ctx.RUN_NAME: values["run_name"]})

    def heartbeat(self, run_ids: Sequence[str], timestamp: int | None = None) -> None:
        """Record that the processes logging these runs are alive (runyard heartbeats: the short timeout)."""
        if not run_ids:
            return
        with self.db.connect(write=True) as conn:
            self.touch_runs(conn, run_ids, timestamp)
            conn.execute(
                delete(tags_t).where(
                    and_(
                        tags_t.c.run_pk.in_(select(runs_t.c.id).where(runs_t.c.run_id.in_(list(run_ids)))),
                        tags_t.c.key == ctx.HEARTBEAT_SOURCE,
                    )
                )
            )

    def touch_runs(self, conn: Connection, run_ids: Sequence[str], timestamp: int | None = None) -> None:
        """Inside the caller's transaction: a write to these runs is a sign of life of the RUNNING ones."""
        if run_ids:
            # Driver SQL (no statement to build and compile): the server runs this on every grouped write.
            mark = self.db.paramstyle
            conn.exec_driver_sql(
                f"UPDATE runs SET heartbeat_time = {mark} WHERE run_id = {mark} AND status = {mark}",
                [(timestamp or clock.now_ms(), run_id, RunStatus.RUNNING) for run_id in run_ids],
            )

    @contextmanager
    def _writing(self, conn: Connection | None) -> Iterator[Connection]:
        """The caller's connection (a grouped write of the server), else a new write transaction."""
        if conn is not None:
            yield conn
            return
        with self.db.connect(write=True) as new:
            yield new

    def _dialect_insert(self, table: Any) -> Any:
        """INSERT with ON CONFLICT support for this store's backend."""
        if self.db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table)
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)

    def count_runs(
        self, experiment_ids: Sequence[str], lifecycle_stage: str = LifecycleStage.ACTIVE
    ) -> dict[str, int]:
        """Runs per experiment in that lifecycle stage."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(runs_t.c.experiment_id, func.count())
                .where(
                    and_(
                        runs_t.c.experiment_id.in_(list(experiment_ids)),
                        runs_t.c.lifecycle_stage == lifecycle_stage,
                    )
                )
                .group_by(runs_t.c.experiment_id)
            ).all()
        counts = {str(e): 0 for e in experiment_ids}
        counts.update({row[0]: int(row[1]) for row in rows})
        return counts

    # ----------------------------------------------------------------- artifacts
    def artifacts(self, run_id: str) -> ArtifactRepository:
        """The artifact files of a run (a local or shared directory)."""
        return ArtifactRepository(self.get_run(run_id).info.artifact_uri)


def summary_entity(row: Row) -> MetricSummary:
    """A MetricSummary from a metric_summaries row (NULL values are NaN)."""
    return MetricSummary(
        key=row["key"],
        latest_value=float_or_nan(row["latest_value"]),
        latest_step=int(row["latest_step"]),
        latest_timestamp=int(row["latest_timestamp"]),
        min_value=float_or_nan(row["min_value"]),
        max_value=float_or_nan(row["max_value"]),
        count=int(row["count"]),
    )


def run_info_entity(row: Row, tags: Mapping[str, str] | None = None) -> RunInfo:
    """A RunInfo from a runs row (and the run's tags, which say how its liveness is judged)."""
    return RunInfo(
        run_id=row["run_id"],
        run_name=row["run_name"],
        experiment_id=row["experiment_id"],
        user_id=row["user_id"],
        status=row["status"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        lifecycle_stage=row["lifecycle_stage"],
        artifact_uri=row["artifact_uri"],
        deleted_time=row["deleted_time"],
        source_type=row["source_type"],
        source_name=row["source_name"],
        entry_point=row["entry_point"],
        source_version=row["source_version"],
        parent_run_id=row["parent_run_id"],
        heartbeat_time=row["heartbeat_time"],
        heartbeat_from_writes=tags is not None
        and tags.get(ctx.HEARTBEAT_SOURCE) == ctx.HEARTBEAT_FROM_WRITES,
    )


# The write path's modules are imported with the store, never on a thread's first write: a fork (a
# DataLoader worker, a multiprocessing pool) while another thread imports a module leaves that module's
# import lock held in the child, whose first write would then wait forever.
import runyard.store.batches  # noqa: E402, F401
import runyard.store.console  # noqa: E402, F401
import runyard.store.metrics  # noqa: E402, F401
import runyard.store.recent  # noqa: E402, F401

"""Logged models in SQL (MLflow 3's /logged-models): create, get, finalize, tags, params, metrics, search.

A model logged from a run keeps its files among the run's artifacts, under `<run artifacts>/<name>`
(`<run artifacts>/models/<model_id>` when another model of the run took that name first), so
`runs:/<run_id>/<name>` and runyard's artifact views find them; a model without a run lives under
`<experiment artifacts>/models/<model_id>/artifacts`, as in MLflow. Experiments hold few models, so
search reads an experiment's models and filters them with the search language's reference semantics.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from runyard.entities import LifecycleStage, LoggedModel, LoggedModelMetric, LoggedModelStatus, PagedList
from runyard.exceptions import InvalidInput, InvalidState, LoggedModelNotFound, RunNotFound
from runyard.store.models import LoggedModelMetricRow, LoggedModelParamRow, LoggedModelRow, LoggedModelTagRow
from runyard.tracking.artifacts import local_path_of
from runyard.validation import (
    validate_key,
    validate_metric_value,
    validate_param_value,
    validate_step,
    validate_tag_value,
    validate_timestamp,
)
from sqlalchemy import and_, delete, insert, select, update

if TYPE_CHECKING:
    from runyard.search.parser import Node, OrderKey
    from runyard.store.sql_store import SqlStore
    from runyard.tracking.artifacts import ArtifactRepository
    from sqlalchemy.engine import Connection

models_t = LoggedModelRow.__table__
model_tags_t = LoggedModelTagRow.__table__
model_params_t = LoggedModelParamRow.__table__
model_metrics_t = LoggedModelMetricRow.__table__
CHILD_TABLES = (model_tags_t, model_params_t, model_metrics_t)

MAX_SEARCH_RESULTS = 1000
_BAD_NAME_CHARACTERS = ("/", ":", ".", "%", '"', "'")  # MLflow's rule: the name is a path segment
_NUMERIC = frozenset({"creation_timestamp", "last_updated_timestamp"})
_STRINGS = frozenset({"name", "model_id", "model_type", "status", "source_run_id"})


def _now() -> int:
    from runyard.clock import now_ms

    return now_ms()


def validate_model_name(name: object) -> str:
    """A model name is a non-empty path segment of at most 500 characters (MLflow's rule)."""
    if not isinstance(name, str) or not name or any(char in name for char in _BAD_NAME_CHARACTERS):
        raise InvalidInput(
            f"Invalid model name {name!r}: use a non-empty name without any of / : . % \" '.", key="name"
        )
    if len(name) > 500:
        raise InvalidInput(f"Model name is {len(name)} characters long; the limit is 500.", key="name")
    return name


def _status(status: object) -> str:
    if status not in LoggedModelStatus.ALL:
        raise InvalidInput(
            f"Invalid logged model status {status!r}: use one of {', '.join(LoggedModelStatus.ALL)}."
        )
    return str(status)


def _require_model(conn: Connection, model_id: str, allow_deleted: bool = True) -> dict[str, Any]:
    if not isinstance(model_id, str) or not model_id:
        raise LoggedModelNotFound(f"Logged model {model_id!r} not found: give a model id such as m-1a2b...")
    row = conn.execute(select(models_t).where(models_t.c.model_id == model_id)).mappings().first()
    if row is None or (not allow_deleted and row["lifecycle_stage"] != LifecycleStage.ACTIVE):
        raise LoggedModelNotFound(f"Logged model {model_id!r} not found.")
    return dict(row)


def _artifact_location(
    conn: Connection, experiment_location: str, run: Mapping[str, Any] | None, name: str, model_id: str
) -> str:
    if run is None:
        return f"{str(local_path_of(experiment_location)).rstrip('/')}/models/{model_id}/artifacts"
    run_root = str(run["artifact_uri"]).rstrip("/")
    taken = conn.execute(
        select(models_t.c.id).where(and_(models_t.c.run_pk == run["id"], models_t.c.name == name))
    ).first()
    return f"{run_root}/models/{model_id}" if taken is not None else f"{run_root}/{name}"


def create_logged_model(
    store: SqlStore,
    experiment_id: str,
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    model_type: str | None = None,
) -> LoggedModel:
    """Create a PENDING model in an active experiment (name: a memorable one when None)."""
    from runyard.names import memorable_name

    clean_name = validate_model_name(name) if name is not None else memorable_name()
    clean_tags = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in (tags or {}).items()}
    clean_params = {validate_key(k, "param"): validate_param_value(k, v) for k, v in (params or {}).items()}
    if model_type is not None and (not isinstance(model_type, str) or len(model_type) > 500):
        raise InvalidInput("model_type must be a string of at most 500 characters.", key="model_type")
    model_id = f"m-{uuid.uuid4().hex}"
    now = _now()
    with store.db.connect(write=True) as conn:
        experiment = store._require_experiment(conn, str(experiment_id))
        if experiment["lifecycle_stage"] != LifecycleStage.ACTIVE:
            raise InvalidState(
                f"Experiment {experiment['name']!r} is in the trash: restore it before adding models."
            )
        run = None
        if source_run_id:
            run = store._run_row(conn, source_run_id)
            if run is None:
                raise RunNotFound(f"Source run {source_run_id!r} not found.")
        location = _artifact_location(conn, experiment["artifact_location"], run, clean_name, model_id)
        result = conn.execute(
            insert(models_t).values(
                model_id=model_id,
                experiment_id=str(experiment_id),
                run_pk=None if run is None else run["id"],
                name=clean_name,
                artifact_location=location,
                creation_time=now,
                last_updated_time=now,
                status=LoggedModelStatus.PENDING,
                lifecycle_stage=LifecycleStage.ACTIVE,
                model_type=model_type or None,
                source_run_id=source_run_id or None,
            )
        )
        model_pk = int(result.inserted_primary_key[0])
        if clean_tags:
            conn.execute(
                insert(model_tags_t),
                [{"model_pk": model_pk, "key": k, "value": v} for k, v in clean_tags.items()],
            )
        if clean_params:
            conn.execute(
                insert(model_params_t),
                [{"model_pk": model_pk, "key": k, "value": v} for k, v in clean_params.items()],
            )
    return get_logged_model(store, model_id)


def get_logged_model(store: SqlStore, model_id: str, allow_deleted: bool = False) -> LoggedModel:
    """The model with its tags, params and metrics; a deleted one only with allow_deleted."""
    with store.db.connect() as conn:
        row = _require_model(conn, model_id, allow_deleted)
        return _entities(conn, [row])[0]


def finalize_logged_model(store: SqlStore, model_id: str, status: str) -> LoggedModel:
    """Set the upload status (READY once the files are in place, FAILED otherwise); returns the model."""
    clean = _status(status)
    with store.db.connect(write=True) as conn:
        row = _require_model(conn, model_id, allow_deleted=False)
        conn.execute(
            update(models_t).where(models_t.c.id == row["id"]).values(status=clean, last_updated_time=_now())
        )
    return get_logged_model(store, model_id)


def _touch(conn: Connection, model_pk: int) -> None:
    conn.execute(update(models_t).where(models_t.c.id == model_pk).values(last_updated_time=_now()))


def set_logged_model_tags(store: SqlStore, model_id: str, tags: Mapping[str, object]) -> None:
    """Set or replace tags of a model."""
    clean = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in tags.items()}
    with store.db.connect(write=True) as conn:
        pk = int(_require_model(conn, model_id, allow_deleted=False)["id"])
        if clean:
            statement = store._dialect_insert(model_tags_t)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[model_tags_t.c.model_pk, model_tags_t.c.key],
                    set_={"value": statement.excluded.value},
                ),
                [{"model_pk": pk, "key": k, "value": v} for k, v in clean.items()],
            )
            _touch(conn, pk)


def delete_logged_model_tag(store: SqlStore, model_id: str, key: str) -> None:
    """Remove a tag of a model; a missing key is an error naming it."""
    with store.db.connect(write=True) as conn:
        pk = int(_require_model(conn, model_id, allow_deleted=False)["id"])
        result = conn.execute(
            delete(model_tags_t).where(and_(model_tags_t.c.model_pk == pk, model_tags_t.c.key == key))
        )
        if result.rowcount == 0:
            raise InvalidInput(f"Logged model {model_id} has no tag {key!r}.", key=key)
        _touch(conn, pk)


def log_logged_model_params(store: SqlStore, model_id: str, params: Mapping[str, object]) -> None:
    """Write params of a model; the same value again is fine, a different one an error (write-once)."""
    clean = {validate_key(k, "param"): validate_param_value(k, v) for k, v in params.items()}
    with store.db.connect(write=True) as conn:
        pk = int(_require_model(conn, model_id, allow_deleted=False)["id"])
        existing: dict[str, str] = dict(
            conn.execute(
                select(model_params_t.c.key, model_params_t.c.value).where(model_params_t.c.model_pk == pk)
            ).all()
        )
        for key, value in clean.items():
            if key in existing and existing[key] != value:
                raise InvalidInput(
                    f"Param {key!r} of model {model_id} is already {existing[key]!r}; params are write-once.",
                    key=key,
                )
        new = [{"model_pk": pk, "key": k, "value": v} for k, v in clean.items() if k not in existing]
        if new:
            conn.execute(
                store._dialect_insert(model_params_t).on_conflict_do_nothing(
                    index_elements=[model_params_t.c.model_pk, model_params_t.c.key]
                ),
                new,
            )


def log_logged_model_metrics(store: SqlStore, model_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
    """Append metric points to a model (MLflow writes them when log_batch names a model_id)."""
    rows = []
    for metric in metrics:
        key = validate_key(metric.key, "metric")
        value = validate_metric_value(key, metric.value)
        rows.append(
            {
                "key": key,
                "value": None if value != value else value,  # NaN is stored as NULL
                "timestamp": validate_timestamp(key, metric.timestamp) or _now(),
                "step": validate_step(key, metric.step),
                "run_id": metric.run_id,
                "dataset_name": metric.dataset_name,
                "dataset_digest": metric.dataset_digest,
            }
        )
    with store.db.connect(write=True) as conn:
        pk = int(_require_model(conn, model_id, allow_deleted=False)["id"])
        if rows:
            conn.execute(insert(model_metrics_t), [{"model_pk": pk, **row} for row in rows])


def delete_logged_model(store: SqlStore, model_id: str) -> None:
    """Move a model to the trash (hidden from get and search; gc removes it with its run)."""
    with store.db.connect(write=True) as conn:
        pk = int(_require_model(conn, model_id, allow_deleted=False)["id"])
        conn.execute(
            update(models_t)
            .where(models_t.c.id == pk)
            .values(lifecycle_stage=LifecycleStage.DELETED, last_updated_time=_now())
        )


def purge_models(conn: Connection, condition: Any) -> None:
    """Delete the models matching a condition on logged_models, with their tags, params and metrics."""
    pks = select(models_t.c.id).where(condition)
    for table in CHILD_TABLES:
        conn.execute(delete(table).where(table.c.model_pk.in_(pks)))
    conn.execute(delete(models_t).where(condition))


def _entities(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[LoggedModel]:
    pks = [int(row["id"]) for row in rows]
    tags: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    params: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    metrics: dict[int, list[LoggedModelMetric]] = {pk: [] for pk in pks}
    for start in range(0, len(pks), 900):
        chunk = pks[start : start + 900]
        for table, target in ((model_tags_t, tags), (model_params_t, params)):
            for pk, key, value in conn.execute(
                select(table.c.model_pk, table.c.key, table.c.value)
                .where(table.c.model_pk.in_(chunk))
                .order_by(table.c.key)
            ):
                target[pk][key] = value
        for metric in conn.execute(
            select(model_metrics_t)
            .where(model_metrics_t.c.model_pk.in_(chunk))
            .order_by(model_metrics_t.c.id)
        ).mappings():
            metrics[metric["model_pk"]].append(
                LoggedModelMetric(
                    key=metric["key"],
                    value=float("nan") if metric["value"] is None else float(metric["value"]),
                    timestamp=int(metric["timestamp"]),
                    step=int(metric["step"]),
                    run_id=metric["run_id"],
                    dataset_name=metric["dataset_name"],
                    dataset_digest=metric["dataset_digest"],
                )
            )
    return [
        LoggedModel(
            model_id=row["model_id"],
            experiment_id=row["experiment_id"],
            name=row["name"],
            artifact_location=row["artifact_location"],
            creation_timestamp=int(row["creation_time"]),
            last_updated_timestamp=int(row["last_updated_time"]),
            status=row["status"],
            status_message=row["status_message"],
            model_type=row["model_type"],
            source_run_id=row["source_run_id"],
            lifecycle_stage=row["lifecycle_stage"],
            tags=tags[int(row["id"])],
            params=params[int(row["id"])],
            metrics=metrics[int(row["id"])],
        )
        for row in rows
    ]


# ---------------------------------------------------------------------------- search


def _schema() -> Any:
    from runyard.search.parser import _Schema

    return _Schema(
        frozenset({"metric", "param", "tag", "attribute"}),
        _NUMERIC,
        _STRINGS,
        frozenset({"name", "model_id", "status", "source_run_id", "model_type"}),
        frozenset({"model_type", "source_run_id"}),
        "name, model_id, model_type, status, source_run_id, creation_timestamp, last_updated_timestamp",
        {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"},
        "name",
    )


def _parse(filter_string: str | None, order_by: Sequence[str] | None) -> tuple[Node | None, list[OrderKey]]:
    from runyard.search.parser import _parse_order_clause, _Parser

    schema = _schema()
    node = None
    if filter_string and filter_string.strip():
        parser = _Parser(filter_string, schema=schema)
        node = parser.parse_or(None)
        parser.expect_end()
    order = [_parse_order_clause(clause, schema) for clause in (order_by or [])]
    return node, order


def _value(model: LoggedModel, entity: str, key: str) -> Any:
    if entity == "tag":
        return model.tags.get(key)
    if entity == "param":
        return model.params.get(key)
    if entity == "metric":
        points = [m for m in model.metrics if m.key == key]
        return max(points, key=lambda m: (m.step, m.timestamp)).value if points else None
    return getattr(model, key)


def _matches(node: Node | None, model: LoggedModel) -> bool:
    from runyard.search.evaluate import _evaluate

    return _evaluate(node, lambda comparison: _value(model, comparison.entity, comparison.key))


def search_logged_models(
    store: SqlStore,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    max_results: int = 100,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> PagedList:
    """Active models of the experiments matching the filter (`name = 'x' AND status = 'READY'`,
    `tags.k = 'v'`, `metrics.acc > 0.9`, ...), newest first unless order_by says otherwise; paged."""
    from runyard.search.evaluate import _sorted

    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= MAX_SEARCH_RESULTS
    ):
        raise InvalidInput(f"max_results must be an integer between 1 and {MAX_SEARCH_RESULTS}.")
    if isinstance(order_by, str):
        order_by = [order_by]
    node, order = _parse(filter_string, order_by)
    fingerprint = json.dumps([sorted(map(str, experiment_ids)), filter_string or "", list(order_by or [])])
    offset = _decode_token(page_token, fingerprint) if page_token else 0
    ids = [str(experiment_id) for experiment_id in experiment_ids]
    with store.db.connect() as conn:
        rows = (
            [
                dict(row)
                for row in conn.execute(
                    select(models_t).where(
                        and_(
                            models_t.c.experiment_id.in_(ids),
                            models_t.c.lifecycle_stage == LifecycleStage.ACTIVE,
                        )
                    )
                ).mappings()
            ]
            if ids
            else []
        )
        found = _entities(conn, rows)
    matching = [model for model in found if _matches(node, model)]
    from runyard.search.parser import OrderKey

    keys = order or [OrderKey("attribute", "creation_timestamp", ascending=False)]
    ordered = _sorted(matching, keys, lambda m, k: _value(m, k.entity, k.key), lambda m: m.model_id)
    page = ordered[offset : offset + max_results]
    more = offset + max_results < len(ordered)
    token = _encode_token(offset + max_results, fingerprint) if more else None
    return PagedList(page, token)


def _encode_token(offset: int, fingerprint: str) -> str:
    payload = {"o": offset, "f": fingerprint}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_token(token: str, fingerprint: str) -> int:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = payload["o"]
        valid = payload["f"] == fingerprint and isinstance(offset, int) and offset >= 0
    except (ValueError, binascii.Error, UnicodeError, KeyError, TypeError):
        valid = False
    if not valid:
        raise InvalidInput(
            "Invalid page_token: pass the token of the previous page unchanged, with the same search."
        )
    return int(offset)


class LoggedModelOps:
    """SqlStore's logged-model operations (mixed into SqlStore); plain entities in and out."""

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING model in an active experiment; returns it."""
        return create_logged_model(
            cast("SqlStore", self), experiment_id, name, source_run_id, tags, params, model_type
        )

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The model with its tags, params and metrics."""
        return get_logged_model(cast("SqlStore", self), model_id, allow_deleted)

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        """Set the model's status (READY or FAILED once the upload is over); returns it."""
        return finalize_logged_model(cast("SqlStore", self), model_id, status)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, object]) -> None:
        """Set or replace tags of a model."""
        set_logged_model_tags(cast("SqlStore", self), model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag of a model."""
        delete_logged_model_tag(cast("SqlStore", self), model_id, key)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, object]) -> None:
        """Write params of a model (write-once)."""
        log_logged_model_params(cast("SqlStore", self), model_id, params)

    def log_logged_model_metrics(self, model_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        """Append metric points to a model."""
        log_logged_model_metrics(cast("SqlStore", self), model_id, metrics)

    def delete_logged_model(self, model_id: str) -> None:
        """Move a model to the trash."""
        delete_logged_model(cast("SqlStore", self), model_id)

    def logged_model_artifacts(self, model_id: str) -> ArtifactRepository:
        """The model's files (its artifact_location: inside its run's artifacts, or its own directory)."""
        from runyard.tracking.artifacts import ArtifactRepository

        return ArtifactRepository(self.get_logged_model(model_id).artifact_location)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of active models of the experiments matching the filter; `.token` continues."""
        return search_logged_models(
            cast("SqlStore", self), experiment_ids, filter_string, max_results, order_by, page_token
        )

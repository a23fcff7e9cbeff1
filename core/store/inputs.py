"""Dataset inputs and run-model links in SQL: validate, write idempotently, read back per page of runs.

A dataset belongs to an experiment and is unique there by (name, digest), as in MLflow; an input links
a run to a dataset once per context (the `mlflow.data.context` input tag, "" without one), so logging
the same data again for the same purpose changes nothing. Runs read their inputs in three queries per
page of runs (inputs with their datasets, input tags, model links), never one per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from runyard.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    RunInputs,
    RunOutputs,
)
from runyard.exceptions import InvalidInput
from runyard.store.models import DatasetRow, InputRow, InputTagRow, RunModelRow
from sqlalchemy import and_, select

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore
    from sqlalchemy.engine import Connection

datasets_t = DatasetRow.__table__
inputs_t = InputRow.__table__
input_tags_t = InputTagRow.__table__
run_models_t = RunModelRow.__table__

# MLflow's limits (mlflow/utils/validation.py), so what one tool accepts the other stores.
MAX_DATASETS_PER_CALL = 1000
MAX_NAME = 500
MAX_DIGEST = 36
MAX_SOURCE_TYPE = 36
MAX_SOURCE = 65535
MAX_SCHEMA = 1048575
MAX_PROFILE = 16777215
MAX_INPUT_TAG_KEY = 255
MAX_INPUT_TAG_VALUE = 500


def _text(value: Any, what: str, limit: int, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"Dataset {what} must be a string, got {type(value).__name__}.", key=what)
    if required and not value:
        raise InvalidInput(f"Dataset {what} is empty: give every dataset a {what}.", key=what)
    if len(value) > limit:
        raise InvalidInput(f"Dataset {what} is {len(value)} characters long; the limit is {limit}.", key=what)
    return value


def validate_dataset_inputs(datasets: Sequence[DatasetInput]) -> list[DatasetInput]:
    """Check every field against MLflow's limits; duplicates by (name, digest, context) keep the first."""
    if isinstance(datasets, (str, bytes)) or not isinstance(datasets, Sequence):
        raise InvalidInput("datasets must be a list of DatasetInput.")
    if len(datasets) > MAX_DATASETS_PER_CALL:
        raise InvalidInput(
            f"{len(datasets)} dataset inputs in one call; the limit is {MAX_DATASETS_PER_CALL}: "
            "log them in several calls."
        )
    seen: dict[tuple[str, str, str], DatasetInput] = {}
    for item in datasets:
        if not isinstance(item, DatasetInput) or not isinstance(item.dataset, Dataset):
            raise InvalidInput(
                f"Expected a DatasetInput(dataset=Dataset(...), tags=[...]), got {type(item).__name__}."
            )
        dataset = item.dataset
        _text(dataset.name, "name", MAX_NAME)
        _text(dataset.digest, "digest", MAX_DIGEST)
        _text(dataset.source_type, "source_type", MAX_SOURCE_TYPE)
        _text(dataset.source, "source", MAX_SOURCE, required=False)
        if dataset.source is None:
            raise InvalidInput("Dataset source is missing: give where the data came from.", key="source")
        _text(dataset.schema, "schema", MAX_SCHEMA, required=False)
        _text(dataset.profile, "profile", MAX_PROFILE, required=False)
        keys: set[str] = set()
        for tag in item.tags:
            if (
                not isinstance(tag, InputTag)
                or not isinstance(tag.key, str)
                or not isinstance(tag.value, str)
            ):
                raise InvalidInput("Input tags must be InputTag(key, value) with string key and value.")
            if not tag.key or len(tag.key) > MAX_INPUT_TAG_KEY:
                raise InvalidInput(
                    f"Input tag key {tag.key[:40]!r} must be 1 to {MAX_INPUT_TAG_KEY} characters.",
                    key=tag.key,
                )
            if len(tag.value) > MAX_INPUT_TAG_VALUE:
                raise InvalidInput(
                    f"Input tag {tag.key!r} is {len(tag.value)} characters long; the limit is "
                    f"{MAX_INPUT_TAG_VALUE}.",
                    key=tag.key,
                )
            if tag.key in keys:
                raise InvalidInput(f"Input tag {tag.key!r} is given twice for one dataset.", key=tag.key)
            keys.add(tag.key)
        seen.setdefault((dataset.name, dataset.digest, item.context or ""), item)
    return list(seen.values())


def write_inputs(
    store: SqlStore, conn: Connection, run_pk: int, experiment_id: str, datasets: Sequence[DatasetInput]
) -> int:
    """Insert datasets and inputs that are new (race-safe); returns how many inputs were added."""
    added = 0
    for item in datasets:
        dataset = item.dataset
        conn.execute(
            store._dialect_insert(datasets_t)
            .values(
                experiment_id=experiment_id,
                name=dataset.name,
                digest=dataset.digest,
                source_type=dataset.source_type,
                source=dataset.source,
                schema=dataset.schema,
                profile=dataset.profile,
            )
            .on_conflict_do_nothing(
                index_elements=[datasets_t.c.experiment_id, datasets_t.c.name, datasets_t.c.digest]
            )
        )
        dataset_pk = conn.execute(
            select(datasets_t.c.id).where(
                and_(
                    datasets_t.c.experiment_id == experiment_id,
                    datasets_t.c.name == dataset.name,
                    datasets_t.c.digest == dataset.digest,
                )
            )
        ).scalar_one()
        context = item.context or ""
        inserted = conn.execute(
            store._dialect_insert(inputs_t)
            .values(run_pk=run_pk, dataset_pk=dataset_pk, context=context)
            .on_conflict_do_nothing(
                index_elements=[inputs_t.c.run_pk, inputs_t.c.dataset_pk, inputs_t.c.context]
            )
            .returning(inputs_t.c.id)
        ).first()
        if inserted is None:
            continue  # this run already has this dataset in this context
        added += 1
        input_pk = int(inserted[0])
        if item.tags:
            conn.execute(
                input_tags_t.insert(),
                [{"input_pk": input_pk, "name": tag.key, "value": tag.value} for tag in item.tags],
            )
    return added


def write_model_links(
    store: SqlStore, conn: Connection, run_pk: int, direction: str, links: Sequence[tuple[str, int]]
) -> None:
    """Record (model_id, step) links of a run; a link already recorded is kept as is."""
    rows = [
        {"run_pk": run_pk, "model_id": model_id, "direction": direction, "step": step}
        for model_id, step in links
    ]
    if rows:
        conn.execute(
            store._dialect_insert(run_models_t).on_conflict_do_nothing(
                index_elements=[run_models_t.c.run_pk, run_models_t.c.model_id, run_models_t.c.direction]
            ),
            rows,
        )


def key_chunks(dialect: str, items: list[int]) -> list[list[int]]:
    """Integer keys in lists short enough for one `IN (...)` (SQLite's bound-variable limit)."""
    import sqlite3

    if dialect != "sqlite":
        return [items] if items else []
    size = 900 if sqlite3.sqlite_version_info < (3, 32) else 30_000  # SQLite's bound-variable limit
    return [items[start : start + size] for start in range(0, len(items), size)]


def load_inputs(conn: Connection, pks: Sequence[int]) -> tuple[dict[int, RunInputs], dict[int, RunOutputs]]:
    """RunInputs and RunOutputs of runs by integer key: two queries per page (three with datasets).

    Raw DBAPI queries, as in search.load_page: this runs for every page of every search.
    """
    dialect = conn.dialect.name
    unique = list(dict.fromkeys(int(pk) for pk in pks))
    datasets: dict[int, list[tuple[int, Dataset]]] = {}
    tags: dict[int, list[InputTag]] = {}
    model_inputs: dict[int, list[LoggedModelInput]] = {}
    model_outputs: dict[int, list[LoggedModelOutput]] = {}

    from runyard.store.page_load import run_key_scopes

    def where(column: str, chunk: list[int]) -> tuple[str, list[Any]]:
        if dialect == "sqlite":
            return f"{column} IN ({', '.join('?' * len(chunk))})", list(chunk)
        return f"{column} = ANY(%s)", [chunk]

    joined_scopes, keep = run_key_scopes(dialect, unique, "i.run_pk") if unique else ([], None)
    scopes = run_key_scopes(dialect, unique)[0] if unique else []
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        input_pks: list[int] = []
        for (joined, args), (condition, _) in zip(joined_scopes, scopes, strict=True):
            # on run_pk: a range for a dense block of runs, else IN chunks (run_key_scopes)
            cursor.execute(
                'SELECT i.run_pk, i.id, d.name, d.digest, d.source_type, d.source, d."schema", d.profile '
                f"FROM inputs i JOIN datasets d ON d.id = i.dataset_pk WHERE {joined} "
                "ORDER BY i.run_pk, i.id",
                args,
            )
            for run_pk, input_pk, name, digest, source_type, source, schema, profile in cursor.fetchall():
                if keep is not None and run_pk not in keep:
                    continue
                datasets.setdefault(run_pk, []).append(
                    (input_pk, Dataset(name, digest, source_type, source, schema, profile))
                )
                input_pks.append(input_pk)
            cursor.execute(
                f"SELECT run_pk, model_id, direction, step FROM run_models WHERE {condition} "
                "ORDER BY run_pk, step, model_id",
                args,
            )
            for run_pk, model_id, direction, step in cursor.fetchall():
                if keep is not None and run_pk not in keep:
                    continue
                if direction == "output":
                    model_outputs.setdefault(run_pk, []).append(LoggedModelOutput(model_id, int(step)))
                else:
                    model_inputs.setdefault(run_pk, []).append(LoggedModelInput(model_id))
        for chunk in key_chunks(dialect, input_pks):
            condition, args = where("input_pk", chunk)
            cursor.execute(
                f"SELECT input_pk, name, value FROM input_tags WHERE {condition} ORDER BY input_pk, name",
                args,
            )
            for input_pk, name, value in cursor.fetchall():
                tags.setdefault(input_pk, []).append(InputTag(name, value))
    finally:
        cursor.close()
    # Frozen dataclasses given their __dict__ at once, as in page_load (most runs have neither).
    new, set_dict = object.__new__, object.__setattr__
    inputs: dict[int, RunInputs] = {}
    outputs: dict[int, RunOutputs] = {}
    for pk in unique:
        run_inputs = inputs[pk] = new(RunInputs)
        run_outputs = outputs[pk] = new(RunOutputs)
        set_dict(
            run_inputs,
            "__dict__",
            {
                "dataset_inputs": [
                    DatasetInput(dataset, tags.get(input_pk, [])) for input_pk, dataset in datasets[pk]
                ]
                if pk in datasets
                else [],
                "model_inputs": model_inputs.get(pk, []),
            },
        )
        set_dict(run_outputs, "__dict__", {"model_outputs": model_outputs.get(pk, [])})
    return inputs, outputs


def _model_id(model_id: object) -> str:
    if not isinstance(model_id, str) or not model_id or len(model_id) > 64:
        raise InvalidInput(f"Invalid logged model id {model_id!r}: give the model_id of a logged model.")
    return model_id


def _output_step(step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or not -(2**63) <= step < 2**63:
        raise InvalidInput(f"Model output step {step!r} must be a 64-bit integer.")
    return step


class DatasetInputOps:
    """SqlStore's operations on run inputs and outputs (mixed into SqlStore)."""

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> int:
        """Record datasets (and logged models) a run used, once per (run, dataset, context).

        Returns how many dataset inputs were new. Invalid input raises before anything is written.
        """
        store = cast("SqlStore", self)
        clean = validate_dataset_inputs(list(datasets or []))
        model_ids = [_model_id(model.model_id) for model in models or []]
        with store.db.connect(write=True) as conn:
            row = store._require_run(conn, run_id, active=True)
            added = write_inputs(store, conn, int(row["id"]), str(row["experiment_id"]), clean)
            write_model_links(store, conn, int(row["id"]), "input", [(m, 0) for m in model_ids])
        return added

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models a run produced (MLflow's runs/outputs); a link already recorded stays."""
        store = cast("SqlStore", self)
        links = [(_model_id(model.model_id), _output_step(model.step)) for model in models]
        with store.db.connect(write=True) as conn:
            row = store._require_run(conn, run_id, active=True)
            write_model_links(store, conn, int(row["id"]), "output", links)

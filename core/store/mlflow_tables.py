"""Plain SQL against an MLflow tracking database (read only): its tables, experiments, runs and metrics.

runyard.interop.mlflow_sql turns these rows into dump records; runyard.interop.mlflow_import opens and
checks the source. The tables and columns are the ones of MLflow's current schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy
from sqlalchemy import bindparam, text

RUN_COLUMNS = (
    "run_uuid, name, user_id, status, start_time, end_time, deleted_time, lifecycle_stage, "
    "artifact_uri, experiment_id"
)


def open_engine(uri: str) -> Any:
    """An engine on the MLflow database at uri (the caller disposes of it)."""
    return sqlalchemy.create_engine(uri)


def table_names(engine: Any) -> set[str]:
    """Names of the tables of the database."""
    return set(sqlalchemy.inspect(engine).get_table_names())


def deleted_run_times(engine: Any) -> list[tuple[str, int | None]]:
    """(run id, deleted_time) of every deleted run."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT run_uuid, deleted_time FROM runs WHERE lifecycle_stage = 'deleted'")
        ).all()
    return [(row[0], row[1]) for row in rows]


def experiment_rows(conn: Any) -> list[Any]:
    """(id, name, artifact location, lifecycle stage, creation time, last update time) by id."""
    return list(
        conn.execute(
            text(
                "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
                "last_update_time FROM experiments ORDER BY experiment_id"
            )
        ).all()
    )


def experiment_tags(conn: Any) -> dict[str, dict[str, str]]:
    """Tags of every experiment, by experiment id (as text)."""
    tags: dict[str, dict[str, str]] = {}
    for experiment_id, key, value in conn.execute(
        text("SELECT experiment_id, key, value FROM experiment_tags")
    ):
        tags.setdefault(str(experiment_id), {})[key] = value
    return tags


def count_runs(conn: Any, experiment_ids: Sequence[str]) -> int:
    """How many runs those experiments hold (every lifecycle stage)."""
    if not experiment_ids:
        return 0
    query = text("SELECT COUNT(*) FROM runs WHERE experiment_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    return int(conn.execute(query, {"ids": [int(e) for e in experiment_ids]}).scalar_one())


def run_batches(conn: Any, experiment_id: str, batch: int) -> Iterator[list[Any]]:
    """Rows (RUN_COLUMNS) of the runs of one experiment, `batch` at a time (keyset on run_uuid)."""
    last = ""
    while True:
        rows = conn.execute(
            text(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE experiment_id = :experiment AND run_uuid > :after "
                "ORDER BY run_uuid LIMIT :limit"
            ),
            {"experiment": int(experiment_id), "after": last, "limit": batch},
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def values_by_run(conn: Any, table: str, run_ids: list[str]) -> dict[str, dict[str, str]]:
    """Params or tags (table "params" or "tags") of these runs: {run id: {key: value}}, every run present."""
    assert table in ("params", "tags")  # fixed names, never user input
    query = text(f"SELECT run_uuid, key, value FROM {table} WHERE run_uuid IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    found: dict[str, dict[str, str]] = {run_id: {} for run_id in run_ids}
    for run_id, key, value in conn.execute(query, {"ids": run_ids}):
        found[run_id][key] = value
    return found


def metric_rows(conn: Any, run_ids: list[str]) -> Iterator[Any]:
    """Every point of these runs as (run id, key, step, timestamp, value, is_nan), streamed, by run and
    key, each history in MLflow's order (timestamp, step, value)."""
    query = text(
        "SELECT run_uuid, key, step, timestamp, value, is_nan FROM metrics WHERE run_uuid IN :ids "
        "ORDER BY run_uuid, key, timestamp, step, value"
    ).bindparams(bindparam("ids", expanding=True))
    yield from conn.execution_options(stream_results=True, yield_per=20_000).execute(query, {"ids": run_ids})


def dataset_inputs(conn: Any, run_ids: list[str]) -> dict[str, list[tuple[dict[str, Any], dict[str, str]]]]:
    """Dataset inputs of these runs: {run id: [(dataset fields as in entities.Dataset, input tags)]}."""
    query = text(
        "SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, "
        "d.dataset_schema, d.dataset_profile FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
        "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND i.destination_id IN :ids "
        "ORDER BY i.destination_id, i.input_uuid"
    ).bindparams(bindparam("ids", expanding=True))
    rows = conn.execute(query, {"ids": run_ids}).all()
    tags: dict[str, dict[str, str]] = {row[1]: {} for row in rows}
    if tags:
        tag_query = text(
            "SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        for input_uuid, key, value in conn.execute(tag_query, {"ids": list(tags)}):
            tags[input_uuid][key] = value
    found: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = {}
    for run_id, input_uuid, name, digest, source_type, source, schema, profile in rows:
        dataset = {
            "name": name,
            "digest": digest,
            "source_type": source_type,
            "source": source,
            "schema": schema,
            "profile": profile,
        }
        found.setdefault(run_id, []).append((dataset, tags[input_uuid]))
    return found

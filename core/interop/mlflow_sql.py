"""Read an MLflow SQL tracking store (plain SQL in store.mlflow_tables), in streaming batches, into a dump.

MlflowClient costs one query per run and per metric key (20,000 runs with 500,000 points took over
half an hour); reading MLflow's tables directly takes seconds. Used after MLflow's own schema check
(on the copy of a SQLite file, or on a database at MLflow's current schema), so the tables and
columns are the ones this MLflow writes. The records are the ones the client path writes
(mlflow_import.run_record), so both paths import the same data, dataset inputs included.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..exceptions import ExperimentNotFound, StoreError
from .dump import DumpWriter
from .format import CHUNK_POINTS

RUN_BATCH = 500


def _experiments(conn: Any, names: Sequence[str] | None) -> list[dict[str, Any]]:
    """Experiment records (tags mapped as the client path maps them), by id; only `names` if given."""
    from runyard.store.mlflow_tables import experiment_rows, experiment_tags

    from .mlflow_import import experiment_record

    rows = experiment_rows(conn)
    tags = experiment_tags(conn)
    found = {
        row[1]: experiment_record(
            str(row[0]), row[1], row[2], row[3], row[4], row[5], tags.get(str(row[0]), {})
        )
        for row in rows
    }
    if not names:
        return list(found.values())
    chosen = []
    for name in dict.fromkeys(names):
        if name not in found:
            raise ExperimentNotFound(f"No MLflow experiment named {name!r}.")
        chosen.append(found[name])
    return chosen


def dump_database(
    engine: Any,
    writer: DumpWriter,
    existing_run_ids: Callable[[list[str]], set[str]],
    write_artifacts: Callable[[str, str], None],
    experiment_names: Sequence[str] | None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the experiments and runs of an MLflow database into the dump; return the runs skipped.

    existing_run_ids: which of these run ids the target already holds (skipped, as on the client path).
    write_artifacts(run_id, artifact_uri): copies one run's artifacts into the dump.
    progress(done, total): called after each batch of runs.
    """
    from runyard.store.mlflow_tables import count_runs, run_batches

    skipped = done = 0
    try:
        with engine.connect() as conn:
            experiments = _experiments(conn, experiment_names)
            total = count_runs(conn, [e["experiment_id"] for e in experiments])
            if progress is not None:
                progress(0, total)
            for experiment in experiments:
                writer.experiment(experiment)
                for rows in run_batches(conn, experiment["experiment_id"], RUN_BATCH):
                    run_ids = [row[0] for row in rows]
                    present = existing_run_ids(run_ids)
                    wanted = [run_id for run_id in run_ids if run_id not in present]
                    skipped += len(run_ids) - len(wanted)
                    if wanted:
                        _write_batch(conn, writer, [row for row in rows if row[0] not in present], wanted)
                        for row in rows:
                            if row[0] not in present:
                                write_artifacts(row[0], row[8])
                    done += len(rows)
                    if progress is not None:
                        progress(done, total)
    except ExperimentNotFound:
        raise
    except StoreError:
        raise
    except Exception as error:  # noqa: BLE001 - a driver error becomes one clear line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise StoreError(f"Cannot read the MLflow database: {first}") from None
    return skipped


def _write_batch(conn: Any, writer: DumpWriter, rows: list[Any], run_ids: list[str]) -> None:
    """Runs, params, tags and metric chunks of one batch, run by run in the dump's order."""
    from runyard.store.mlflow_tables import dataset_inputs, metric_rows, values_by_run

    from .mlflow_import import run_record

    params = values_by_run(conn, "params", run_ids)
    tags = values_by_run(conn, "tags", run_ids)
    inputs = dataset_inputs(conn, run_ids)
    points = _grouped_points(metric_rows(conn, run_ids))
    pending = next(points, None)
    nan = math.nan
    for run_id, name, user, status, start, end, deleted_time, stage, artifact_uri, experiment_id in rows:
        run_tags = tags[run_id]
        writer.run(
            run_record(
                run_id,
                str(experiment_id),
                name,
                user,
                status,
                start,
                end,
                stage,
                deleted_time,
                artifact_uri,
                run_tags,
            )
        )
        for key, value in sorted(params[run_id].items()):
            writer.param(run_id, key, value)
        for key, value in sorted(_mapped(run_tags).items()):
            writer.tag(run_id, key, value)
        for dataset, input_tags in inputs.get(run_id, []):
            writer.dataset_input(run_id, dataset, input_tags)
        while pending is not None and pending[0] < run_id:  # points of a run not in this batch: none
            pending = next(points, None)
        while pending is not None and pending[0] == run_id:
            _, key, steps, timestamps, values = pending
            for begin in range(0, len(steps), CHUNK_POINTS):
                writer.metric_chunk(
                    run_id,
                    key,
                    steps[begin : begin + CHUNK_POINTS],
                    timestamps[begin : begin + CHUNK_POINTS],
                    [nan if v is None else v for v in values[begin : begin + CHUNK_POINTS]],
                )
            pending = next(points, None)


def _grouped_points(
    rows: Iterator[Any],
) -> Iterator[tuple[str, str, list[int], list[int], list[float | None]]]:
    """(run_id, key, steps, timestamps, values) per metric history, from rows ordered by run and key."""
    current: tuple[str, str] | None = None
    steps: list[int] = []
    timestamps: list[int] = []
    values: list[float | None] = []
    for run_id, key, step, timestamp, value, is_nan in rows:
        if (run_id, key) != current:
            if current is not None:
                yield current[0], current[1], steps, timestamps, values
            current, steps, timestamps, values = (run_id, key), [], [], []
        steps.append(int(step))
        timestamps.append(int(timestamp))
        values.append(None if is_nan else float(value))
    if current is not None:
        yield current[0], current[1], steps, timestamps, values


def _mapped(tags: dict[str, str]) -> dict[str, str]:
    from .mlflow_import import map_tag_key

    return {map_tag_key(key): value for key, value in tags.items()}

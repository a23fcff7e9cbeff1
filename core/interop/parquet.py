"""Export runs as Parquet for Spark, DuckDB and pandas: Hive-style `experiment_id=<id>/` partitions.

OUT_DIR/runs/            one row a run: attributes, then `params.*`, `metrics.*` (latest), `tags.*` columns
OUT_DIR/params/          run_id, key, value           (the same data as key/value tables)
OUT_DIR/tags/            run_id, key, value
OUT_DIR/metrics/         run_id, key, value, step, timestamp, min, max, count   (latest value per key)
OUT_DIR/metric_history/  run_id, key, step, timestamp, value   (every point, streamed in row groups)
OUT_DIR/experiments/     experiment_id, name, lifecycle_stage, creation_time, last_update_time

Only the types Spark reads without options: string, int64, float64 and timestamp[ms, UTC]. Every runs
partition has the same columns (the union over the exported experiments), so readers need no schema merge.
Histories stream run by run in row groups, so memory stays flat whatever the number of points. The export
is written beside OUT_DIR and renamed into place at the end: a failure leaves no half-written directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runyard import clock
from runyard.exceptions import InvalidInput, MissingExtra

if TYPE_CHECKING:
    from runyard.entities import Run
    from runyard.tracking.client import TrackingClient

ROW_GROUP = 131_072
RUN_PAGE = 1_000
TABLES = ("runs", "params", "tags", "metrics", "metric_history", "experiments")


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise MissingExtra("Parquet export needs pyarrow: pip install 'runyard[pandas]'") from None
    return pyarrow, pyarrow.parquet


def export_parquet(
    client: TrackingClient,
    out_dir: str | os.PathLike[str],
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the runs (and their histories) of the experiments to out_dir; returns rows per table."""
    pa, pq = _pyarrow()
    target = Path(out_dir).expanduser().absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"{target} exists and is not empty: choose a new directory for the export.")
    experiments = _experiments(client, experiment_names)
    ids = [experiment.experiment_id for experiment in experiments]
    keys = client.run_keys(ids) if ids else None
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    counts = dict.fromkeys(TABLES, 0)
    try:
        schema = _runs_schema(pa, keys)
        done = 0
        total = sum(client.count_runs(ids).values()) if ids else 0
        for experiment_id in ids:
            writers = _Writers(pa, pq, staging, experiment_id, schema)
            try:
                for runs in _run_pages(client, experiment_id, filter_string):
                    _write_runs(pa, writers, schema, runs, counts)
                    for run in runs:
                        counts["metric_history"] += _write_history(pa, writers, client, run.info.run_id)
                    done += len(runs)
                    if progress is not None:
                        progress(done, total)
            finally:
                writers.close()
        _write_experiments(pa, pq, staging, experiments)
        counts["experiments"] = len(experiments)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def _experiments(client: TrackingClient, names: Sequence[str] | None) -> list[Any]:
    if not names:
        return client.list_experiments()
    found = []
    for name in names:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise InvalidInput(f"No experiment named {name!r}: `runyard experiments list` shows them.")
        found.append(experiment)
    return found


def _run_pages(client: TrackingClient, experiment_id: str, filter_string: str) -> Iterator[list[Run]]:
    token: str | None = None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string, max_results=RUN_PAGE, order_by=None, page_token=token
        )
        if page:
            yield list(page)
        token = page.token
        if not token:
            return


_RUN_COLUMNS = (
    ("run_id", "string"),
    ("run_name", "string"),
    ("status", "string"),
    ("user_id", "string"),
    ("start_time", "timestamp"),
    ("end_time", "timestamp"),
    ("lifecycle_stage", "string"),
    ("parent_run_id", "string"),
    ("source_type", "string"),
    ("source_name", "string"),
    ("source_version", "string"),
    ("artifact_uri", "string"),
)


def _arrow_type(pa: Any, kind: str) -> Any:
    return {
        "string": pa.string(),
        "timestamp": pa.timestamp("ms", tz="UTC"),
        "float": pa.float64(),
        "int": pa.int64(),
    }[kind]


def _runs_schema(pa: Any, keys: Any) -> Any:
    fields = [pa.field(name, _arrow_type(pa, kind)) for name, kind in _RUN_COLUMNS]
    if keys is not None:
        fields += [pa.field(f"params.{key}", pa.string()) for key in keys.params]
        fields += [pa.field(f"metrics.{key}", pa.float64()) for key in keys.metrics]
        fields += [pa.field(f"tags.{key}", pa.string()) for key in keys.tags]
    return pa.schema(fields)


class _Writers:
    """One Parquet file per table in the experiment's partition, opened on first rows."""

    SCHEMAS = {
        "params": (("run_id", "string"), ("key", "string"), ("value", "string")),
        "tags": (("run_id", "string"), ("key", "string"), ("value", "string")),
        "metrics": (
            ("run_id", "string"),
            ("key", "string"),
            ("value", "float"),
            ("step", "int"),
            ("timestamp", "timestamp"),
            ("min", "float"),
            ("max", "float"),
            ("count", "int"),
        ),
        "metric_history": (
            ("run_id", "string"),
            ("key", "string"),
            ("step", "int"),
            ("timestamp", "timestamp"),
            ("value", "float"),
        ),
    }

    def __init__(self, pa: Any, pq: Any, root: Path, experiment_id: str, runs_schema: Any) -> None:
        self.pa, self.pq, self.root, self.experiment_id = pa, pq, root, experiment_id
        self.schemas = {"runs": runs_schema} | {
            name: pa.schema([pa.field(col, _arrow_type(pa, kind)) for col, kind in columns])
            for name, columns in self.SCHEMAS.items()
        }
        self.open: dict[str, Any] = {}

    def write(self, table: str, columns: dict[str, list[Any]]) -> None:
        """Append one row group of columns (by name) to a table of this partition."""
        schema = self.schemas[table]
        batch = self.pa.table({name: columns[name] for name in schema.names}, schema=schema)
        writer = self.open.get(table)
        if writer is None:
            folder = self.root / table / f"experiment_id={self.experiment_id}"
            folder.mkdir(parents=True, exist_ok=True)
            writer = self.pq.ParquetWriter(folder / "part-00000.parquet", schema)
            self.open[table] = writer
        writer.write_table(batch, row_group_size=ROW_GROUP)

    def close(self) -> None:
        """Close every file of the partition."""
        for writer in self.open.values():
            writer.close()
        self.open.clear()


def _write_runs(pa: Any, writers: _Writers, schema: Any, runs: list[Run], counts: dict[str, int]) -> None:
    now = clock.now_ms()
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    params: dict[str, list[Any]] = {"run_id": [], "key": [], "value": []}
    tags: dict[str, list[Any]] = {"run_id": [], "key": [], "value": []}
    latest: dict[str, list[Any]] = {name: [] for name, _ in _Writers.SCHEMAS["metrics"]}
    for run in runs:
        info, data = run.info, run.data
        row = {
            "run_id": info.run_id,
            "run_name": info.run_name,
            "status": "LOST" if info.is_lost(now) else info.status,
            "user_id": info.user_id,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "lifecycle_stage": info.lifecycle_stage,
            "parent_run_id": info.parent_run_id,
            "source_type": info.source_type,
            "source_name": info.source_name,
            "source_version": info.source_version,
            "artifact_uri": info.artifact_uri,
        }
        row.update({f"params.{k}": v for k, v in data.params.items()})
        row.update({f"metrics.{k}": v for k, v in data.metrics.items()})
        row.update({f"tags.{k}": v for k, v in data.tags.items()})
        for name in schema.names:
            columns[name].append(row.get(name))
        for key, value in data.params.items():
            params["run_id"].append(info.run_id)
            params["key"].append(key)
            params["value"].append(value)
        for key, value in data.tags.items():
            tags["run_id"].append(info.run_id)
            tags["key"].append(key)
            tags["value"].append(value)
        for key, summary in data.metric_summaries.items():
            for name, value in (
                ("run_id", info.run_id),
                ("key", key),
                ("value", summary.latest_value),
                ("step", summary.latest_step),
                ("timestamp", summary.latest_timestamp),
                ("min", summary.min_value),
                ("max", summary.max_value),
                ("count", summary.count),
            ):
                latest[name].append(value)
    writers.write("runs", columns)
    counts["runs"] += len(runs)
    for table, data_columns in (("params", params), ("tags", tags), ("metrics", latest)):
        if data_columns["run_id"]:
            writers.write(table, data_columns)
            counts[table] += len(data_columns["run_id"])


def _write_history(pa: Any, writers: _Writers, client: TrackingClient, run_id: str) -> int:
    written = 0
    for rows in client.iter_metric_points(run_id, ROW_GROUP):
        keys, steps, timestamps, values = (list(column) for column in zip(*rows, strict=True))
        writers.write(
            "metric_history",
            {
                "run_id": [run_id] * len(rows),
                "key": keys,
                "step": steps,
                "timestamp": timestamps,
                "value": values,
            },
        )
        written += len(rows)
    return written


def _write_experiments(pa: Any, pq: Any, root: Path, experiments: list[Any]) -> None:
    folder = root / "experiments"
    folder.mkdir(parents=True, exist_ok=True)
    schema = pa.schema(
        [
            pa.field("experiment_id", pa.string()),
            pa.field("name", pa.string()),
            pa.field("lifecycle_stage", pa.string()),
            pa.field("creation_time", pa.timestamp("ms", tz="UTC")),
            pa.field("last_update_time", pa.timestamp("ms", tz="UTC")),
        ]
    )
    table = pa.table(
        {
            "experiment_id": [e.experiment_id for e in experiments],
            "name": [e.name for e in experiments],
            "lifecycle_stage": [e.lifecycle_stage for e in experiments],
            "creation_time": [e.creation_time for e in experiments],
            "last_update_time": [e.last_update_time for e in experiments],
        },
        schema=schema,
    )
    pq.write_table(table, folder / "part-00000.parquet")

"""Export runs of a store to a dump directory, streaming: keyset-paged runs, server-side metric cursors.

Memory stays flat: runs are read a page at a time (by their integer key), params and tags of one
page at a time, and metric points through a streaming cursor written out in chunks of CHUNK_POINTS.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runyard import clock
from runyard.tracking.artifacts import is_temporary

from .. import __version__
from ..config import mask_uri, normalize_tracking_uri
from ..entities import ViewType
from ..exceptions import ExperimentNotFound, InvalidInput
from .format import (
    ARTIFACTS_DIR,
    CHUNK_POINTS,
    ENTITY_FILES,
    FORMAT_NAME,
    FORMAT_VERSION,
    HASH_BLOCK,
    JsonlWriter,
    encode_values,
    write_manifest,
)

if TYPE_CHECKING:
    from runyard.entities import Experiment
    from runyard.store.dump_io import DumpReader
    from runyard.store.interface import Store
    from runyard.store.sql_store import SqlStore

RUN_PAGE = 500
_RUN_FIELDS = (
    "run_id",
    "experiment_id",
    "run_name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "heartbeat_time",
    "lifecycle_stage",
    "deleted_time",
    "source_type",
    "source_name",
    "entry_point",
    "source_version",
    "parent_run_id",
    "deletion_id",
)


@dataclass
class ExportResult:
    """What an export wrote."""

    out_dir: str
    counts: dict[str, int] = field(default_factory=dict)
    metric_points: int = 0
    artifact_bytes: int = 0
    seconds: float = 0.0


class DumpWriter:
    """Opens every entity file of a new dump and writes the manifest on close (used by export and MLflow)."""

    def __init__(self, out_dir: str | os.PathLike[str], source: str) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and (not self.out_dir.is_dir() or any(self.out_dir.iterdir())):
            raise InvalidInput(f"{self.out_dir} exists and is not empty: give a new or empty directory.")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / ARTIFACTS_DIR).mkdir(exist_ok=True)
        self.source = source
        self.writers = {kind: JsonlWriter(self.out_dir / f"{kind}.jsonl") for kind in ENTITY_FILES}
        self.metric_points = 0
        self.artifact_bytes = 0

    def experiment(self, record: dict[str, Any]) -> None:
        """Write one experiment (with a "tags" dict)."""
        self.writers["experiments"].write(record)

    def run(self, record: dict[str, Any]) -> None:
        """Write one run; its params, tags, metrics and artifacts must follow before the next run's."""
        self.writers["runs"].write(record)

    def param(self, run_id: str, key: str, value: str) -> None:
        """Write one param of the current run."""
        self.writers["params"].write({"run_id": run_id, "key": key, "value": value})

    def tag(self, run_id: str, key: str, value: str) -> None:
        """Write one tag of the current run."""
        self.writers["tags"].write({"run_id": run_id, "key": key, "value": value})

    def metric_chunk(
        self, run_id: str, key: str, steps: list[int], timestamps: list[int], values: list[float | None]
    ) -> None:
        """Write up to CHUNK_POINTS points of one metric of the current run, as columns."""
        self.writers["metrics"].write(
            {
                "run_id": run_id,
                "key": key,
                "step": steps,
                "timestamp": timestamps,
                "value": encode_values(values),
            }
        )
        self.metric_points += len(steps)

    def artifact_tree(self, run_id: str, root: Path) -> None:
        """Copy every regular file under root (no symlinks out of it) into the dump, with checksums."""
        if not root.is_dir():
            return
        resolved_root = root.resolve()
        for directory, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                if is_temporary(name):
                    continue  # an artifact write in progress (or cut short by a crash)
                source = Path(directory) / name
                real = source.resolve()
                if resolved_root not in real.parents or not real.is_file():
                    continue  # a symlink leaving the run directory is never exported
                relative = source.relative_to(root).as_posix()
                self.artifact_file(run_id, relative, source)

    def artifact_file(self, run_id: str, relative: str, source: Path) -> None:
        """Copy one artifact file into artifacts/<run_id>/<relative> and record it."""
        target = self.out_dir / ARTIFACTS_DIR / run_id / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with open(source, "rb") as src, open(target, "wb") as dst:
            while block := src.read(HASH_BLOCK):
                digest.update(block)
                dst.write(block)
                size += len(block)
        self.writers["artifacts"].write(
            {"run_id": run_id, "path": relative, "size": size, "sha256": digest.hexdigest()}
        )
        self.artifact_bytes += size

    def dataset_input(self, run_id: str, dataset: dict[str, Any], tags: dict[str, str]) -> None:
        """Write one dataset input of the current run (dataset fields as in entities.Dataset)."""
        self.writers["inputs"].write({"run_id": run_id, "dataset": dataset, "tags": tags})

    def console_chunk(self, run_id: str, seq: int, timestamp: int, stream: str, text: str) -> None:
        """Write one chunk of the current run's captured console output."""
        record = {"run_id": run_id, "seq": seq, "timestamp": timestamp, "stream": stream, "text": text}
        self.writers["console"].write(record)

    def close(self) -> dict[str, int]:
        """Close the files and write manifest.json; returns the line count of each file."""
        for writer in self.writers.values():
            writer.close()
        files = {
            kind: {"file": f"{kind}.jsonl", "count": w.count, "bytes": w.size, "sha256": w.sha256}
            for kind, w in self.writers.items()
        }
        write_manifest(
            self.out_dir,
            {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "runyard_version": __version__,
                "created_time": clock.now_ms(),
                "source": mask_uri(self.source),
                "files": files,
                "metric_points": self.metric_points,
                "artifact_bytes": self.artifact_bytes,
            },
        )
        return {kind: w.count for kind, w in self.writers.items()}

    def abort(self) -> None:
        """Close the files without a manifest (the dump stays marked incomplete)."""
        for writer in self.writers.values():
            writer.close()


def export_runs(
    store: str,
    out_dir: str | os.PathLike[str],
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    include_deleted: bool = False,
    include_artifacts: bool = True,
) -> ExportResult:
    """Write the runs of a store (all, or of the named experiments, matching the filter) to a new dump."""
    from runyard.config import is_remote_uri
    from runyard.store.dump_io import open_dump_reader
    from runyard.store.sql_store import SqlStore

    uri = normalize_tracking_uri(store)
    if is_remote_uri(uri):
        from .remote_dump import export_from_server

        return export_from_server(
            uri, out_dir, experiment_names, filter_string, include_deleted, include_artifacts
        )
    started = time.perf_counter()
    sql_store = SqlStore(uri, must_exist=True)
    experiments = select_experiments(sql_store, experiment_names, include_deleted)
    experiment_ids = [e.experiment_id for e in experiments]
    wanted = _filtered_run_ids(sql_store, experiment_ids, filter_string, include_deleted)

    def write_runs(writer: DumpWriter) -> None:
        with open_dump_reader(sql_store) as reader:
            for page in reader.run_pages(experiment_ids, include_deleted, RUN_PAGE):
                if wanted is not None:
                    page = [row for row in page if row["run_id"] in wanted]
                if page:
                    _write_run_page(reader, writer, page, include_artifacts)

    return write_dump(out_dir, sql_store.tracking_uri, experiments, write_runs, started)


def write_dump(
    out_dir: str | os.PathLike[str],
    source: str,
    experiments: Sequence[Experiment],
    write_runs: Callable[[DumpWriter], None],
    started: float,
) -> ExportResult:
    """A new dump of the experiments, with the runs write_runs(writer) adds; the manifest is written last,
    so that an export that fails leaves a dump marked incomplete."""
    writer = DumpWriter(out_dir, source)
    try:
        for experiment in experiments:
            writer.experiment(experiment_record(experiment))
        write_runs(writer)
        counts = writer.close()
    except BaseException:
        writer.abort()
        raise
    return ExportResult(
        str(writer.out_dir),
        counts,
        writer.metric_points,
        writer.artifact_bytes,
        time.perf_counter() - started,
    )


def experiment_record(experiment: Experiment) -> dict[str, Any]:
    """An experiment as a line of experiments.jsonl."""
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "deleted_time": experiment.deleted_time,
        "tags": experiment.tags,
    }


def select_experiments(store: Store, names: Sequence[str] | None, include_deleted: bool) -> list[Experiment]:
    """The named experiments (a clear error for a missing one), else every one the view shows."""
    if not names:
        return store.list_experiments(ViewType.ALL if include_deleted else ViewType.ACTIVE_ONLY)
    found = []
    for name in dict.fromkeys(names):
        experiment = store.get_experiment_by_name(name)
        if experiment is None:
            raise ExperimentNotFound(f"No experiment named {name!r} in {mask_uri(store.tracking_uri)}.")
        found.append(experiment)
    return found


def _filtered_run_ids(
    store: SqlStore, experiment_ids: list[str], filter_string: str, include_deleted: bool
) -> set[str] | None:
    """The run ids matching a filter (through the query language), or None without a filter."""
    if not filter_string.strip() or not experiment_ids:
        return None
    from runyard.store.search import search_runs_page

    view = ViewType.ALL if include_deleted else ViewType.ACTIVE_ONLY
    matched: set[str] = set()
    token: str | None = None
    while True:
        page = search_runs_page(store, experiment_ids, filter_string, view, 10_000, None, token)
        matched.update(run.info.run_id for run in page)
        token = page.token
        if not token:
            return matched


def _write_run_page(reader: DumpReader, writer: DumpWriter, rows: list[Any], include_artifacts: bool) -> None:
    from runyard.tracking.artifacts import local_path_of

    pks = [int(row["id"]) for row in rows]
    params, tags = reader.params_and_tags(pks)
    inputs = reader.inputs(pks)
    for row in rows:
        pk, run_id = int(row["id"]), row["run_id"]
        record = {name: row[name] for name in _RUN_FIELDS}
        record["artifact_uri"] = row["artifact_uri"]
        writer.run(record)
        for key, value in sorted(params[pk]):
            writer.param(run_id, key, value)
        for key, value in sorted(tags[pk]):
            writer.tag(run_id, key, value)
        _write_metrics(reader, writer, pk, run_id)
        for item in inputs[pk].dataset_inputs:
            writer.dataset_input(run_id, asdict(item.dataset), {tag.key: tag.value for tag in item.tags})
        for seq, timestamp, stream, text in reader.console_rows(pk):
            writer.console_chunk(run_id, seq, timestamp, stream, text)
        if include_artifacts:
            writer.artifact_tree(run_id, local_path_of(row["artifact_uri"]))


def _write_metrics(reader: DumpReader, writer: DumpWriter, run_pk: int, run_id: str) -> None:
    """Every point of one run through the store's streaming cursor, in per-key column chunks."""
    current: str | None = None
    steps: list[int] = []
    timestamps: list[int] = []
    values: list[float | None] = []
    for rows in reader.metric_rows(run_pk, CHUNK_POINTS):
        for key, step, timestamp, value in rows:
            if key != current or len(steps) >= CHUNK_POINTS:
                if steps:
                    writer.metric_chunk(run_id, current or "", steps, timestamps, values)
                current, steps, timestamps, values = key, [], [], []
            steps.append(step)
            timestamps.append(timestamp)
            values.append(value)
    if steps:
        writer.metric_chunk(run_id, current or "", steps, timestamps, values)

"""Import a dump into a store: check everything first, then stream it in, one transaction per run.

Before anything is written, every file's SHA-256 and line count is checked against the manifest,
every record is checked (ids, statuses, lengths, ordering) and every artifact path is checked to stay
inside its run's directory. Then each run is written in one transaction (run, params, tags, metric
points through metric_store.write_points, artifact files): an interrupted import leaves whole runs
only, and running it again skips the runs already there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..artifacts import check_relative_path, local_path_of
from ..config import normalize_tracking_uri
from ..entities import Dataset, DatasetInput, InputTag, LifecycleStage, RunStatus, SourceType
from ..exceptions import InvalidInput, InvalidState, UnsafeArtifactPath
from ..validation import (
    MAX_EXPERIMENT_NAME_LENGTH,
    MAX_KEY_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_RUN_NAME_LENGTH,
    MAX_TAG_VALUE_LENGTH,
)
from .format import (
    ARTIFACTS_DIR,
    ENTITY_FILES,
    HASH_BLOCK,
    OPTIONAL_FILES,
    DumpError,
    all_ints,
    check_experiment_id,
    check_run_id,
    decode_values,
    iter_records,
    read_manifest,
)

if TYPE_CHECKING:
    from ..store import SqlStore

ON_CONFLICT = ("skip", "fail")
_LIFECYCLES = (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
_TIME_FIELDS = ("start_time", "end_time", "heartbeat_time", "deleted_time")
_TEXT_LIMITS = {"source_name": 500, "entry_point": 500, "source_version": 64, "deletion_id": 32}


@dataclass
class ImportResult:
    """What an import did."""

    runs_imported: int = 0
    runs_skipped: int = 0
    experiments_created: int = 0
    experiments_reused: int = 0
    metric_points: int = 0
    artifact_files: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class CheckedDump:
    """A dump that passed every check: its experiments and the order of its runs."""

    in_dir: Path
    manifest: dict[str, Any]
    experiments: list[dict[str, Any]]
    run_order: dict[str, int]


def import_runs(
    store: str,
    in_dir: str | os.PathLike[str],
    on_conflict: str = "skip",
    artifact_root: str | None = None,
) -> ImportResult:
    """Load a dump into a store (created when new); runs already there are skipped, or refused with 'fail'."""
    from ..store import SqlStore

    if on_conflict not in ON_CONFLICT:
        raise InvalidInput(f"on_conflict must be 'skip' or 'fail', not {on_conflict!r}.")
    started = time.perf_counter()
    dump = check_dump(in_dir)
    target = SqlStore(normalize_tracking_uri(store), artifact_root=artifact_root)
    existing = _existing_run_ids(target, list(dump.run_order))
    if existing and on_conflict == "fail":
        shown = ", ".join(sorted(existing)[:5]) + (" ..." if len(existing) > 5 else "")
        raise InvalidState(
            f"{len(existing)} run(s) of the dump already exist in the target store ({shown}); nothing was "
            "imported. Use --on-conflict skip to import only the others."
        )
    result = ImportResult()
    experiment_locations = _map_experiments(target, dump.experiments, result)
    _load_runs(target, dump, existing, experiment_locations, result)
    result.seconds = time.perf_counter() - started
    return result


# ----------------------------------------------------------------- checks (read only)
def check_dump(in_dir: str | os.PathLike[str]) -> CheckedDump:
    """Check manifest, checksums, records and artifact paths of a dump; raises DumpError, writes nothing."""
    path = Path(in_dir)
    manifest = read_manifest(path)
    files = manifest["files"]
    _verify_files(path, files)
    experiments = [_check_experiment(r) for r in iter_records(path / "experiments.jsonl")]
    experiment_ids = {e["experiment_id"] for e in experiments}
    if len(experiment_ids) != len(experiments):
        raise DumpError("The dump lists an experiment id twice: the dump is damaged.")
    run_order: dict[str, int] = {}
    for record in iter_records(path / "runs.jsonl"):
        _check_run(record, experiment_ids)
        if record["run_id"] in run_order:
            raise DumpError(f"Run {record['run_id']} appears twice in runs.jsonl: the dump is damaged.")
        run_order[record["run_id"]] = len(run_order)
    for kind, limit in (("params", MAX_PARAM_VALUE_LENGTH), ("tags", MAX_TAG_VALUE_LENGTH)):
        grouped = _GroupCheck(kind, run_order)
        for record in iter_records(path / f"{kind}.jsonl"):
            grouped.check(record)
            _check_text(record.get("key"), MAX_KEY_LENGTH, f"{kind} key", optional=False)
            _check_text(record.get("value"), limit, f"{kind} value {record.get('key')!r}", optional=False)
            grouped.unique_key(record["key"])
    grouped = _GroupCheck("metrics", run_order)
    for record in iter_records(path / "metrics.jsonl"):
        grouped.check(record)
        _check_text(record.get("key"), MAX_KEY_LENGTH, "metric key", optional=False)
        steps, timestamps, values = record.get("step"), record.get("timestamp"), record.get("value")
        if not (isinstance(steps, list) and isinstance(timestamps, list) and isinstance(values, list)):
            raise DumpError(
                f"A metrics.jsonl line of run {record['run_id']} lacks step/timestamp/value lists."
            )
        if not len(steps) == len(timestamps) == len(values):
            raise DumpError(
                f"Metric {record['key']!r} of run {record['run_id']} has columns of unequal length."
            )
        if not all_ints(steps) or not all_ints(timestamps):
            raise DumpError(
                f"Metric {record['key']!r} of run {record['run_id']} has a non-integer step/time."
            )
        decode_values(values)
    grouped = _GroupCheck("artifacts", run_order)
    for record in iter_records(path / "artifacts.jsonl"):
        grouped.check(record)
        _check_artifact(path, record)
    grouped = _GroupCheck("inputs", run_order)
    for record in iter_records(path / "inputs.jsonl") if (path / "inputs.jsonl").exists() else ():
        grouped.check(record)
        dataset_input(record)
    return CheckedDump(path, manifest, experiments, run_order)


def _verify_files(in_dir: Path, files: dict[str, Any]) -> None:
    """Line count and SHA-256 of every entity file against the manifest, before any record is read."""
    for kind in ENTITY_FILES:
        path = in_dir / f"{kind}.jsonl"  # fixed names: the manifest never chooses a path to read
        if kind in OPTIONAL_FILES and kind not in files and not path.exists():
            continue
        if not path.is_file():
            raise DumpError(f"The dump has no {path.name}: it is incomplete.")
        digest = hashlib.sha256()
        lines = 0
        with open(path, "rb") as handle:
            while block := handle.read(HASH_BLOCK):
                digest.update(block)
                lines += block.count(b"\n")
        entry = files.get(kind) or {}
        if digest.hexdigest() != entry.get("sha256") or lines != entry.get("count"):
            raise DumpError(
                f"{path.name} does not match its checksum in manifest.json (expected {entry.get('count')} "
                f"lines, found {lines}): the dump was changed or damaged. Export it again."
            )


class _GroupCheck:
    """Checks that a file's records name known runs, grouped in runs.jsonl order."""

    def __init__(self, kind: str, run_order: dict[str, int]) -> None:
        self.kind = kind
        self.run_order = run_order
        self.last = -1
        self.keys: set[str] = set()

    def check(self, record: dict[str, Any]) -> None:
        position = self.run_order.get(record.get("run_id"))  # type: ignore[arg-type]
        if position is None:
            raise DumpError(f"{self.kind}.jsonl names run {record.get('run_id')!r}, which runs.jsonl lacks.")
        if position < self.last:
            raise DumpError(f"{self.kind}.jsonl is not grouped in runs.jsonl order: the dump is damaged.")
        if position != self.last:
            self.keys = set()
        self.last = position

    def unique_key(self, key: str) -> None:
        if key in self.keys:
            raise DumpError(f"{self.kind}.jsonl has key {key!r} twice for one run: the dump is damaged.")
        self.keys.add(key)


def _check_text(value: Any, limit: int, what: str, optional: bool = True) -> None:
    """A string of at most limit characters (None allowed when optional; a key must not be empty)."""
    if value is None and optional:
        return
    empty_key = value == "" and what.endswith("key")
    if not isinstance(value, str) or len(value) > limit or empty_key:
        raise DumpError(
            f"Bad {what} {str(value)[:60]!r} in the dump (a string of at most {limit} characters)."
        )


def _check_time(value: Any, what: str) -> None:
    if value is not None and type(value) is not int:
        raise DumpError(f"Bad {what} {value!r} in the dump: expected integer milliseconds or null.")


def _check_experiment(record: dict[str, Any]) -> dict[str, Any]:
    check_experiment_id(record.get("experiment_id"))
    _check_text(record.get("name"), MAX_EXPERIMENT_NAME_LENGTH, "experiment name", optional=False)
    if not record["name"].strip():
        raise DumpError("An experiment of the dump has an empty name.")
    if record.get("lifecycle_stage") not in _LIFECYCLES:
        raise DumpError(f"Bad lifecycle stage {record.get('lifecycle_stage')!r} of an experiment.")
    for name in ("creation_time", "last_update_time", "deleted_time"):
        _check_time(record.get(name), f"experiment {name}")
    tags = record.get("tags") or {}
    if not isinstance(tags, dict):
        raise DumpError(f"Tags of experiment {record['name']!r} are not an object.")
    for key, value in tags.items():
        _check_text(key, MAX_KEY_LENGTH, "experiment tag key", optional=False)
        _check_text(value, MAX_TAG_VALUE_LENGTH, f"experiment tag {key!r}", optional=False)
    return record


def _check_run(record: dict[str, Any], experiment_ids: set[str]) -> None:
    run_id = check_run_id(record.get("run_id"))
    if record.get("experiment_id") not in experiment_ids:
        raise DumpError(f"Run {run_id} names experiment {record.get('experiment_id')!r}, not in the dump.")
    if record.get("status") not in RunStatus.ALL:
        raise DumpError(f"Run {run_id} has an unknown status {record.get('status')!r}.")
    if record.get("lifecycle_stage") not in _LIFECYCLES:
        raise DumpError(f"Run {run_id} has an unknown lifecycle stage {record.get('lifecycle_stage')!r}.")
    if record.get("source_type") is not None and record["source_type"] not in SourceType.ALL:
        raise DumpError(f"Run {run_id} has an unknown source type {record['source_type']!r}.")
    _check_text(record.get("run_name"), MAX_RUN_NAME_LENGTH, f"name of run {run_id}", optional=False)
    _check_text(record.get("user_id"), 256, f"user of run {run_id}", optional=False)
    if record.get("parent_run_id") is not None:
        check_run_id(record["parent_run_id"])
    for name, limit in _TEXT_LIMITS.items():
        _check_text(record.get(name), limit, f"{name} of run {run_id}")
    for name in _TIME_FIELDS:
        _check_time(record.get(name), f"{name} of run {run_id}")


def _check_artifact(in_dir: Path, record: dict[str, Any]) -> None:
    """The artifact path must stay inside the run; the file must be there, regular, with its checksum."""
    run_id, relative = record["run_id"], record.get("path")
    try:
        clean = check_relative_path(relative if isinstance(relative, str) else None, "artifact path")
    except UnsafeArtifactPath as error:
        raise UnsafeArtifactPath(f"Refused dump: run {run_id}: {error}") from None
    if not clean:
        raise DumpError(f"Run {run_id} lists an artifact with an empty path.")
    run_dir = (in_dir / ARTIFACTS_DIR / run_id).resolve()
    source = (in_dir / ARTIFACTS_DIR / run_id / clean).resolve()
    if run_dir not in source.parents:
        raise UnsafeArtifactPath(f"Refused dump: artifact {relative!r} of run {run_id} leaves its directory.")
    if not source.is_file():
        raise DumpError(f"Artifact {relative!r} of run {run_id} is missing from the dump.")
    digest = hashlib.sha256()
    with open(source, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    if digest.hexdigest() != record.get("sha256"):
        raise DumpError(f"Artifact {relative!r} of run {run_id} does not match its checksum: export again.")


def dataset_input(record: dict[str, Any]) -> DatasetInput:
    """A DatasetInput from an inputs.jsonl record, checked against MLflow's limits (DumpError if bad)."""
    from ..inputs import validate_dataset_inputs

    dataset, tags = record.get("dataset"), record.get("tags") or {}
    if not isinstance(dataset, dict) or not isinstance(tags, dict):
        raise DumpError(f"An inputs.jsonl line of run {record.get('run_id')} lacks its dataset or tags.")
    fields = ("name", "digest", "source_type", "source", "schema", "profile")
    try:
        item = DatasetInput(
            Dataset(**{name: dataset.get(name) for name in fields}),  # type: ignore[arg-type]
            [InputTag(key, value) for key, value in tags.items()],
        )
        validate_dataset_inputs([item])
    except InvalidInput as error:
        raise DumpError(f"Bad dataset input of run {record.get('run_id')} in the dump: {error}") from None
    return item


# ----------------------------------------------------------------- writing
def _existing_run_ids(target: SqlStore, run_ids: list[str]) -> set[str]:
    from sqlalchemy import select

    from ..store import chunked, runs_t

    found: set[str] = set()
    with target.db.connect() as conn:
        for chunk in chunked(run_ids):
            found.update(
                row[0] for row in conn.execute(select(runs_t.c.run_id).where(runs_t.c.run_id.in_(chunk)))
            )
    return found


def _map_experiments(
    target: SqlStore, experiments: list[dict[str, Any]], result: ImportResult
) -> dict[str, tuple[str, str]]:
    """Dump experiment id -> (target id, artifact location); matched by name, else created."""
    from sqlalchemy import insert, select

    from ..store import experiment_tags_t, experiments_t

    locations: dict[str, tuple[str, str]] = {}
    for record in experiments:
        with target.db.connect(write=True) as conn:
            by_name = conn.execute(
                select(experiments_t.c.experiment_id, experiments_t.c.artifact_location).where(
                    experiments_t.c.name == record["name"]
                )
            ).first()
            if by_name is not None:
                locations[record["experiment_id"]] = (str(by_name[0]), str(by_name[1]))
                result.experiments_reused += 1
                continue
            new_id = record["experiment_id"]
            holder = conn.execute(
                select(experiments_t.c.name).where(experiments_t.c.experiment_id == new_id)
            ).first()
            if holder is not None:
                new_id = uuid.uuid4().hex
                result.notes.append(
                    f"Experiment {record['name']!r}: id {record['experiment_id']} is already used by "
                    f"experiment {holder[0]!r} in the target, so it was created with id {new_id}."
                )
            location = f"{target.artifact_root}/{new_id}"
            conn.execute(
                insert(experiments_t).values(
                    experiment_id=new_id,
                    name=record["name"],
                    artifact_location=location,
                    lifecycle_stage=record["lifecycle_stage"],
                    creation_time=record.get("creation_time"),
                    last_update_time=record.get("last_update_time"),
                    deleted_time=record.get("deleted_time"),
                )
            )
            tags = record.get("tags") or {}
            if tags:
                conn.execute(
                    insert(experiment_tags_t),
                    [{"experiment_id": new_id, "key": k, "value": v} for k, v in tags.items()],
                )
        locations[record["experiment_id"]] = (new_id, location)
        result.experiments_created += 1
    return locations


class _Grouped:
    """Reads a grouped entity file alongside runs.jsonl: `take(run_id)` yields that run's records."""

    def __init__(self, path: Path) -> None:
        self._records = iter_records(path) if path.exists() else iter(())
        self._next: dict[str, Any] | None = next(self._records, None)

    def take(self, run_id: str) -> Iterator[dict[str, Any]]:
        while self._next is not None and self._next["run_id"] == run_id:
            record = self._next
            self._next = next(self._records, None)
            yield record

    def skip(self, run_id: str) -> None:
        for _ in self.take(run_id):
            pass


def _load_runs(
    target: SqlStore,
    dump: CheckedDump,
    existing: set[str],
    experiment_locations: dict[str, tuple[str, str]],
    result: ImportResult,
) -> None:
    """Each run in one transaction: row, params, tags, metric points, artifact files."""
    from sqlalchemy import insert

    from ..inputs import write_inputs
    from ..metric_store import write_points
    from ..store import params_t, runs_t, tags_t

    readers = {kind: _Grouped(dump.in_dir / f"{kind}.jsonl") for kind in ENTITY_FILES[2:]}
    for record in iter_records(dump.in_dir / "runs.jsonl"):
        run_id = record["run_id"]
        if run_id in existing:
            for reader in readers.values():
                reader.skip(run_id)
            result.runs_skipped += 1
            continue
        experiment_id, location = experiment_locations[record["experiment_id"]]
        artifact_uri = f"{str(local_path_of(location)).rstrip('/')}/{run_id}/artifacts"
        values = {name: record.get(name) for name in _RUN_COLUMNS}
        values["experiment_id"] = experiment_id
        with target.db.connect(write=True) as conn:
            inserted = conn.execute(insert(runs_t).values(**values, artifact_uri=artifact_uri))
            run_pk = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            for kind, table in (("params", params_t), ("tags", tags_t)):
                rows = [
                    {"run_pk": run_pk, "key": r["key"], "value": r["value"]}
                    for r in readers[kind].take(run_id)
                ]
                if rows:
                    conn.execute(insert(table), rows)
            for chunk in readers["metrics"].take(run_id):
                key = chunk["key"]
                points = [
                    (run_pk, key, value, timestamp, step)
                    for value, timestamp, step in zip(
                        decode_values(chunk["value"]), chunk["timestamp"], chunk["step"], strict=True
                    )
                ]
                write_points(target.db, conn, points)
                result.metric_points += len(points)
            inputs = [dataset_input(r) for r in readers["inputs"].take(run_id)]
            if inputs:
                write_inputs(target, conn, run_pk, experiment_id, inputs)
            result.artifact_files += _copy_artifacts(dump.in_dir, run_id, artifact_uri, readers["artifacts"])
        result.runs_imported += 1


def _copy_artifacts(in_dir: Path, run_id: str, artifact_uri: str, reader: _Grouped) -> int:
    """Copy one run's artifact files into its new directory (inside the run's transaction)."""
    from ..artifacts import ArtifactRepository

    repository = ArtifactRepository(artifact_uri)
    copied = 0
    for record in reader.take(run_id):
        destination = repository.resolve(record["path"], "artifact path")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(in_dir / ARTIFACTS_DIR / run_id / check_relative_path(record["path"]), destination)
        copied += 1
    return copied


_RUN_COLUMNS = (
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
    "deletion_id",
    "source_type",
    "source_name",
    "entry_point",
    "source_version",
    "parent_run_id",
)

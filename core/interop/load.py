"""Import a dump into a store: check everything first, then stream it in, one transaction per run.

Before anything is written, every file's SHA-256 and line count is checked against the manifest and
every record is checked with the logging API's rules (ids, names, keys, values, NUL characters, lone
surrogates, lengths, steps and times in int64 range, ordering); every artifact must be a regular file
of the dump, reached through no symbolic link. A dump refused by these checks writes nothing (not even
a new store file). Then each run is written in one transaction (its experiment when new, the run,
params, tags, metric points through metric_store.write_points, artifact files renamed into place and
checked against their SHA-256 as they are copied): an I/O or database failure leaves whole runs only,
and running the import again skips the runs already there.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from runyard.tracking.artifacts import check_relative_path, local_path_of

from ..config import normalize_tracking_uri
from ..entities import Dataset, DatasetInput, InputTag, LifecycleStage, RunStatus, SourceType
from ..exceptions import InvalidInput, InvalidState, UnsafeArtifactPath
from ..validation import (
    MAX_EXPERIMENT_NAME_LENGTH,
    MAX_KEY_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_RUN_NAME_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    validate_experiment_name,
    validate_key,
    validate_param_value,
    validate_step,
    validate_tag_value,
    validate_timestamp,
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
    from runyard.store.dump_io import RunTransaction
    from runyard.store.sql_store import SqlStore

T = TypeVar("T")

ON_CONFLICT = ("skip", "fail")
_LIFECYCLES = (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
_TIME_FIELDS = ("start_time", "end_time", "heartbeat_time", "deleted_time")
_TEXT_LIMITS = {"source_name": 500, "entry_point": 500, "source_version": 64, "deletion_id": 32}
_MIN_INT64, _MAX_INT64 = -(2**63), 2**63 - 1
_VALUE_RULES = {"params": validate_param_value, "tags": validate_tag_value}


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
    # what happened to each experiment of the dump (by its id in the dump): "created" or "reused"
    experiments: dict[str, str] = field(default_factory=dict)


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
    from runyard.config import is_remote_uri
    from runyard.store.sql_store import SqlStore

    if on_conflict not in ON_CONFLICT:
        raise InvalidInput(f"on_conflict must be 'skip' or 'fail', not {on_conflict!r}.")
    uri = normalize_tracking_uri(store)
    if is_remote_uri(uri):
        from .remote_load import import_to_server

        return import_to_server(uri, in_dir, on_conflict, artifact_root)
    dump = check_dump(in_dir)
    return import_checked(SqlStore(uri, artifact_root=artifact_root), dump, on_conflict)


def import_checked(target: SqlStore, dump: CheckedDump, on_conflict: str) -> ImportResult:
    """Load a dump that passed check_dump into a SQL store (what a server does with each uploaded part)."""
    started = time.perf_counter()
    existing = _existing_run_ids(target, list(dump.run_order))
    if on_conflict == "fail":
        refuse_conflicts(existing)
    result = ImportResult()
    experiments = _Experiments(target, dump.experiments, result)
    _load_runs(target, dump, existing, experiments, result)
    experiments.finish()
    result.seconds = time.perf_counter() - started
    return result


def refuse_conflicts(existing: set[str]) -> None:
    """With --on-conflict fail: refuse the whole import when any run of the dump is already there."""
    if existing:
        shown = ", ".join(sorted(existing)[:5]) + (" ..." if len(existing) > 5 else "")
        raise InvalidState(
            f"{len(existing)} run(s) of the dump already exist in the target store ({shown}); nothing was "
            "imported. Use --on-conflict skip to import only the others."
        )


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
            where = f"{kind}.jsonl, run {record['run_id']}"
            _check_text(record.get("key"), MAX_KEY_LENGTH, f"{where}: {kind[:-1]} key", optional=False)
            _rule(where, validate_key, record["key"], kind[:-1])
            what = f"{where}: value of {kind[:-1]} {record['key']!r}"
            _check_text(record.get("value"), limit, what, optional=False)
            _rule(where, _VALUE_RULES[kind], record["key"], record["value"])
            grouped.unique_key(record["key"])
    grouped = _GroupCheck("metrics", run_order)
    for record in iter_records(path / "metrics.jsonl"):
        grouped.check(record)
        where = f"metrics.jsonl, run {record['run_id']}"
        _check_text(record.get("key"), MAX_KEY_LENGTH, f"{where}: metric key", optional=False)
        _rule(where, validate_key, record["key"], "metric")
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
        for column, rule in ((steps, validate_step), (timestamps, validate_timestamp)):
            if column and not _MIN_INT64 <= min(column) <= max(column) <= _MAX_INT64:
                for number in column:
                    _rule(where, rule, record["key"], number)
        decode_values(values)
    grouped = _GroupCheck("artifacts", run_order)
    for record in iter_records(path / "artifacts.jsonl"):
        grouped.check(record)
        _check_artifact(path, record)
    grouped = _GroupCheck("inputs", run_order)
    for record in iter_records(path / "inputs.jsonl") if (path / "inputs.jsonl").exists() else ():
        grouped.check(record)
        dataset_input(record)
    grouped = _GroupCheck("console", run_order)
    for record in iter_records(path / "console.jsonl") if (path / "console.jsonl").exists() else ():
        grouped.check(record)
        _check_console(record)
    return CheckedDump(path, manifest, experiments, run_order)


def _check_console(record: dict[str, Any]) -> None:
    """A console chunk: a known stream, integer seq and time, text storable in every database."""
    from runyard.store.console import STREAMS

    where = f"console.jsonl, run {record['run_id']}"
    if record.get("stream") not in STREAMS:
        raise DumpError(f"{where}: unknown stream {record.get('stream')!r} (one of {', '.join(STREAMS)}).")
    if not all_ints([record.get("seq"), record.get("timestamp")]):
        raise DumpError(f"{where}: a chunk lacks an integer seq or timestamp: the dump is damaged.")
    _rule(where, validate_timestamp, "console", record["timestamp"])
    _check_text(record.get("text"), _MAX_CONSOLE_TEXT, f"{where}: text", optional=False)


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


_MAX_CONSOLE_TEXT = 100_000_000


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
    """A string of at most limit characters, storable in every database: no NUL, no lone surrogate.

    None is allowed when optional; a key must not be empty.
    """
    if value is None and optional:
        return
    empty_key = value == "" and what.endswith("key")
    if not isinstance(value, str) or len(value) > limit or empty_key:
        raise DumpError(
            f"Bad {what} {str(value)[:60]!r} in the dump (a string of at most {limit} characters)."
        )
    reason = ""
    if "\x00" in value:
        reason = "contains a NUL character (\\x00)"
    elif not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            reason = "contains a lone surrogate character, which UTF-8 cannot encode"
    if reason:
        raise DumpError(f"Refused dump: {what} {value[:60]!r} {reason}. Nothing was imported.")


def _rule(where: str, rule: Callable[..., T], *args: Any) -> T:
    """Apply a rule of the logging API; its InvalidInput becomes a DumpError saying where."""
    try:
        return rule(*args)
    except DumpError:
        raise
    except InvalidInput as error:
        raise DumpError(f"Refused dump: {where}: {error} Nothing was imported.") from None


def _check_time(value: Any, what: str) -> None:
    if value is not None and type(value) is not int:
        raise DumpError(f"Bad {what} {value!r} in the dump: expected integer milliseconds or null.")
    if value is not None and not _MIN_INT64 <= value <= _MAX_INT64:
        raise DumpError(f"Bad {what} {value} in the dump: out of range (at most 2**63 - 1 milliseconds).")


def _check_experiment(record: dict[str, Any]) -> dict[str, Any]:
    check_experiment_id(record.get("experiment_id"))
    where = f"experiments.jsonl, experiment {record['experiment_id']}"
    _check_text(record.get("name"), MAX_EXPERIMENT_NAME_LENGTH, f"{where}: name", optional=False)
    if not record["name"].strip():
        raise DumpError("An experiment of the dump has an empty name.")
    record["name"] = _rule(where, validate_experiment_name, record["name"])
    if record.get("lifecycle_stage") not in _LIFECYCLES:
        raise DumpError(f"Bad lifecycle stage {record.get('lifecycle_stage')!r} of an experiment.")
    for name in ("creation_time", "last_update_time", "deleted_time"):
        _check_time(record.get(name), f"experiment {name}")
    tags = record.get("tags") or {}
    if not isinstance(tags, dict):
        raise DumpError(f"Tags of experiment {record['name']!r} are not an object.")
    for key, value in tags.items():
        _check_text(key, MAX_KEY_LENGTH, f"{where}: tag key", optional=False)
        _rule(where, validate_key, key, "experiment tag")
        _check_text(value, MAX_TAG_VALUE_LENGTH, f"{where}: value of tag {key!r}", optional=False)
        _rule(where, validate_tag_value, key, value)
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
    where = f"runs.jsonl, run {run_id}"
    _check_text(record.get("run_name"), MAX_RUN_NAME_LENGTH, f"{where}: run name", optional=False)
    _check_text(record.get("user_id"), 256, f"{where}: user", optional=False)
    if record.get("parent_run_id") is not None:
        check_run_id(record["parent_run_id"])
    for name, limit in _TEXT_LIMITS.items():
        _check_text(record.get(name), limit, f"{where}: {name}")
    for name in _TIME_FIELDS:
        _check_time(record.get(name), f"{name} of run {run_id}")


def _check_artifact(in_dir: Path, record: dict[str, Any]) -> None:
    """The artifact path must stay inside the run; the file must be there, regular, with its checksum."""
    source = _dump_file(in_dir, record)
    digest = hashlib.sha256()
    with _open_regular(source, record) as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    _check_digest(digest, record)


def _clean_artifact_path(record: dict[str, Any]) -> str:
    run_id, relative = record["run_id"], record.get("path")
    if not isinstance(relative, str):
        raise DumpError(f"Run {run_id} lists an artifact whose path is not a string: {relative!r}.")
    try:
        clean = check_relative_path(relative, "artifact path")
    except InvalidInput as error:
        raise type(error)(f"Refused dump: run {run_id}: {error} Nothing was imported.") from None
    if not clean:
        raise DumpError(f"Run {run_id} lists an artifact with an empty path.")
    return clean


def _dump_file(in_dir: Path, record: dict[str, Any]) -> Path:
    """The artifact's file in the dump, reached through no symbolic link (a link could lead anywhere)."""
    run_id, relative = record["run_id"], record.get("path")
    current = in_dir
    for part in (ARTIFACTS_DIR, run_id, *_clean_artifact_path(record).split("/")):
        current = current / part
        if current.is_symlink():
            raise UnsafeArtifactPath(
                f"Refused dump: artifact {relative!r} of run {run_id}: "
                f"{current.relative_to(in_dir).as_posix()} is a symbolic link, and a dump holds regular "
                "files only. Nothing was imported."
            )
    if not current.is_file():
        raise DumpError(f"Artifact {relative!r} of run {run_id} is missing from the dump.")
    return current


def _open_regular(path: Path, record: dict[str, Any]) -> IO[bytes]:
    """Open a dump file for reading without following a link, and only if it is a regular file."""
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise DumpError(f"Artifact {record.get('path')!r} of run {record['run_id']} is not a regular file.")
    return os.fdopen(handle, "rb")


def _check_digest(digest: Any, record: dict[str, Any]) -> None:
    if digest.hexdigest() != record.get("sha256"):
        raise DumpError(
            f"Artifact {record.get('path')!r} of run {record['run_id']} does not match its checksum: "
            "export again."
        )


def dataset_input(record: dict[str, Any]) -> DatasetInput:
    """A DatasetInput from an inputs.jsonl record, checked against MLflow's limits (DumpError if bad)."""
    from runyard.store.inputs import validate_dataset_inputs

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
def _existing_run_ids(target: Any, run_ids: list[str]) -> set[str]:
    """Which of these runs a SqlStore (or a RestStore: a tracking server) already holds."""
    from runyard.store.dump_io import existing_run_ids
    from runyard.store.sql_store import SqlStore

    if not isinstance(target, SqlStore):
        return set(target.existing_run_ids(run_ids))
    return existing_run_ids(target, run_ids)


class _Experiments:
    """The dump's experiments in the target: matched by name, else created in the transaction of the
    first run that needs it (so a failed run leaves no experiment behind); the rest at the end."""

    def __init__(self, target: SqlStore, experiments: list[dict[str, Any]], result: ImportResult) -> None:
        self.target = target
        self.records = {record["experiment_id"]: record for record in experiments}
        self.result = result
        self.known: dict[str, tuple[str, str]] = {}
        self.pending: dict[str, tuple[tuple[str, str], bool, str | None]] = {}

    def locate(self, transaction: RunTransaction, dump_id: str) -> tuple[str, str]:
        """(target id, artifact location) of a dump experiment, created in the transaction if new."""
        if dump_id in self.known:
            return self.known[dump_id]
        if dump_id not in self.pending:
            self.pending[dump_id] = self._find_or_create(transaction, self.records[dump_id])
        return self.pending[dump_id][0]

    def committed(self) -> None:
        """The transaction that located the pending experiments committed: count them."""
        for dump_id, (location, created, note) in self.pending.items():
            self.known[dump_id] = location
            self.result.experiments[dump_id] = "created" if created else "reused"
            if created:
                self.result.experiments_created += 1
            else:
                self.result.experiments_reused += 1
            if note:
                self.result.notes.append(note)
        self.pending.clear()

    def rolled_back(self) -> None:
        """The transaction failed: what it created is gone."""
        self.pending.clear()

    def finish(self) -> None:
        """Match or create the experiments no imported run needed (empty ones, or all runs skipped)."""
        from runyard.store.dump_io import write_transaction

        for dump_id in self.records:
            if dump_id not in self.known:
                with write_transaction(self.target) as transaction:
                    self.locate(transaction, dump_id)
                self.committed()

    def _find_or_create(
        self, transaction: RunTransaction, record: dict[str, Any]
    ) -> tuple[tuple[str, str], bool, str | None]:
        by_name = transaction.experiment_by_name(record["name"])
        if by_name is not None:
            return by_name, False, None
        new_id, note = record["experiment_id"], None
        holder = transaction.experiment_name_of(new_id)
        if holder is not None:
            new_id = uuid.uuid4().hex
            note = (
                f"Experiment {record['name']!r}: id {record['experiment_id']} is already used by "
                f"experiment {holder!r} in the target, so it was created with id {new_id}."
            )
        location = f"{self.target.artifact_root}/{new_id}"
        transaction.insert_experiment(
            {
                "experiment_id": new_id,
                "name": record["name"],
                "artifact_location": location,
                "lifecycle_stage": record["lifecycle_stage"],
                "creation_time": record.get("creation_time"),
                "last_update_time": record.get("last_update_time"),
                "deleted_time": record.get("deleted_time"),
            },
            record.get("tags") or {},
        )
        return (new_id, location), True, note


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

    def pairs(self, run_id: str) -> list[tuple[str, str]]:
        """(key, value) of that run's records (params or tags)."""
        return [(record["key"], record["value"]) for record in self.take(run_id)]

    def skip(self, run_id: str) -> None:
        for _ in self.take(run_id):
            pass


def _load_runs(
    target: SqlStore,
    dump: CheckedDump,
    existing: set[str],
    experiments: _Experiments,
    result: ImportResult,
) -> None:
    """Each run in one transaction: its new experiment, row, params, tags, metric points, artifact files."""
    from runyard.store.dump_io import write_transaction

    readers = {kind: _Grouped(dump.in_dir / f"{kind}.jsonl") for kind in ENTITY_FILES[2:]}
    for record in iter_records(dump.in_dir / "runs.jsonl"):
        run_id = record["run_id"]
        if run_id in existing:
            for reader in readers.values():
                reader.skip(run_id)
            result.runs_skipped += 1
            continue
        values = {name: record.get(name) for name in _RUN_COLUMNS}
        written: list[Path] = []
        points_of_run = files_of_run = 0
        try:
            with write_transaction(target) as transaction:
                experiment_id, location = experiments.locate(transaction, record["experiment_id"])
                artifact_uri = f"{str(local_path_of(location)).rstrip('/')}/{run_id}/artifacts"
                values["experiment_id"] = experiment_id
                run_pk = transaction.insert_run({**values, "artifact_uri": artifact_uri})
                transaction.insert_params(run_pk, readers["params"].pairs(run_id))
                transaction.insert_tags(run_pk, readers["tags"].pairs(run_id))
                for chunk in readers["metrics"].take(run_id):
                    key = chunk["key"]
                    points = [
                        (run_pk, key, value, timestamp, step)
                        for value, timestamp, step in zip(
                            decode_values(chunk["value"]), chunk["timestamp"], chunk["step"], strict=True
                        )
                    ]
                    transaction.write_points(points)
                    points_of_run += len(points)
                inputs = [dataset_input(r) for r in readers["inputs"].take(run_id)]
                if inputs:
                    transaction.write_inputs(run_pk, experiment_id, inputs)
                console = [(r["timestamp"], r["stream"], r["text"]) for r in readers["console"].take(run_id)]
                if console:
                    transaction.insert_console(run_pk, console)
                files_of_run = _copy_artifacts(
                    dump.in_dir, run_id, artifact_uri, readers["artifacts"], written
                )
        except BaseException:
            experiments.rolled_back()
            if written:
                _remove_files(written, local_path_of(artifact_uri).parent)
            raise
        experiments.committed()
        result.runs_imported += 1
        result.metric_points += points_of_run
        result.artifact_files += files_of_run


def _copy_artifacts(
    in_dir: Path, run_id: str, artifact_uri: str, reader: _Grouped, written: list[Path]
) -> int:
    """Copy one run's artifact files into its new directory (inside the run's transaction).

    Each file is renamed into place only when complete and matching its checksum; its path is added to
    written, so that a failure of the run can remove what was copied.
    """
    from runyard.tracking.artifacts import ArtifactRepository

    repository = ArtifactRepository(artifact_uri)
    copied = 0
    for record in reader.take(run_id):
        source = _dump_file(in_dir, record)

        def fill(target: IO[bytes], source: Path = source, record: dict[str, Any] = record) -> None:
            digest = hashlib.sha256()
            with _open_regular(source, record) as handle:
                while block := handle.read(HASH_BLOCK):
                    digest.update(block)
                    target.write(block)
            _check_digest(digest, record)

        written.append(repository.write_stream(_clean_artifact_path(record), fill))
        copied += 1
    return copied


def _remove_files(paths: list[Path], run_dir: Path) -> None:
    """Remove the artifact files of a run that was rolled back, and the directories left empty in run_dir."""
    run_dir = run_dir.resolve()
    for path in paths:
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent != run_dir and run_dir not in parent.parents:
                break
            try:
                parent.rmdir()  # only ever succeeds on an empty directory
            except OSError:
                break


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

"""The checks of a dump before anything is imported (read only): manifest, checksums, records, artifacts.

Every record is checked with the logging API's rules (ids, names, keys, values, NUL characters, lone
surrogates, lengths, steps and times in int64 range, ordering); every artifact must be a regular file
of the dump, reached through no symbolic link. load.py imports a dump only after check_dump passed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from runyard.tracking.artifacts import check_relative_path

from ..entities import Dataset, DatasetInput, InputTag, LifecycleStage, RunStatus, SourceType
from ..exceptions import InvalidInput, UnsafeArtifactPath
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

T = TypeVar("T")

_LIFECYCLES = (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
_TIME_FIELDS = ("start_time", "end_time", "heartbeat_time", "deleted_time")
_TEXT_LIMITS = {"source_name": 500, "entry_point": 500, "source_version": 64, "deletion_id": 32}
_MIN_INT64, _MAX_INT64 = -(2**63), 2**63 - 1
_VALUE_RULES = {"params": validate_param_value, "tags": validate_tag_value}


@dataclass
class CheckedDump:
    """A dump that passed every check: its experiments and the order of its runs."""

    in_dir: Path
    manifest: dict[str, Any]
    experiments: list[dict[str, Any]]
    run_order: dict[str, int]


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

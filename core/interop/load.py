"""Import a dump into a store: check everything first, then stream it in, one transaction per run.

Before anything is written, every file's SHA-256 and line count is checked against the manifest and
every record is checked with the logging API's rules (ids, names, keys, values, NUL characters, lone
surrogates, lengths, steps and times in int64 range, ordering); every artifact must be a regular file
of the dump, reached through no symbolic link (those checks are in load_checks.py). A dump refused by
them writes nothing (not even a new store file). Then each run is written in one transaction (its
experiment when new, the run, params, tags, metric points through metric_store.write_points, artifact
files renamed into place and checked against their SHA-256 as they are copied): an I/O or database
failure leaves whole runs only, and running the import again skips the runs already there.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from runyard.tracking.artifacts import local_path_of

from ..config import normalize_tracking_uri
from ..exceptions import InvalidInput, InvalidState
from .format import ENTITY_FILES, HASH_BLOCK, decode_values, iter_records

# The checks (load_checks.py), under the names remote_load.py and the tests use from here.
from .load_checks import CheckedDump as CheckedDump
from .load_checks import _check_digest, _clean_artifact_path, _dump_file, _open_regular, dataset_input
from .load_checks import check_dump as check_dump

if TYPE_CHECKING:
    from runyard.store.dump_io import RunTransaction
    from runyard.store.sql_store import SqlStore

ON_CONFLICT = ("skip", "fail")


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

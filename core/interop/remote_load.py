"""Import a dump into a runyard server: checked here first, then sent in parts that the server imports.

Every check of a local import runs on this machine before anything is sent (a refused dump sends
nothing). The runs are then cut into parts of at most PART_RUNS runs (or PART_POINTS points, or
PART_BYTES of artifacts; a bigger run travels alone), each part a small dump of its own streamed as a
tar file; the server checks the part again and imports it exactly as a local import does: each run in
one transaction with its new experiment, params, tags, points, inputs, console and artifact files, runs
already there skipped. A broken connection leaves whole runs only; running the import again resumes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInput
from .dump import DumpWriter
from .format import ENTITY_FILES, iter_records
from .load import (
    CheckedDump,
    ImportResult,
    _clean_artifact_path,
    _dump_file,
    _Grouped,
    check_dump,
    refuse_conflicts,
)

if TYPE_CHECKING:
    pass

PART_RUNS = 200
PART_POINTS = 500_000
PART_BYTES = 64 << 20


def import_to_server(
    uri: str, in_dir: str | os.PathLike[str], on_conflict: str, artifact_root: str | None = None
) -> ImportResult:
    """Load a dump into the runyard server at uri (see the module docstring for what holds)."""
    from runyard.rest.dumps import runyard_server, upload_dump

    if artifact_root is not None:
        raise InvalidInput(
            "artifact_root applies to a database store: a tracking server keeps artifacts under its "
            "own --artifacts-destination."
        )
    started = time.perf_counter()
    dump = check_dump(in_dir)
    store = runyard_server(uri, "importing runs with their ids, times and trash state")
    try:
        existing = store.existing_run_ids(list(dump.run_order))
        if on_conflict == "fail":
            refuse_conflicts(existing)
        result = ImportResult(runs_skipped=len(existing))
        with tempfile.TemporaryDirectory(prefix="runyard-upload-") as temporary:
            for part in _parts(dump, existing, Path(temporary)):
                tar_path = Path(temporary) / "part.tar"
                _pack(part, tar_path)
                shutil.rmtree(part)
                _merge(result, upload_dump(store, tar_path))
                tar_path.unlink()
    finally:
        store.close()
    counted = list(result.experiments.values())
    result.experiments_created = counted.count("created")
    result.experiments_reused = counted.count("reused")
    result.seconds = time.perf_counter() - started
    return result


def _pack(part: Path, tar_path: Path) -> None:
    from .dump_tar import pack_dump

    with open(tar_path, "wb") as out:
        pack_dump(part, out)


def _merge(result: ImportResult, answer: dict[str, Any]) -> None:
    """Add one part's answer of the server to the whole import's result."""
    result.runs_imported += int(answer.get("runs_imported") or 0)
    result.runs_skipped += int(answer.get("runs_skipped") or 0)
    result.metric_points += int(answer.get("metric_points") or 0)
    result.artifact_files += int(answer.get("artifact_files") or 0)
    for note in answer.get("notes") or ():
        if note not in result.notes:
            result.notes.append(str(note))
    for dump_id, outcome in (answer.get("experiments") or {}).items():
        if result.experiments.get(str(dump_id)) != "created":
            result.experiments[str(dump_id)] = str(outcome)


def _parts(dump: CheckedDump, existing: set[str], work: Path) -> Iterator[Path]:
    """Write the runs not in existing as small dumps under work, one at a time; the last one also holds
    the experiments no run of the dump brought along."""
    experiments = {record["experiment_id"]: record for record in dump.experiments}
    readers = {kind: _Grouped(dump.in_dir / f"{kind}.jsonl") for kind in ENTITY_FILES[2:]}
    sent: set[str] = set()
    part: _Part | None = None
    number = 0
    for record in iter_records(dump.in_dir / "runs.jsonl"):
        run_id = record["run_id"]
        if run_id in existing:
            for reader in readers.values():
                reader.skip(run_id)
            continue
        if part is None:
            number += 1
            part = _Part(work / f"part-{number}", dump)
        part.add_run(record, experiments[record["experiment_id"]], readers)
        sent.add(record["experiment_id"])
        if part.full():
            yield part.close()
            part = None
    unsent = [e for e in experiments if e not in sent]
    if unsent and part is None:
        part = _Part(work / f"part-{number + 1}", dump)
    if part is not None:
        for experiment_id in unsent:
            part.experiment(experiments[experiment_id])
        yield part.close()


class _Part:
    """One small dump being written: the runs of a part with their records and artifact files."""

    def __init__(self, out_dir: Path, dump: CheckedDump) -> None:
        self.dump = dump
        self.writer = DumpWriter(out_dir, str(dump.manifest.get("source", "")))
        self.experiments: set[str] = set()
        self.runs = 0
        self.points = 0
        self.bytes = 0

    def experiment(self, record: dict[str, Any]) -> None:
        if record["experiment_id"] not in self.experiments:
            self.experiments.add(record["experiment_id"])
            self.writer.experiment(record)

    def add_run(
        self, record: dict[str, Any], experiment: dict[str, Any], readers: dict[str, _Grouped]
    ) -> None:
        """Copy one run's records (as they are: the server checks them again) and artifact files."""
        self.experiment(experiment)
        self.writer.run(record)
        run_id = record["run_id"]
        for kind, reader in readers.items():
            for item in reader.take(run_id):
                self.writer.writers[kind].write(item)
                if kind == "metrics":
                    self.points += len(item.get("step") or ())
                elif kind == "artifacts":
                    self._artifact(item)
        self.runs += 1

    def _artifact(self, record: dict[str, Any]) -> None:
        source = _dump_file(self.dump.in_dir, record)
        target = self.writer.out_dir / "artifacts" / record["run_id"] / _clean_artifact_path(record)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        self.bytes += target.stat().st_size

    def full(self) -> bool:
        return self.runs >= PART_RUNS or self.points >= PART_POINTS or self.bytes >= PART_BYTES

    def close(self) -> Path:
        self.writer.close()
        return self.writer.out_dir

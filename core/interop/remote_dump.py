"""Export runs from a tracking server (runyard's or MLflow's) to a dump, through the Store interface.

The same dump as a local export, read over HTTP with memory that stays flat: runs a search page at a
time, each metric's history a get-history page at a time (written out in chunks of CHUNK_POINTS),
console output in pages, artifact files streamed to disk through the server's artifact proxy.
What HTTP does not carry is left out: the deletion id that groups runs deleted together (restore
then works run by run) and, from a stock MLflow server, heartbeats, console output and trash times.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..entities import HEARTBEAT_FROM_WRITES, HEARTBEAT_SOURCE, Run, ViewType
from ..tracking.artifacts import is_temporary
from .dump import RUN_PAGE, DumpWriter, ExportResult, select_experiments, write_dump
from .format import CHUNK_POINTS

if TYPE_CHECKING:
    from runyard.rest.store import RestStore

CONSOLE_PAGE = 1000


def export_from_server(
    uri: str,
    out_dir: str | os.PathLike[str],
    experiment_names: Sequence[str] | None,
    filter_string: str,
    include_deleted: bool,
    include_artifacts: bool,
) -> ExportResult:
    """Write the runs of the server at uri (all, or of the named experiments, matching) to a new dump."""
    from runyard.rest.store import RestStore

    started = time.perf_counter()
    store = RestStore(uri)
    experiments = select_experiments(store, experiment_names, include_deleted)
    experiment_ids = [e.experiment_id for e in experiments]
    view = ViewType.ALL if include_deleted else ViewType.ACTIVE_ONLY

    def write_runs(writer: DumpWriter) -> None:
        token: str | None = None
        while experiment_ids:
            page = store.search_runs(experiment_ids, filter_string, view, RUN_PAGE, None, token)
            for run in page:
                _write_run(store, writer, run, include_artifacts)
            token = page.token
            if not token:
                return

    try:
        return write_dump(out_dir, store.tracking_uri, experiments, write_runs, started)
    finally:
        store.close()


def _run_record(store: RestStore, run: Run) -> dict[str, Any]:
    info = run.info
    heartbeat = info.heartbeat_time
    if heartbeat is not None:  # back onto the server's clock (the client moved it onto this machine's)
        heartbeat -= int(store.server_info()["clock_skew_ms"])
    return {
        "run_id": info.run_id,
        "experiment_id": info.experiment_id,
        "run_name": info.run_name,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "heartbeat_time": heartbeat,
        "lifecycle_stage": info.lifecycle_stage,
        "deleted_time": info.deleted_time,
        "source_type": info.source_type,
        "source_name": info.source_name,
        "entry_point": info.entry_point,
        "source_version": info.source_version,
        "parent_run_id": info.parent_run_id,
        "deletion_id": None,
        "artifact_uri": info.artifact_uri,
    }


def _write_run(store: RestStore, writer: DumpWriter, run: Run, include_artifacts: bool) -> None:
    run_id = run.info.run_id
    writer.run(_run_record(store, run))
    for key, value in sorted(run.data.params.items()):
        writer.param(run_id, key, value)
    tags = dict(run.data.tags)
    if run.info.heartbeat_from_writes:  # hidden on the wire, kept in the dump as a local export keeps it
        tags[HEARTBEAT_SOURCE] = HEARTBEAT_FROM_WRITES
    for key, value in sorted(tags.items()):
        writer.tag(run_id, key, value)
    for key in sorted(run.data.metric_summaries):
        steps: list[int] = []
        timestamps: list[int] = []
        values: list[float | None] = []
        for page in store.metric_history_pages(run_id, key):
            for point in page:
                steps.append(point.step)
                timestamps.append(point.timestamp)
                values.append(point.value)
                if len(steps) >= CHUNK_POINTS:
                    writer.metric_chunk(run_id, key, steps, timestamps, values)
                    steps, timestamps, values = [], [], []
        if steps:
            writer.metric_chunk(run_id, key, steps, timestamps, values)
    for item in run.inputs.dataset_inputs:
        writer.dataset_input(run_id, asdict(item.dataset), {tag.key: tag.value for tag in item.tags})
    _write_console(store, writer, run_id)
    if include_artifacts:
        _write_artifacts(store, writer, run_id)


def _write_console(store: RestStore, writer: DumpWriter, run_id: str) -> None:
    after: int | None = None
    while True:
        chunks = store.get_console(run_id, after_seq=after, limit=CONSOLE_PAGE)
        for chunk in chunks:
            writer.console_chunk(run_id, chunk.seq, chunk.timestamp, chunk.stream, chunk.text)
        if len(chunks) < CONSOLE_PAGE:
            return
        after = chunks[-1].seq


def _write_artifacts(store: RestStore, writer: DumpWriter, run_id: str) -> None:
    """Every artifact file of the run, streamed into the dump (each checked in by its SHA-256)."""
    from runyard.rest.dumps import download_file

    repository = store.artifacts(run_id)
    folders: list[str | None] = [None]
    while folders:
        for entry in repository.list(folders.pop()):
            if entry.is_dir:
                folders.append(entry.path)
            elif not is_temporary(entry.path.rsplit("/", 1)[-1]):
                staged = writer.out_dir / ".incoming"
                download_file(repository, entry.path, staged)
                writer.artifact_file(run_id, entry.path, Path(staged))
                staged.unlink()

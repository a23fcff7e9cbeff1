"""POST /api/2.0/runyard/dumps/import: import one part of a dump (a tar stream) into the served store.

MLflow's API cannot create runs with their own ids, times and trash state, which `runyard import` and
`runyard copy` keep. The body (a dump packed by runyard.interop.dump_tar, sent by `runyard import
--store http://...`) is spooled to a temporary directory, never held in memory, then checked and
imported exactly as a local import: each run in one transaction, runs already there skipped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from starlette.requests import Request

from .state import ServerState

JsonDict = dict[str, Any]


async def import_dump(state: ServerState, request: Request) -> JsonDict:
    """POST dumps/import (body: a dump as tar) -> {runs_imported, runs_skipped, ..., experiments}."""
    with tempfile.TemporaryDirectory(prefix="runyard-import-") as temporary:
        tar_path = Path(temporary) / "part.tar"
        with open(tar_path, "wb") as spool:
            async for block in request.stream():
                spool.write(block)
        return await state.call(_import_part, state, tar_path, Path(temporary) / "dump")


def _import_part(state: ServerState, tar_path: Path, dump_dir: Path) -> JsonDict:
    from runyard.interop.dump_tar import unpack_dump
    from runyard.interop.load import check_dump, import_checked

    with open(tar_path, "rb") as source:
        unpack_dump(source, dump_dir)
    tar_path.unlink()
    result = import_checked(state.store, check_dump(dump_dir), "skip")
    return {
        "runs_imported": result.runs_imported,
        "runs_skipped": result.runs_skipped,
        "metric_points": result.metric_points,
        "artifact_files": result.artifact_files,
        "notes": result.notes,
        "experiments": result.experiments,
    }

"""The artifact proxy of `mlflow server --serve-artifacts`: upload, download, list and delete, streamed.

Paths are relative to the artifact root. A path `<experiment>/<run>/artifacts/<file>` of a run the
store knows resolves inside that run's own artifact directory, exactly where runyard's artifact code
reads; any other path resolves under --artifacts-destination. Absolute paths, `..` and links out of
the directory are refused with 400 before anything is touched.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import anyio
from runyard.tracking.artifacts import ArtifactRepository, check_relative_path
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..exceptions import InvalidInput, RunNotFound
from ..rest import protocol as p
from .errors import ArtifactNotFound
from .http import request_fields
from .state import ServerState

JsonDict = dict[str, Any]
CHUNK = 1 << 20


def _resolve(state: ServerState, raw_path: str | None) -> Path:
    """The local path of an artifact path (blocking: may look the run up)."""
    clean = check_relative_path(raw_path, "path")
    parts = clean.split("/") if clean else []
    if len(parts) >= 3 and parts[2] == "artifacts":
        try:
            run = state.client.get_run(parts[1])
        except RunNotFound:
            run = None
        if run is not None and run.info.experiment_id == parts[0]:
            return ArtifactRepository(run.info.artifact_uri).resolve("/".join(parts[3:]), "path")
    return ArtifactRepository(str(state.artifacts_destination)).resolve(clean, "path")


def _path_param(request: Request) -> str:
    return str(request.path_params.get("path", ""))


async def download(state: ServerState, request: Request) -> Response:
    """GET mlflow-artifacts/artifacts/<path>: the file's bytes, streamed from disk."""
    target = await state.call(_resolve, state, _path_param(request))
    if not await anyio.to_thread.run_sync(target.is_file):
        raise ArtifactNotFound(f"No artifact file {_path_param(request)!r}.")
    return FileResponse(target, media_type="application/octet-stream", filename=target.name)


async def upload(state: ServerState, request: Request) -> JsonDict:
    """PUT mlflow-artifacts/artifacts/<path>: the body streamed to a temporary file, then renamed."""
    relative = _path_param(request)
    target = await state.call(_resolve, state, relative)
    if not check_relative_path(relative, "path"):
        raise InvalidInput("Give the artifact's path after /artifacts/, e.g. 1/<run_id>/artifacts/model.pkl.")
    await anyio.to_thread.run_sync(lambda: target.parent.mkdir(parents=True, exist_ok=True))
    await state.call(_resolve, state, relative)  # the parent may have become a link meanwhile
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp-runyard")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    handle = await anyio.to_thread.run_sync(lambda: os.fdopen(os.open(temporary, flags, 0o666), "wb"))
    try:
        buffered: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            buffered.append(chunk)
            size += len(chunk)
            if size >= CHUNK:
                data, buffered, size = b"".join(buffered), [], 0
                await anyio.to_thread.run_sync(handle.write, data)
        if buffered:
            await anyio.to_thread.run_sync(handle.write, b"".join(buffered))
        await anyio.to_thread.run_sync(handle.close)
        await anyio.to_thread.run_sync(os.replace, temporary, target)
    except BaseException:
        handle.close()
        temporary.unlink(missing_ok=True)
        raise
    return {}


async def delete(state: ServerState, request: Request) -> JsonDict:
    """DELETE mlflow-artifacts/artifacts/<path>: a file or a directory (never the root)."""
    relative = _path_param(request)
    if not check_relative_path(relative, "path"):
        raise InvalidInput("Refusing to delete the whole artifact root: give a path below it.")
    target = await state.call(_resolve, state, relative)

    def remove() -> None:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()

    await anyio.to_thread.run_sync(remove)
    return {}


async def list_directory(state: ServerState, request: Request) -> JsonDict:
    """GET mlflow-artifacts/artifacts?path=: the entries of a directory, by name (as MLflow's proxy)."""
    body = await request_fields(request)
    relative = p.get_string(body, "path") or ""
    target = await state.call(_resolve, state, relative)
    repository = ArtifactRepository(str(target))
    entries = await state.call(repository.list, None) if target.is_dir() else []
    files = [p.file_info_json(entry) for entry in entries]
    return {"files": files} if files else {}

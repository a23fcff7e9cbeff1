"""A run's artifacts through a tracking server's artifact proxy (/api/2.0/mlflow-artifacts/artifacts).

Works against `runyard server` and `mlflow server` (which serves artifacts by default). Reading a file
(preview, `o` in the app) downloads it into a cache directory first, keyed by server, run and path, so
that the rest of runyard reads a local file as it does on a local store.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from ..entities import FileInfo
from ..exceptions import InvalidInput
from .transport import RemoteNotFound, Transport

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MLFLOW_ARTIFACTS_SCHEME = "mlflow-artifacts:"


def cache_root() -> Path:
    """Where downloaded artifacts are kept (RUNYARD_CACHE_DIR, else the user's cache directory)."""
    configured = os.environ.get("RUNYARD_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "runyard" / "artifacts"


class RemoteArtifacts:
    """The artifact directory of one run on a tracking server (the ArtifactRepository operations)."""

    def __init__(self, transport: Transport, experiment_id: str, run_id: str, artifact_uri: str) -> None:
        self.transport = transport
        self.run_id = run_id
        if artifact_uri.startswith(MLFLOW_ARTIFACTS_SCHEME):
            self.base = artifact_uri[len(MLFLOW_ARTIFACTS_SCHEME) :].lstrip("/")
        else:
            self.base = f"{experiment_id}/{run_id}/artifacts"
        server = hashlib.sha256(transport.base_url.encode()).hexdigest()[:16]
        self.cache = cache_root() / server / run_id

    def _remote(self, relative: str | None) -> str:
        from ..tracking.artifacts import check_relative_path

        clean = check_relative_path(relative, "artifact_path")
        return f"{self.base}/{clean}" if clean else self.base

    def list(self, path: str | None = None) -> builtins.list[FileInfo]:
        """Entries directly under path, directories first, then files, by name."""
        from ..tracking.artifacts import check_relative_path

        base = check_relative_path(path, "artifact_path")
        try:
            answer = self.transport.call("GET", PROXY, {"path": self._remote(path)})
        except RemoteNotFound:
            return []
        entries = []
        for item in answer.get("files") or ():
            name = str(item["path"]).rstrip("/").rsplit("/", 1)[-1]
            relative = f"{base}/{name}" if base else name
            is_dir = bool(item.get("is_dir", False))
            size = None if is_dir else int(item.get("file_size") or 0)
            entries.append(FileInfo(relative, is_dir, size))
        return sorted(entries, key=lambda e: (not e.is_dir, e.path))

    def resolve(self, relative: str | None, what: str = "artifact_path") -> Path:
        """A local copy of the file (downloaded into the cache); a directory is listed, not copied."""
        from ..tracking.artifacts import check_relative_path

        clean = check_relative_path(relative, what)
        target = self.cache / clean if clean else self.cache
        if not clean or any(entry.path == clean and entry.is_dir for entry in self._siblings(clean)):
            target.mkdir(parents=True, exist_ok=True)
            return target
        self._fetch(clean, target)
        return target

    def _siblings(self, clean: str) -> builtins.list[FileInfo]:
        parent = clean.rsplit("/", 1)[0] if "/" in clean else None
        return self.list(parent)

    def _fetch(self, clean: str, target: Path) -> None:
        try:
            response = self.transport.request("GET", f"{PROXY}/{quote(self._remote(clean))}")
        except RemoteNotFound:
            raise InvalidInput(f"No artifact file {clean!r} in run {self.run_id}.") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".download-")
        with os.fdopen(handle, "wb") as out:
            out.write(response.content)
        os.replace(temporary, target)

    def download(self, path: str | None, destination: str | os.PathLike[str]) -> Path:
        """Copy an artifact file or directory to a local destination directory; returns the copy."""
        from ..tracking.artifacts import check_relative_path

        clean = check_relative_path(path, "artifact_path")
        target_dir = Path(destination)
        target_dir.mkdir(parents=True, exist_ok=True)
        name = clean.rsplit("/", 1)[-1] if clean else "artifacts"
        entries = self.list(clean or None)
        if not clean or entries or any(e.path == clean and e.is_dir for e in self._siblings(clean)):
            root = target_dir / name
            root.mkdir(parents=True, exist_ok=True)
            for entry in entries:
                self.download(entry.path, root)
            return root
        self._fetch(clean, target_dir / name)
        return target_dir / name

    def write_bytes(self, artifact_file: str, data: bytes) -> str:
        """Upload bytes as an artifact file; returns its relative path."""
        from ..tracking.artifacts import check_relative_path

        clean = check_relative_path(artifact_file, "artifact_file")
        self.transport.request("PUT", f"{PROXY}/{quote(self._remote(clean))}", content=data)
        return clean

    def log_file(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        """Upload a local file under artifact_path; returns its relative path."""
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInput(f"No file {str(source)!r} to log as an artifact.")
        prefix = (artifact_path or "").strip("/")
        return self.write_bytes(f"{prefix}/{source.name}" if prefix else source.name, source.read_bytes())

    def log_directory(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> builtins.list[str]:
        """Upload every file of a local directory under artifact_path; returns their relative paths."""
        source = Path(local_dir)
        if not source.is_dir():
            raise InvalidInput(f"No directory {str(source)!r} to log as artifacts.")
        prefix = (artifact_path or "").strip("/")
        written = []
        for file in sorted(f for f in source.rglob("*") if f.is_file()):
            relative = file.relative_to(source).as_posix()
            written.append(
                self.write_bytes(f"{prefix}/{relative}" if prefix else relative, file.read_bytes())
            )
        return written

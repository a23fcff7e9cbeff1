"""Artifact repository on a local (or shared) directory; no path ever escapes a run's directory."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .entities import FileInfo
from .exceptions import InvalidInput, UnsafeArtifactPath


def local_path_of(artifact_uri: str) -> Path:
    """The local directory of an artifact URI (an absolute path or a file:// URI)."""
    if artifact_uri.startswith("file://"):
        artifact_uri = artifact_uri[len("file://") :]
    return Path(artifact_uri)


def check_relative_path(relative: str | None, what: str = "artifact_path") -> str:
    """Reject absolute paths and '..' components in an artifact path; returns it normalised ('' for root)."""
    if relative is None or relative in ("", "."):
        return ""
    if not isinstance(relative, str):
        raise InvalidInput(f"{what} must be a string, got {relative!r}.")
    text = relative.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":") or "\x00" in text:
        raise UnsafeArtifactPath(
            f"{what} {relative!r} is absolute: give a path relative to the run's artifact directory."
        )
    parts = [part for part in PurePosixPath(text).parts if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise UnsafeArtifactPath(
            f"{what} {relative!r} contains '..': artifact paths must stay inside the run."
        )
    return "/".join(parts)


class ArtifactRepository:
    """The artifact directory of one run."""

    def __init__(self, artifact_uri: str) -> None:
        self.root = local_path_of(artifact_uri)

    def resolve(self, relative: str | None, what: str = "artifact_path") -> Path:
        """The absolute path for a relative artifact path, checked to stay inside the run directory."""
        clean = check_relative_path(relative, what)
        root = self.root.resolve()
        target = (self.root / clean) if clean else self.root
        resolved = target.resolve()
        if resolved != root and root not in resolved.parents:
            raise UnsafeArtifactPath(
                f"{what} {relative!r} resolves outside the run's artifact directory (a symlink?): refused."
            )
        return resolved

    def log_file(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        """Copy a local file into the run's artifacts (under artifact_path); returns its relative path."""
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInput(f"Cannot log artifact {str(source)!r}: no such file.")
        directory = self.resolve(artifact_path)
        destination = self.resolve(_join(artifact_path, source.name))
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        return _join(check_relative_path(artifact_path), source.name)

    def log_directory(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> list[str]:
        """Copy a local directory's files (recursively) into the run's artifacts."""
        source = Path(local_dir)
        if not source.is_dir():
            raise InvalidInput(f"Cannot log artifacts from {str(source)!r}: no such directory.")
        base = check_relative_path(artifact_path)
        plan: list[tuple[Path, Path, str]] = []
        for file_path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = _join(base, file_path.relative_to(source).as_posix())
            plan.append((file_path, self.resolve(relative), relative))  # check every target first
        for file_path, destination, _ in plan:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file_path, destination)
        return [relative for _, _, relative in plan]

    def write_bytes(self, artifact_file: str, data: bytes) -> str:
        """Write data to artifact_file (relative path of a file) in the run's artifacts."""
        clean = check_relative_path(artifact_file, "artifact_file")
        if not clean:
            raise InvalidInput("artifact_file must name a file, e.g. 'notes/summary.txt'.")
        destination = self.resolve(clean, "artifact_file")
        destination.parent.mkdir(parents=True, exist_ok=True)
        self.resolve(clean, "artifact_file")  # the parent may be a symlink created meanwhile
        # A fresh temporary file (O_EXCL): a fixed name could be a planted link leading out of the run.
        # os.open with mode 0o666 keeps the umask's permissions (mkstemp would make it private).
        temporary = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:12]}.tmp-runyard")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        handle = os.open(temporary, flags, 0o666)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, destination)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return clean

    def list(self, path: str | None = None) -> list[FileInfo]:
        """Entries directly under path (relative), directories first, then files, by name."""
        directory = self.resolve(path)
        if not directory.is_dir():
            return []
        base = check_relative_path(path)
        entries: list[FileInfo] = []
        for child in sorted(directory.iterdir(), key=lambda p: (not p.is_dir(), p.name)):
            relative = _join(base, child.name)
            if child.is_symlink():
                try:
                    self.resolve(relative)
                except UnsafeArtifactPath:
                    continue  # never show (or follow) a link out of the run
            if child.is_dir():
                entries.append(FileInfo(relative, True, None))
            else:
                entries.append(FileInfo(relative, False, child.stat().st_size))
        return entries

    def download(self, path: str | None, destination: str | os.PathLike[str]) -> Path:
        """Copy an artifact file or directory to a local destination directory; returns the copy."""
        source = self.resolve(path)
        if not source.exists():
            raise InvalidInput(f"No artifact {path!r} in this run.")
        target_dir = Path(destination)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / (source.name if path else "artifacts")
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=self._links_out_of_run)
        else:
            shutil.copyfile(source, target)
        return target

    def _links_out_of_run(self, directory: str, names: Iterable[str]) -> set[str]:
        """copytree's ignore hook: the entries of directory that are links leading out of the run."""
        root = self.root.resolve()
        skipped = set()
        for name in names:
            entry = Path(directory) / name
            if entry.is_symlink():
                resolved = entry.resolve()
                if resolved != root and root not in resolved.parents:
                    skipped.add(name)
        return skipped

    def delete_all(self) -> None:
        """Remove the run's whole artifact directory (garbage collection)."""
        if self.root.is_dir() and not self.root.is_symlink():
            shutil.rmtree(self.root, ignore_errors=True)


def _join(base: str | None, name: str) -> str:
    base = (base or "").strip("/")
    return f"{base}/{name}" if base else name

"""Artifact repository on a local (or shared) directory; no path ever escapes a run's directory."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from runyard.entities import FileInfo
from runyard.exceptions import InvalidInput, UnsafeArtifactPath

TEMPORARY_SUFFIX = ".tmp-runyard"
_BLOCK = 1 << 20


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
    if "\x00" in relative:
        raise UnsafeArtifactPath(f"{what} {relative!r} contains a NUL character (\\x00): remove it.")
    if not relative.isascii() and not _is_file_name(relative):
        raise InvalidInput(
            f"{what} {relative!r} contains a lone surrogate character, which no file name can hold: "
            "fix the string."
        )
    text = relative.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
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
        """Copy a local file into the run's artifacts (under artifact_path); returns its relative path.

        The copy goes to a temporary file beside the target and is renamed into place: a failed copy
        (a full disk) leaves no partial file and keeps an earlier copy of the same artifact intact.
        """
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInput(f"Cannot log artifact {str(source)!r}: no such file.")
        self.resolve(artifact_path)
        relative = _join(check_relative_path(artifact_path), source.name)
        self._write_all([(relative, _copier(source))])
        return relative

    def log_directory(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> list[str]:
        """Copy a local directory's files (recursively) into the run's artifacts.

        Links to files and directories are followed and their contents copied (as `cp -rL` does); a
        link back to a directory that contains it (a cycle) is refused. Every file is copied to a
        temporary file first and renamed into place only when all copies succeeded: a failure (a full
        disk) adds no file and keeps earlier copies intact.
        """
        source = Path(local_dir)
        if not source.is_dir():
            raise InvalidInput(f"Cannot log artifacts from {str(source)!r}: no such directory.")
        base = check_relative_path(artifact_path)
        plan: list[tuple[str, Callable[[BinaryIO], None]]] = []
        for file_path, relative in walk_files(source):
            target = _join(base, relative)
            self.resolve(target)  # check every target before writing anything
            plan.append((target, _copier(file_path)))
        self._write_all(plan)
        return [relative for relative, _ in plan]

    def write_bytes(self, artifact_file: str, data: bytes) -> str:
        """Write data to artifact_file (relative path of a file) in the run's artifacts, atomically."""
        clean = check_relative_path(artifact_file, "artifact_file")
        if not clean:
            raise InvalidInput("artifact_file must name a file, e.g. 'notes/summary.txt'.")
        self.resolve(clean, "artifact_file")
        self._write_all([(clean, lambda stream: _write_data(stream, data))], "artifact_file")
        return clean

    def write_stream(self, relative: str, fill: Callable[[BinaryIO], None]) -> Path:
        """Write one artifact file with fill(stream), atomically; returns its path."""
        return self._write_all([(relative, fill)])[0]

    def _write_all(
        self, plan: list[tuple[str, Callable[[BinaryIO], None]]], what: str = "artifact_path"
    ) -> list[Path]:
        """Stage every file as a temporary beside its target, then rename all; on failure change nothing."""
        staged: list[tuple[Path, Path]] = []
        created: list[Path] = []
        current = ""
        renamed = 0
        try:
            for relative, fill in plan:
                current = relative
                destination = self.resolve(relative, what)
                _make_directories(destination.parent, created)
                destination = self.resolve(relative, what)  # a parent may have become a link meanwhile
                staged.append((_stage(destination, fill), destination))
            for temporary, destination in staged:
                current = destination.relative_to(self.root.resolve()).as_posix()
                os.replace(temporary, destination)
                renamed += 1
        except BaseException as error:
            for temporary, _ in staged[renamed:]:
                temporary.unlink(missing_ok=True)
            for directory in reversed(created if not renamed else []):
                try:
                    directory.rmdir()
                except OSError:
                    pass
            if isinstance(error, OSError):
                raise _write_error(error, current, renamed) from error
            raise
        return [destination for _, destination in staged]

    def list(self, path: str | None = None) -> list[FileInfo]:
        """Entries directly under path (relative), directories first, then files, by name."""
        directory = self.resolve(path)
        if not directory.is_dir():
            return []
        base = check_relative_path(path)
        entries: list[FileInfo] = []
        for child in sorted(directory.iterdir(), key=lambda p: (not p.is_dir(), p.name)):
            if is_temporary(child.name):
                continue  # a write in progress, or one a crash interrupted
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
            if is_temporary(name):
                skipped.add(name)
            elif entry.is_symlink():
                resolved = entry.resolve()
                if resolved != root and root not in resolved.parents:
                    skipped.add(name)
        return skipped

    def delete_all(self) -> None:
        """Remove the run's whole artifact directory (garbage collection)."""
        if self.root.is_dir() and not self.root.is_symlink():
            shutil.rmtree(self.root, ignore_errors=True)


def copy_stream(source: BinaryIO, target: BinaryIO) -> None:
    """Copy the bytes of one open file into another: the one place artifact data is copied."""
    shutil.copyfileobj(source, target, _BLOCK)


def is_temporary(name: str) -> bool:
    """True for the name of a temporary file an artifact write uses before renaming it into place."""
    return name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)


def walk_files(source: Path) -> list[tuple[Path, str]]:
    """Every file under source with its relative path, sorted; links are followed, a link cycle refused."""
    found: list[tuple[Path, str]] = []
    stack: list[tuple[Path, str, frozenset[tuple[int, int]]]] = [(source, "", frozenset({_identity(source)}))]
    while stack:
        directory, prefix, ancestors = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir():
                    identity = _identity(Path(entry.path))
                    if identity in ancestors:
                        raise InvalidInput(
                            f"Cannot log artifacts from {str(source)!r}: {relative!r} links back to a "
                            "directory that contains it (a cycle). Remove the link or log the "
                            "directories one by one; nothing was logged."
                        )
                    stack.append((Path(entry.path), relative + "/", ancestors | {identity}))
                elif entry.is_file():
                    found.append((Path(entry.path), relative))
    return sorted(found, key=lambda item: item[1])


def _identity(directory: Path) -> tuple[int, int]:
    status = directory.stat()
    return status.st_dev, status.st_ino


def _copier(source: Path) -> Callable[[BinaryIO], None]:
    def fill(target: BinaryIO) -> None:
        with open(source, "rb") as handle:
            copy_stream(handle, target)

    return fill


def _write_data(stream: BinaryIO, data: bytes) -> None:
    stream.write(data)


def _stage(destination: Path, fill: Callable[[BinaryIO], None]) -> Path:
    """Write a fresh temporary file beside destination with fill; returns its path (removed on failure)."""
    # A fresh name opened with O_EXCL: a fixed name could be a planted link leading out of the run.
    # os.open with mode 0o666 keeps the umask's permissions (mkstemp would make it private).
    temporary = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:12]}{TEMPORARY_SUFFIX}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    handle = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            fill(stream)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _make_directories(directory: Path, created: list[Path]) -> None:
    """mkdir -p that records the directories it made (so a failed write can remove them again)."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        created.append(path)


def _write_error(error: OSError, relative: str, renamed: int) -> OSError:
    """An OSError of the same kind whose message names the artifact and says what was changed."""
    reason = error.strerror or str(error)
    if renamed:
        outcome = f"{renamed} file(s) before it were written; it and the rest were not"
    else:
        outcome = "Nothing was changed: no partial file was kept, and an earlier copy, if any, is intact"
    message = f"Could not write artifact {relative!r}: {reason}. {outcome}."
    return OSError(error.errno, message) if error.errno is not None else OSError(message)


def _is_file_name(text: str) -> bool:
    """True when the operating system can encode text as a file name (no lone surrogates it cannot)."""
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        return False
    return True


def _join(base: str | None, name: str) -> str:
    base = (base or "").strip("/")
    return f"{base}/{name}" if base else name

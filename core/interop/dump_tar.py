"""A dump directory as one uncompressed tar stream (how a part of a dump travels to a runyard server).

Only regular files travel. Unpacking accepts regular files with plain relative names only (no absolute
paths, no '..', no links or devices) and writes them under the target directory; the dump's own checks
(manifest, checksums, records) then run on what arrived, exactly as for a dump on disk.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path, PurePosixPath
from typing import IO

from .format import DumpError


def pack_dump(dump_dir: Path, out: IO[bytes]) -> None:
    """Write every regular file under dump_dir into out as a tar stream (names relative to dump_dir)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        for directory, dirnames, filenames in os.walk(dump_dir):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(directory) / name
                if path.is_file() and not path.is_symlink():
                    archive.add(path, arcname=path.relative_to(dump_dir).as_posix(), recursive=False)


def unpack_dump(source: IO[bytes], target_dir: Path) -> None:
    """Extract the regular files of a tar stream into target_dir; raises DumpError on anything else."""
    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=source, mode="r|") as archive:
            for member in archive:
                path = _safe_path(target_dir, member)
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise DumpError(f"The uploaded dump entry {member.name!r} has no content.")
                path.parent.mkdir(parents=True, exist_ok=True)
                with extracted, open(path, "xb") as out:
                    shutil.copyfileobj(extracted, out, 1 << 20)
    except tarfile.TarError as error:
        raise DumpError(f"The uploaded dump is not a complete tar stream ({error}).") from None
    except FileExistsError:
        raise DumpError("The uploaded dump holds a file twice.") from None


def _safe_path(target_dir: Path, member: tarfile.TarInfo) -> Path:
    name = PurePosixPath(member.name)
    if not member.isfile() or name.is_absolute() or any(part in ("", ".", "..") for part in name.parts):
        raise DumpError(f"The uploaded dump holds {member.name!r}, which is not a plain file of a dump.")
    return target_dir.joinpath(*name.parts)

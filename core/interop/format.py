"""The runyard dump format: file names, manifest, JSON Lines writing with checksums, value encoding.

A dump is a directory:

    manifest.json        format name and version, counts, SHA-256 of every .jsonl file (written last)
    experiments.jsonl    one experiment a line, its tags inline
    runs.jsonl           one run a line, in the order every other file follows
    params.jsonl         {"run_id", "key", "value"}, grouped by run in runs.jsonl order
    tags.jsonl           same shape as params
    metrics.jsonl        one (run, key) chunk of up to CHUNK_POINTS points a line, as columns:
                         {"run_id", "key", "step": [...], "timestamp": [...], "value": [...]}
    artifacts.jsonl      {"run_id", "path", "size", "sha256"} of each file under artifacts/<run_id>/
    inputs.jsonl         {"run_id", "dataset": {name, digest, source_type, source, schema, profile},
                         "tags": {...}}: one dataset input a line, grouped by run (older dumps lack it)
    console.jsonl        {"run_id", "seq", "timestamp", "stream", "text"}: captured output chunks in order,
                         grouped by run (older dumps lack it)
    artifacts/           the artifact files

NaN and infinities are written as the strings "NaN", "Infinity" and "-Infinity" (strict JSON).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import IO, Any

from ..exceptions import InvalidInput
from ..json_output import json_float

FORMAT_NAME = "runyard-dump"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARTIFACTS_DIR = "artifacts"
ENTITY_FILES = ("experiments", "runs", "params", "tags", "metrics", "artifacts", "inputs", "console")
OPTIONAL_FILES = frozenset(
    {"inputs", "console"}
)  # added after the first dumps were written: absent means empty
CHUNK_POINTS = 10_000
HASH_BLOCK = 1 << 20

# Ids become directory names in the target's artifact root: letters, digits, '-' and '_' only.
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_EXPERIMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

_SPECIAL_IN = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class DumpError(InvalidInput):
    """A dump is incomplete, corrupt, of an unknown format version, or unsafe; nothing was imported."""


def encode_values(values: list[float | None]) -> list[float | str]:
    """Metric values for JSON: NULL/NaN -> "NaN", +-inf -> "Infinity"/"-Infinity", others unchanged."""
    return [json_float(v) for v in values]


def decode_values(values: list[Any]) -> list[float]:
    """Inverse of encode_values (float() reads "NaN"/"Infinity"); raises DumpError on a non-number."""
    try:
        if bool in set(map(type, values)):
            raise TypeError
        return list(map(float, values))
    except (TypeError, ValueError):
        bad = next((v for v in values if not _is_number(v)), values)
        raise DumpError(f"Bad metric value {bad!r} in the dump.") from None


def _is_number(value: Any) -> bool:
    if isinstance(value, str):
        return value in _SPECIAL_IN
    return isinstance(value, int | float) and not isinstance(value, bool)


def all_ints(values: list[Any]) -> bool:
    """True when every item is an int (not a bool, not a float)."""
    return set(map(type, values)) <= {int}


def check_run_id(run_id: object) -> str:
    """A run id safe as a directory name (MLflow's and runyard's 32 hex both pass)."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise DumpError(f"Bad run id {run_id!r} in the dump: expected up to 32 letters, digits, '-' or '_'.")
    return run_id


def check_experiment_id(experiment_id: object) -> str:
    """An experiment id safe as a directory name."""
    if not isinstance(experiment_id, str) or not _EXPERIMENT_ID.match(experiment_id):
        raise DumpError(
            f"Bad experiment id {experiment_id!r} in the dump: expected up to 64 letters, digits, '-' or '_'."
        )
    return experiment_id


class JsonlWriter:
    """Writes one JSON object a line and keeps the count and SHA-256 of the bytes written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._hash = hashlib.sha256()
        self.count = 0
        self.size = 0

    def write(self, record: dict[str, Any]) -> None:
        """Append one record."""
        data = (
            json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"
        ).encode()
        self._file.write(data)
        self._hash.update(data)
        self.count += 1
        self.size += len(data)

    @property
    def sha256(self) -> str:
        """Hex digest of everything written so far."""
        return self._hash.hexdigest()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Write manifest.json atomically (a dump without one is incomplete)."""
    temporary = out_dir / (MANIFEST + ".tmp")
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(out_dir / MANIFEST)


def read_manifest(in_dir: Path) -> dict[str, Any]:
    """The manifest of a dump, checked for format name and version; raises DumpError otherwise."""
    path = in_dir / MANIFEST
    if not in_dir.is_dir():
        raise DumpError(f"No dump at {in_dir}: give the directory written by `runyard export`.")
    if not path.is_file():
        raise DumpError(
            f"{in_dir} has no {MANIFEST}: it is not a runyard dump, or its export did not finish."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise DumpError(f"{path} is not valid JSON ({error}): the dump is damaged.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise DumpError(f"{path} is not a runyard dump manifest (format is not {FORMAT_NAME!r}).")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise DumpError(
            f"The dump has format version {version!r}; this runyard reads version {FORMAT_VERSION}. "
            "Export again with this runyard, or import with the runyard that wrote it."
        )
    files = manifest.get("files")
    required = [kind for kind in ENTITY_FILES if kind not in OPTIONAL_FILES]
    if not isinstance(files, dict) or any(not isinstance(files.get(kind), dict) for kind in required):
        raise DumpError(f"{path} does not list every entity file ({', '.join(required)}).")
    return manifest


def iter_records(path: Path) -> Any:
    """Yield the JSON objects of a .jsonl file, one at a time (streaming)."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                raise DumpError(
                    f"{path.name} line {number} is not valid JSON: the dump is damaged."
                ) from None
            if not isinstance(record, dict):
                raise DumpError(f"{path.name} line {number} is not a JSON object: the dump is damaged.")
            yield record

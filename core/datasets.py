"""Describe what a run trained on: a pandas DataFrame, a numpy array, a file or directory, or a URI.

Each becomes a DatasetInput with MLflow's fields (name, digest, source type, source, schema, profile).
DataFrames and arrays get MLflow's digest (mlflow/data/digest_utils.py: md5 over pandas' row hashes of
the first 10,000 rows, the length and the column names, truncated to 8 hex characters), so the same data
has the same digest in both tools. Files and directories get a SHA-256 over their bytes (a directory:
over each file's relative path and content, in path order), truncated to 32 hex characters to fit
MLflow's 36-character digest column. pandas and numpy are imported only when such an object is given.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from .entities import DATASET_CONTEXT_TAG, Dataset, DatasetInput, InputTag
from .exceptions import InvalidInput, MissingExtra

MAX_ROWS = 10_000  # MLflow hashes at most this many rows (or array elements)
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://.+")
_BLOCK = 1 << 20


def context_tags(context: str | None) -> list[InputTag]:
    """The input tags that give a dataset input its context (none for None)."""
    return [] if context is None else [InputTag(DATASET_CONTEXT_TAG, context)]


def _md5_digest(elements: list[Any]) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for element in elements:
        md5.update(element)
    return md5.hexdigest()[:8]


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise MissingExtra(
            "Digests of DataFrames and arrays need pandas: pip install 'runyard[pandas]'."
        ) from None
    return pandas


def pandas_digest(df: Any) -> str:
    """MLflow's digest of a DataFrame (compute_pandas_digest): the same data gives the same digest."""
    import numpy as np

    pd = _pandas()
    trimmed = df.head(MAX_ROWS)
    types = df.map(type) if hasattr(df, "map") else df.applymap(type)  # pandas < 2.1: applymap
    string_columns = trimmed.columns[(types == str).all(axis=0)]  # noqa: E721  (elementwise, as MLflow)
    numeric_columns = trimmed.select_dtypes(include=[np.number]).columns
    trimmed = trimmed[string_columns.union(numeric_columns)]
    return _md5_digest(
        [pd.util.hash_pandas_object(trimmed).values, np.int64(len(df))]
        + [str(x).encode() for x in df.columns]
    )


def numpy_digest(features: Any) -> str:
    """MLflow's digest of a numpy array (compute_numpy_digest without targets)."""
    import numpy as np

    pd = _pandas()
    elements: list[Any] = []
    trimmed = features.flatten()[0:MAX_ROWS]
    try:
        elements.append(pd.util.hash_array(trimmed))
    except TypeError:
        elements.append(np.int64(trimmed.size))
    elements.extend(np.int64(x) for x in features.shape)
    return _md5_digest(elements)


_COLSPEC_TYPES = {"b": "boolean", "i": "long", "u": "long", "f": "double", "M": "datetime", "m": "long"}


def _dataframe_input(df: Any, name: str | None) -> Dataset:
    columns = []
    for column, dtype in df.dtypes.items():
        kind = _COLSPEC_TYPES.get(dtype.kind)
        if kind == "long" and dtype.itemsize < 8 and dtype.kind in "iu":
            kind = "integer"
        if kind == "double" and dtype.itemsize < 8:
            kind = "float"
        columns.append({"type": kind or "string", "name": str(column), "required": True})
    return Dataset(
        name=name or "dataset",
        digest=pandas_digest(df),
        source_type="code",
        source=json.dumps({"tags": {}}),
        schema=json.dumps({"mlflow_colspec": columns}),
        profile=json.dumps({"num_rows": len(df), "num_elements": int(df.size)}),
    )


def _array_input(array: Any, name: str | None) -> Dataset:
    spec = [{"type": "tensor", "tensor-spec": {"dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]}}]
    return Dataset(
        name=name or "dataset",
        digest=numpy_digest(array),
        source_type="code",
        source=json.dumps({"tags": {}}),
        schema=json.dumps({"mlflow_tensorspec": {"features": json.dumps(spec), "targets": None}}),
        profile=json.dumps(
            {
                "features_shape": list(array.shape),
                "features_size": int(array.size),
                "features_nbytes": int(array.nbytes),
            }
        ),
    )


def _hash_file(path: Path, digest: Any) -> int:
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            size += len(block)
    return size


def _path_input(path: Path, name: str | None) -> Dataset:
    digest = hashlib.sha256()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        total = 0
        for file in files:
            inner = hashlib.sha256()
            total += _hash_file(file, inner)
            digest.update(file.relative_to(path).as_posix().encode() + b"\0" + inner.digest())
        profile = {"num_files": len(files), "num_bytes": total}
    else:
        profile = {"num_bytes": _hash_file(path, digest)}
    return Dataset(
        name=name or path.name,
        digest=digest.hexdigest()[:32],
        source_type="local",
        source=json.dumps({"uri": str(path)}),
        profile=json.dumps(profile),
    )


def _uri_input(uri: str, scheme: str, name: str | None) -> Dataset:
    return Dataset(
        name=name or (uri.rstrip("/").rsplit("/", 1)[-1] or uri),
        digest=hashlib.sha256(uri.encode()).hexdigest()[:32],
        source_type=scheme.lower(),
        source=json.dumps({"uri": uri}),
    )


def dataset_input(dataset: Any, context: str | None = "training", name: str | None = None) -> DatasetInput:
    """The DatasetInput describing a DataFrame, array, existing file or directory, or URI (scheme://...)."""
    if name is not None and (not isinstance(name, str) or not name):
        raise InvalidInput(f"Invalid dataset name {name!r}: give a non-empty string or None.")
    if context is not None and not isinstance(context, str):
        raise InvalidInput(f"Invalid context {context!r}: give a string such as 'training', or None.")
    pandas = sys.modules.get("pandas")
    numpy = sys.modules.get("numpy")
    if pandas is not None and isinstance(dataset, pandas.DataFrame):
        return DatasetInput(_dataframe_input(dataset, name), context_tags(context))
    if numpy is not None and isinstance(dataset, numpy.ndarray):
        return DatasetInput(_array_input(dataset, name), context_tags(context))
    if isinstance(dataset, str) and (match := _URI.match(dataset)) and match.group(1).lower() != "file":
        return DatasetInput(_uri_input(dataset, match.group(1), name), context_tags(context))
    if isinstance(dataset, str) and dataset.lower().startswith("file://"):
        dataset = dataset[len("file://") :]
    if isinstance(dataset, (str, os.PathLike)):
        path = Path(os.fsdecode(dataset)).expanduser()
        if not path.exists():
            raise InvalidInput(
                f"No file or directory {str(path)!r}: give an existing path, a URI such as "
                "s3://bucket/key, a pandas DataFrame or a numpy array."
            )
        return DatasetInput(_path_input(path.resolve(), name), context_tags(context))
    raise InvalidInput(
        f"Cannot log a {type(dataset).__name__} as a dataset: give a pandas DataFrame, a numpy array, "
        "a file or directory path, or a URI."
    )

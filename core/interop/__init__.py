"""Interop: export/import/copy runs between runyard stores, import from MLflow, metric DataFrames.

The functions here are thin wrappers that import their implementation on first call, so that
`import runyard` never pays for SQLAlchemy, pandas or mlflow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dump import ExportResult
    from .load import ImportResult


def export_runs(
    store: str,
    out_dir: str | os.PathLike[str],
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    include_deleted: bool = False,
    include_artifacts: bool = True,
) -> ExportResult:
    """Write the runs of a store (all, or of the named experiments, matching a filter) to a new dump dir."""
    from .dump import export_runs as _export

    return _export(store, out_dir, experiment_names, filter_string, include_deleted, include_artifacts)


def import_runs(
    store: str,
    in_dir: str | os.PathLike[str],
    on_conflict: str = "skip",
    artifact_root: str | None = None,
) -> ImportResult:
    """Load a dump into a store, keeping ids, times, statuses, lifecycle and every metric point."""
    from .load import import_runs as _import

    return _import(store, in_dir, on_conflict, artifact_root)


def copy_runs(
    source: str,
    target: str,
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    include_deleted: bool = True,
    on_conflict: str = "skip",
    artifact_root: str | None = None,
) -> ImportResult:
    """Copy runs from one store to another through a temporary dump (checked like any dump)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="runyard-copy-") as temporary:
        dump_dir = os.path.join(temporary, "dump")
        export_runs(source, dump_dir, experiment_names, filter_string, include_deleted)
        return import_runs(target, dump_dir, on_conflict, artifact_root)


def import_mlflow(
    mlflow_uri: str,
    store: str,
    experiment_names: Sequence[str] | None = None,
    artifact_root: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Copy experiments and runs of an MLflow tracking store into a runyard store (idempotent).

    progress(done, total), when given, is called as the source's runs are read (databases only).
    """
    from .mlflow_import import import_mlflow as _import_mlflow

    return _import_mlflow(mlflow_uri, store, experiment_names, artifact_root, progress)


__all__ = ["copy_runs", "export_runs", "import_mlflow", "import_runs"]

"""Import an MLflow tracking store (sqlite file, database URL or ./mlruns directory) through MlflowClient.

The source is never modified: a SQLite file is copied (SQLite backup API, read-only) into a temporary
directory and MLflow reads the copy (upgrading its schema there when MLflow needs that); a file
store's metadata is copied too (MLflow creates folders in the directory it opens); another database
must already be at MLflow's current schema. The runs are written to a temporary runyard dump, which
then goes through the ordinary checked import, so ids, times, lifecycle and every metric point are
kept, and importing again skips the runs already there.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import mask_uri, normalize_tracking_uri
from ..entities import LifecycleStage, SourceType
from ..exceptions import ExperimentNotFound, MissingExtra, StoreError
from ..rest.protocol import runyard_tag_key as map_tag_key
from .dump import DumpWriter
from .format import CHUNK_POINTS, RUN_ID_PATTERN
from .load import ImportResult, _existing_run_ids, import_runs

PAGE_SIZE = 1000
_ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"
_SOURCE_TYPES = {
    "NOTEBOOK": SourceType.NOTEBOOK,
    "JOB": SourceType.JOB,
    "PROJECT": SourceType.JOB,
    "LOCAL": SourceType.LOCAL,
}


def _mlflow() -> Any:
    try:
        import mlflow
        from mlflow.tracking import MlflowClient  # noqa: F401
    except ImportError:
        raise MissingExtra(
            "Importing from MLflow needs the mlflow package: pip install 'runyard[mlflow]'"
        ) from None
    return mlflow


def import_mlflow(
    mlflow_uri: str,
    store: str,
    experiment_names: Sequence[str] | None = None,
    artifact_root: str | None = None,
) -> ImportResult:
    """Copy experiments, runs, params, metric histories, tags and artifacts of an MLflow store."""
    _mlflow()
    from ..store import SqlStore

    target_uri = normalize_tracking_uri(store)
    target = SqlStore(target_uri, artifact_root=artifact_root)
    allow_file_store = os.environ.get(_ALLOW_FILE_STORE)
    os.environ[_ALLOW_FILE_STORE] = "true"  # MLflow 3 opens ./mlruns only with this set
    try:
        with tempfile.TemporaryDirectory(prefix="runyard-mlflow-") as temporary:
            return _import(mlflow_uri, target, target_uri, Path(temporary), experiment_names, artifact_root)
    finally:
        if allow_file_store is None:
            os.environ.pop(_ALLOW_FILE_STORE, None)
        else:
            os.environ[_ALLOW_FILE_STORE] = allow_file_store


def _import(
    mlflow_uri: str,
    target: Any,
    target_uri: str,
    work: Path,
    experiment_names: Sequence[str] | None,
    artifact_root: str | None,
) -> ImportResult:
    """Dump the MLflow store into work/dump, then import that dump."""
    client, deleted_times = _open_source(mlflow_uri, work)
    writer = DumpWriter(work / "dump", mlflow_uri)
    skipped = 0
    try:
        for experiment in _experiments(client, experiment_names):
            writer.experiment(_experiment_record(experiment))
            skipped += _write_runs(client, writer, target, experiment.experiment_id, deleted_times, work)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    result = import_runs(target_uri, work / "dump", "skip", artifact_root)
    result.runs_skipped += skipped
    return result

    # ----------------------------------------------------------------- opening the source, read-only


def _open_source(uri: str, work: Path) -> tuple[Any, dict[str, int]]:
    """An MlflowClient on a safe view of the source, and deleted_time of deleted runs when readable."""
    from mlflow.tracking import MlflowClient

    text = uri.strip()
    if "://" not in text and Path(text).expanduser().is_file():
        text = f"sqlite:///{Path(text).expanduser().absolute()}"  # a plain path to an mlflow.db file
    if text.startswith("sqlite:"):
        source = _sqlite_path(text)
        copy = work / "mlflow.db"
        _sqlite_copy(source, copy)
        _upgrade_copy(f"sqlite:///{copy}")
        client = MlflowClient(tracking_uri=f"sqlite:///{copy}")
    elif "://" in text and not text.startswith("file:"):
        _check_database(text)
        client = MlflowClient(tracking_uri=text)
    else:
        root = Path(text[len("file://") :] if text.startswith("file://") else text).expanduser().absolute()
        if not root.is_dir() or not any(root.glob("*/meta.yaml")):
            raise StoreError(f"{root} is not an MLflow file store (no <experiment>/meta.yaml inside).")
        copy = work / "mlruns"
        shutil.copytree(root, copy, ignore=_skip_run_artifacts, symlinks=True)
        client = MlflowClient(tracking_uri=copy.as_uri())
    return client, _deleted_times(client)


def _sqlite_path(uri: str) -> Path:
    rest = uri.split(":", 1)[1]
    rest = rest[3:] if rest.startswith("///") else rest.lstrip("/")
    path = Path(rest.split("?", 1)[0]).expanduser().absolute()
    if not path.is_file():
        raise StoreError(f"No MLflow database at {path}.")
    return path


def _sqlite_copy(source: Path, copy: Path) -> None:
    """Consistent copy of a SQLite database (WAL included) through a read-only connection."""
    try:
        reader = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
        writer = sqlite3.connect(copy)
        try:
            reader.backup(writer)
        finally:
            writer.close()
            reader.close()
    except sqlite3.Error as error:
        raise StoreError(f"Cannot read the MLflow database {source}: {error}") from None


def _upgrade_copy(copy_uri: str) -> None:
    """Bring the temporary copy to MLflow's current schema (the source stays as it was)."""
    import sqlalchemy
    from mlflow.store.db import utils

    engine = sqlalchemy.create_engine(copy_uri)
    try:
        if not _looks_like_mlflow(engine):
            raise StoreError("The SQLite file is not an MLflow tracking database (its tables are missing).")
        if utils._get_schema_version(engine) != utils._get_latest_schema_revision():
            utils._upgrade_db(engine)
    finally:
        engine.dispose()


def _check_database(uri: str) -> None:
    """A database source must already be an MLflow store at the current schema (we never migrate it)."""
    import sqlalchemy
    from mlflow.store.db import utils

    try:
        engine = sqlalchemy.create_engine(uri)
    except Exception as error:  # noqa: BLE001 - bad URL or missing driver: one line
        raise StoreError(f"Cannot open {mask_uri(uri)}: {error}") from None
    try:
        if not _looks_like_mlflow(engine):
            raise StoreError(f"{mask_uri(uri)} is not an MLflow tracking database (its tables are missing).")
        found, latest = utils._get_schema_version(engine), utils._get_latest_schema_revision()
        if found != latest:
            raise StoreError(
                f"{mask_uri(uri)} has MLflow schema {found}; this MLflow reads {latest}. runyard never "
                "changes the source: copy the database, run `mlflow db upgrade` on the copy, import the copy."
            )
    finally:
        engine.dispose()


def _looks_like_mlflow(engine: Any) -> bool:
    """True when the database has MLflow's core tables and an alembic version (of any age)."""
    import sqlalchemy

    try:
        names = set(sqlalchemy.inspect(engine).get_table_names())
    except Exception as error:  # noqa: BLE001 - unreachable server, bad credentials: one line
        raise StoreError(f"Cannot open the MLflow database: {str(error).splitlines()[0]}") from None
    return {"experiments", "runs", "metrics", "alembic_version"} <= names


def _skip_run_artifacts(directory: str, names: list[str]) -> list[str]:
    """copytree filter: run artifact folders are copied empty (MLflow needs them; files stay put)."""
    path = Path(directory)
    if path.name == "artifacts" and (path.parent / "meta.yaml").is_file():
        return names
    return []


def _deleted_times(client: Any) -> dict[str, int]:
    """deleted_time of deleted runs from an MLflow SQL store (RunInfo does not carry it)."""
    engine = getattr(getattr(client, "_tracking_client", None), "store", None)
    engine = getattr(engine, "engine", None)
    if engine is None:
        return {}
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT run_uuid, deleted_time FROM runs WHERE lifecycle_stage = 'deleted'")
            ).all()
    except Exception:  # noqa: BLE001 - older schema without the column: fall back to end times
        return {}
    return {row[0]: int(row[1]) for row in rows if row[1] is not None}


# ----------------------------------------------------------------- reading experiments and runs
def _experiments(client: Any, names: Sequence[str] | None) -> list[Any]:
    from mlflow.entities import ViewType

    if names:
        found = []
        for name in dict.fromkeys(names):
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise ExperimentNotFound(f"No MLflow experiment named {name!r}.")
            found.append(experiment)
        return found
    experiments: list[Any] = []
    token = None
    while True:
        page = client.search_experiments(view_type=ViewType.ALL, max_results=PAGE_SIZE, page_token=token)
        experiments.extend(page)
        token = page.token
        if not token:
            return experiments


def _experiment_record(experiment: Any) -> dict[str, Any]:
    deleted = experiment.lifecycle_stage == LifecycleStage.DELETED
    return {
        "experiment_id": str(experiment.experiment_id),
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": LifecycleStage.DELETED if deleted else LifecycleStage.ACTIVE,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "deleted_time": experiment.last_update_time if deleted else None,
        "tags": {map_tag_key(k): v for k, v in sorted(experiment.tags.items())},
    }


def _write_runs(
    client: Any,
    writer: DumpWriter,
    target: Any,
    experiment_id: str,
    deleted_times: dict[str, int],
    work: Path,
) -> int:
    """Write every run of one MLflow experiment (all lifecycle stages) not already in the target."""
    from mlflow.entities import ViewType

    skipped = 0
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], "", run_view_type=ViewType.ALL, max_results=PAGE_SIZE, page_token=token
        )
        present = _existing_run_ids(target, [run.info.run_id for run in page])
        for run in page:
            if run.info.run_id in present:
                skipped += 1
                continue
            _write_run(client, writer, run, deleted_times, work)
        token = page.token
        if not token:
            return skipped


def _write_run(client: Any, writer: DumpWriter, run: Any, deleted_times: dict[str, int], work: Path) -> None:
    info, tags = run.info, dict(run.data.tags)
    run_id = info.run_id
    deleted = info.lifecycle_stage == LifecycleStage.DELETED
    parent = tags.get("mlflow.parentRunId")
    writer.run(
        {
            "run_id": run_id,
            "experiment_id": str(info.experiment_id),
            "run_name": (info.run_name or tags.get("mlflow.runName") or run_id)[:250],
            "user_id": (info.user_id or tags.get("mlflow.user") or "unknown")[:256],
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "heartbeat_time": None,
            "lifecycle_stage": LifecycleStage.DELETED if deleted else LifecycleStage.ACTIVE,
            "deleted_time": (deleted_times.get(run_id) or info.end_time or info.start_time)
            if deleted
            else None,
            "deletion_id": None,
            "source_type": _SOURCE_TYPES.get(tags.get("mlflow.source.type", "")),
            "source_name": _cut(tags.get("mlflow.source.name"), 500),
            "entry_point": _cut(tags.get("mlflow.project.entryPoint"), 500),
            "source_version": _cut(tags.get("mlflow.source.git.commit"), 64),
            "parent_run_id": parent if parent and RUN_ID_PATTERN.match(parent) else None,
            "artifact_uri": info.artifact_uri,
        }
    )
    for key, value in sorted(run.data.params.items()):
        writer.param(run_id, key, value)
    for key, value in sorted({map_tag_key(k): v for k, v in tags.items()}.items()):
        writer.tag(run_id, key, value)
    for key in sorted(run.data.metrics):
        history = client.get_metric_history(run_id, key)
        for start in range(0, len(history), CHUNK_POINTS):
            chunk = history[start : start + CHUNK_POINTS]
            writer.metric_chunk(
                run_id, key, [m.step for m in chunk], [m.timestamp for m in chunk], [m.value for m in chunk]
            )
    try:
        listed = client.list_artifacts(run_id)
        if listed:
            staging = work / "staging" / run_id
            staging.mkdir(parents=True)
            local = client.download_artifacts(run_id, "", dst_path=str(staging))
    except Exception as error:  # noqa: BLE001 - an MLflow/storage error becomes one clear line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise StoreError(
            f"Cannot read the artifacts of MLflow run {run_id} at {info.artifact_uri}: {first}. "
            "Nothing was imported."
        ) from None
    if listed:
        writer.artifact_tree(run_id, Path(local))
        shutil.rmtree(staging, ignore_errors=True)


def _cut(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]

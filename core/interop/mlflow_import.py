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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config import is_remote_uri, mask_uri, normalize_tracking_uri
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
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Copy experiments, runs, params, metric histories, tags and artifacts of an MLflow store.

    A database source (SQLite file or URL) is read with plain SQL in batches (mlflow_sql); an
    ./mlruns file store through MlflowClient. progress(done, total) follows the runs read.
    """
    _mlflow()
    from runyard.store.sql_store import SqlStore

    target_uri = normalize_tracking_uri(store)
    target: Any
    if is_remote_uri(target_uri):
        from runyard.rest.dumps import runyard_server

        target = runyard_server(target_uri, "importing runs with their ids, times and trash state")
    else:
        target = SqlStore(target_uri, artifact_root=artifact_root)
    allow_file_store = os.environ.get(_ALLOW_FILE_STORE)
    os.environ[_ALLOW_FILE_STORE] = "true"  # MLflow 3 opens ./mlruns only with this set
    try:
        with tempfile.TemporaryDirectory(prefix="runyard-mlflow-") as temporary:
            work = Path(temporary)
            return _import(mlflow_uri, target, target_uri, work, experiment_names, artifact_root, progress)
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
    progress: Callable[[int, int], None] | None = None,
    use_sql: bool = True,
) -> ImportResult:
    """Dump the MLflow store into work/dump, then import that dump."""
    source_uri, is_database = _open_source(mlflow_uri, work)
    writer = DumpWriter(work / "dump", mlflow_uri)
    try:
        if is_database and use_sql:
            skipped = _dump_with_sql(source_uri, writer, target, work, experiment_names, progress)
        else:
            skipped = _dump_with_client(source_uri, writer, target, work, experiment_names, progress)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    result = import_runs(target_uri, work / "dump", "skip", artifact_root)
    result.runs_skipped += skipped
    return result


def _dump_with_sql(
    source_uri: str,
    writer: DumpWriter,
    target: Any,
    work: Path,
    experiment_names: Sequence[str] | None,
    progress: Callable[[int, int], None] | None,
) -> int:
    from runyard.store.mlflow_tables import open_engine

    from .mlflow_sql import dump_database

    engine = open_engine(source_uri)
    try:
        return dump_database(
            engine,
            writer,
            lambda run_ids: _existing_run_ids(target, run_ids),
            lambda run_id, artifact_uri: write_artifacts(writer, run_id, artifact_uri, work),
            experiment_names,
            progress,
        )
    finally:
        engine.dispose()


def _dump_with_client(
    source_uri: str,
    writer: DumpWriter,
    target: Any,
    work: Path,
    experiment_names: Sequence[str] | None,
    progress: Callable[[int, int], None] | None,
) -> int:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=source_uri)
    deleted_times = _deleted_times(client)
    skipped = 0
    for experiment in _experiments(client, experiment_names):
        writer.experiment(_experiment_record(experiment))
        skipped += _write_runs(client, writer, target, experiment.experiment_id, deleted_times, work)
    return skipped


# ----------------------------------------------------------------- opening the source, read-only
def _open_source(uri: str, work: Path) -> tuple[str, bool]:
    """The tracking URI of a safe view of the source, and whether it is a database (else ./mlruns)."""
    text = uri.strip()
    if "://" not in text and Path(text).expanduser().is_file():
        text = f"sqlite:///{Path(text).expanduser().absolute()}"  # a plain path to an mlflow.db file
    if text.startswith("sqlite:"):
        source = _sqlite_path(text)
        copy = work / "mlflow.db"
        _sqlite_copy(source, copy)
        _upgrade_copy(f"sqlite:///{copy}")
        return f"sqlite:///{copy}", True
    if "://" in text and not text.startswith("file:"):
        _check_database(text)
        return text, True
    root = Path(text[len("file://") :] if text.startswith("file://") else text).expanduser().absolute()
    if not root.is_dir() or not any(root.glob("*/meta.yaml")):
        raise StoreError(f"{root} is not an MLflow file store (no <experiment>/meta.yaml inside).")
    copy = work / "mlruns"
    shutil.copytree(root, copy, ignore=_skip_run_artifacts, symlinks=True)
    return copy.as_uri(), False


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
    from mlflow.store.db import utils
    from runyard.store.mlflow_tables import open_engine

    engine = open_engine(copy_uri)
    try:
        if not _looks_like_mlflow(engine):
            raise StoreError("The SQLite file is not an MLflow tracking database (its tables are missing).")
        if utils._get_schema_version(engine) != utils._get_latest_schema_revision():
            utils._upgrade_db(engine)
    finally:
        engine.dispose()


def _check_database(uri: str) -> None:
    """A database source must already be an MLflow store at the current schema (we never migrate it)."""
    from mlflow.store.db import utils
    from runyard.store.mlflow_tables import open_engine

    try:
        engine = open_engine(uri)
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
    from runyard.store.mlflow_tables import table_names

    try:
        names = table_names(engine)
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
    from runyard.store.mlflow_tables import deleted_run_times

    try:
        rows = deleted_run_times(engine)
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
    return experiment_record(
        str(experiment.experiment_id),
        experiment.name,
        experiment.artifact_location,
        experiment.lifecycle_stage,
        experiment.creation_time,
        experiment.last_update_time,
        experiment.tags,
    )


def experiment_record(
    experiment_id: str,
    name: str,
    artifact_location: str | None,
    lifecycle_stage: str | None,
    creation_time: int | None,
    last_update_time: int | None,
    tags: dict[str, str],
) -> dict[str, Any]:
    """The dump record of an MLflow experiment (both import paths write this)."""
    deleted = lifecycle_stage == LifecycleStage.DELETED
    return {
        "experiment_id": experiment_id,
        "name": name,
        "artifact_location": artifact_location,
        "lifecycle_stage": LifecycleStage.DELETED if deleted else LifecycleStage.ACTIVE,
        "creation_time": creation_time,
        "last_update_time": last_update_time,
        "deleted_time": last_update_time if deleted else None,
        "tags": {map_tag_key(k): v for k, v in sorted(tags.items())},
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


def run_record(
    run_id: str,
    experiment_id: str,
    run_name: str | None,
    user_id: str | None,
    status: str,
    start_time: int | None,
    end_time: int | None,
    lifecycle_stage: str | None,
    deleted_time: int | None,
    artifact_uri: str | None,
    tags: dict[str, str],
) -> dict[str, Any]:
    """The dump record of an MLflow run, its source and parent read from its mlflow.* tags."""
    deleted = lifecycle_stage == LifecycleStage.DELETED
    parent = tags.get("mlflow.parentRunId")
    return {
        "run_id": run_id,
        "experiment_id": experiment_id,
        "run_name": (run_name or tags.get("mlflow.runName") or run_id)[:250],
        "user_id": (user_id or tags.get("mlflow.user") or "unknown")[:256],
        "status": status,
        "start_time": start_time,
        "end_time": end_time,
        "heartbeat_time": None,
        "lifecycle_stage": LifecycleStage.DELETED if deleted else LifecycleStage.ACTIVE,
        "deleted_time": (deleted_time or end_time or start_time) if deleted else None,
        "deletion_id": None,
        "source_type": _SOURCE_TYPES.get(tags.get("mlflow.source.type", "")),
        "source_name": _cut(tags.get("mlflow.source.name"), 500),
        "entry_point": _cut(tags.get("mlflow.project.entryPoint"), 500),
        "source_version": _cut(tags.get("mlflow.source.git.commit"), 64),
        "parent_run_id": parent if parent and RUN_ID_PATTERN.match(parent) else None,
        "artifact_uri": artifact_uri,
    }


def _write_run(client: Any, writer: DumpWriter, run: Any, deleted_times: dict[str, int], work: Path) -> None:
    info, tags = run.info, dict(run.data.tags)
    run_id = info.run_id
    writer.run(
        run_record(
            run_id,
            str(info.experiment_id),
            info.run_name,
            info.user_id,
            info.status,
            info.start_time,
            info.end_time,
            info.lifecycle_stage,
            deleted_times.get(run_id),
            info.artifact_uri,
            tags,
        )
    )
    for key, value in sorted(run.data.params.items()):
        writer.param(run_id, key, value)
    for key, value in sorted({map_tag_key(k): v for k, v in tags.items()}.items()):
        writer.tag(run_id, key, value)
    for item in run.inputs.dataset_inputs if run.inputs is not None else []:
        dataset = item.dataset
        fields = {
            "name": dataset.name,
            "digest": dataset.digest,
            "source_type": dataset.source_type,
            "source": dataset.source,
            "schema": dataset.schema or None,
            "profile": dataset.profile or None,
        }
        writer.dataset_input(run_id, fields, {tag.key: tag.value for tag in item.tags})
    for key in sorted(run.data.metrics):
        history = client.get_metric_history(run_id, key)
        for start in range(0, len(history), CHUNK_POINTS):
            chunk = history[start : start + CHUNK_POINTS]
            writer.metric_chunk(
                run_id, key, [m.step for m in chunk], [m.timestamp for m in chunk], [m.value for m in chunk]
            )
    write_artifacts(writer, run_id, info.artifact_uri, work, client)


def write_artifacts(
    writer: DumpWriter, run_id: str, artifact_uri: str, work: Path, client: Any = None
) -> None:
    """Copy one MLflow run's artifacts into the dump (through the client, else the URI's repository)."""
    if client is None:
        local_root = _local_artifact_dir(artifact_uri)
        if local_root is not None:  # a local directory: read in place (no repository, no download)
            if local_root.is_dir():
                writer.artifact_tree(run_id, local_root)
            return
    try:
        if client is not None:
            listed = client.list_artifacts(run_id)
        else:
            from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

            repository = get_artifact_repository(artifact_uri)
            listed = repository.list_artifacts()
        if listed:
            staging = work / "staging" / run_id
            staging.mkdir(parents=True)
            if client is not None:
                local = client.download_artifacts(run_id, "", dst_path=str(staging))
            else:
                local = repository.download_artifacts("", dst_path=str(staging))
    except Exception as error:  # noqa: BLE001 - an MLflow/storage error becomes one clear line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise StoreError(
            f"Cannot read the artifacts of MLflow run {run_id} at {artifact_uri}: {first}. "
            "Nothing was imported."
        ) from None
    if listed:
        writer.artifact_tree(run_id, Path(local))
        shutil.rmtree(staging, ignore_errors=True)


def _local_artifact_dir(artifact_uri: str | None) -> Path | None:
    """The local directory of a plain path or file:// artifact URI; None for remote schemes."""
    if not artifact_uri:
        return None
    if artifact_uri.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(artifact_uri).path))
    if "://" in artifact_uri or artifact_uri.startswith(("mlflow-artifacts:", "dbfs:", "runs:")):
        return None
    return Path(artifact_uri)


def _cut(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]

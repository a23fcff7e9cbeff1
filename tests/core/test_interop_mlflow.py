"""Import from a real MLflow store built with the mlflow package (skipped when mlflow is not installed)."""

from __future__ import annotations

import hashlib
import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import runyard
from click.testing import CliRunner
from runyard import TrackingClient
from runyard.cli import cli

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

NAN = float("nan")


def _build_mlflow_store(uri: str, tmp_path: Path) -> dict[str, Any]:
    """Two experiments (one deleted), nested runs, NaN metrics, a deleted run, params, tags, an artifact."""
    client = MlflowClient(tracking_uri=uri)
    vision = client.create_experiment(
        "vision", artifact_location=str(tmp_path / "mlartifacts" / "vision"), tags={"team": "cv"}
    )
    client.set_experiment_tag(vision, "mlflow.note.content", "experiment notes")
    old = client.create_experiment("old", artifact_location=str(tmp_path / "mlartifacts" / "old"))
    parent = client.create_run(
        vision,
        run_name="parent",
        start_time=1_700_000_000_000,
        tags={
            "mlflow.user": "alice",
            "mlflow.source.name": "train.py",
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": "0123456789abcdef",
            "mlflow.note.content": "a note",
            "custom": "yes",
        },
    )
    pid = parent.info.run_id
    child = client.create_run(vision, run_name="child", tags={"mlflow.parentRunId": pid})
    cid = child.info.run_id
    client.log_param(pid, "lr", "0.01")
    client.log_param(pid, "optimizer", "adam")
    loss = [1.0, 0.5, NAN, 0.25, 0.125]
    for step, value in enumerate(loss):
        client.log_metric(pid, "loss", value, timestamp=1_700_000_001_000 + step, step=step)
    client.log_metric(cid, "acc", 0.9, timestamp=1_700_000_002_000, step=3)
    train, holdout = _mlflow_dataset("train", "training"), _mlflow_dataset("holdout", "eval")
    client.log_inputs(pid, datasets=[train, holdout])
    client.log_inputs(cid, datasets=[_mlflow_dataset("train", "training")])
    artifact = tmp_path / "model.txt"
    artifact.write_text("weights")
    client.log_artifact(pid, str(artifact), "model")
    client.set_terminated(pid, "FINISHED", end_time=1_700_000_009_000)
    client.set_terminated(cid, "FAILED", end_time=1_700_000_008_000)
    gone = client.create_run(old, run_name="gone")
    client.log_metric(gone.info.run_id, "x", 3.0, step=0)
    client.set_terminated(gone.info.run_id, "KILLED")
    client.delete_run(gone.info.run_id)
    client.delete_experiment(old)
    return {"client": client, "parent": pid, "child": cid, "gone": gone.info.run_id, "loss": loss}


def _mlflow_dataset(name: str, context: str) -> Any:
    """A dataset input as mlflow.log_input records it (schema and profile of a pandas source)."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    dataset = Dataset(
        name=name,
        digest=hashlib.md5(name.encode()).hexdigest()[:8],
        source_type="local",
        source='{"uri": "/data/' + name + '.parquet"}',
        schema='{"mlflow_colspec": [{"type": "double", "name": "x", "required": true}]}',
        profile='{"num_rows": 120, "num_elements": 120}',
    )
    return DatasetInput(dataset, tags=[InputTag("mlflow.data.context", context)])


def _dataset_inputs(run: Any) -> list[tuple[Any, ...]]:
    """Every dataset input of a run (MLflow's or runyard's) as comparable tuples."""
    return sorted(
        (
            item.dataset.name,
            item.dataset.digest,
            item.dataset.source_type,
            item.dataset.source,
            item.dataset.schema,
            item.dataset.profile,
            tuple(sorted((tag.key, tag.value) for tag in item.tags)),
        )
        for item in run.inputs.dataset_inputs
    )


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _source_state(tmp_path: Path) -> tuple[str, dict[str, str], list[str]]:
    """Bytes of the MLflow database, its artifact tree, and the names next to it (no new -wal, mlruns)."""
    database = hashlib.sha256((tmp_path / "mlflow.db").read_bytes()).hexdigest()
    names = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("mlflow", "mlruns", "mlart")))
    return database, _tree_digest(tmp_path / "mlartifacts"), names


@pytest.fixture(scope="module")
def _mlflow_sqlite_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    """One MLflow store for the module (MLflow needs seconds to create one); the tests only read it."""
    root = tmp_path_factory.mktemp("mlflow")
    previous = os.getcwd()
    os.chdir(root)  # MLflow's default artifact root is ./mlruns
    try:
        uri = f"sqlite:///{root / 'mlflow.db'}"
        return root, uri, _build_mlflow_store(uri, root)
    finally:
        os.chdir(previous)


@pytest.fixture
def mlflow_sqlite(_mlflow_sqlite_once: tuple[Path, str, dict[str, Any]]) -> tuple[Path, str, dict[str, Any]]:
    """The shared MLflow store: its directory, URI and the ids it holds."""
    return _mlflow_sqlite_once


def test_import_mlflow_keeps_every_field(
    mlflow_sqlite: tuple[Path, str, dict[str, Any]], client: TrackingClient, tmp_path: Path
) -> None:
    source_dir, uri, built = mlflow_sqlite
    before = _source_state(source_dir)
    result = runyard.import_mlflow(uri, client.tracking_uri, artifact_root=str(tmp_path / "ry-art"))
    assert _source_state(source_dir) == before  # the source database and artifacts were not touched
    assert (result.runs_imported, result.metric_points, result.artifact_files) == (3, 7, 1)

    source: MlflowClient = built["client"]
    for run_id in (built["parent"], built["child"], built["gone"]):
        ml = source.get_run(run_id)
        ry = client.get_run(run_id)
        assert ry.info.experiment_id == ml.info.experiment_id  # MLflow's numeric ids are kept when free
        assert (ry.info.run_name, ry.info.status, ry.info.start_time, ry.info.end_time) == (
            ml.info.run_name,
            ml.info.status,
            ml.info.start_time,
            ml.info.end_time,
        )
        assert ry.info.lifecycle_stage == ml.info.lifecycle_stage
        assert ry.data.params == ml.data.params
        expected_tags = {
            ("runyard." + k[len("mlflow.") :] if k.startswith("mlflow.") else k): v
            for k, v in ml.data.tags.items()
        }
        assert ry.data.tags == expected_tags
        for key in ml.data.metrics:
            ml_history = [(m.step, m.timestamp, m.value) for m in source.get_metric_history(run_id, key)]
            ry_history = [(m.step, m.timestamp, m.value) for m in client.get_metric_history(run_id, key)]
            assert [(s, t) for s, t, _ in ry_history] == [(s, t) for s, t, _ in ml_history]
            for (_, _, got), (_, _, want) in zip(ry_history, ml_history, strict=True):
                assert got == want or (math.isnan(got) and math.isnan(want))
        assert set(ry.data.metrics) == set(ml.data.metrics)
        assert _dataset_inputs(ry) == _dataset_inputs(ml)

    parent = client.get_run(built["parent"])
    assert parent.info.user_id == "alice"
    assert (parent.info.source_type, parent.info.source_name, parent.info.source_version) == (
        "LOCAL",
        "train.py",
        "0123456789abcdef",
    )
    assert parent.data.tags["runyard.note.content"] == "a note"
    assert parent.data.tags["custom"] == "yes"
    history = [m.value for m in client.get_metric_history(built["parent"], "loss")]
    assert history[:2] == [1.0, 0.5] and math.isnan(history[2]) and history[3:] == [0.25, 0.125]
    summary = parent.data.metric_summaries["loss"]
    assert (summary.count, summary.min_value, summary.max_value, summary.latest_value) == (
        5,
        0.125,
        1.0,
        0.125,
    )
    assert (tmp_path / "ry-art") in Path(parent.info.artifact_uri).parents
    assert (Path(parent.info.artifact_uri) / "model" / "model.txt").read_text() == "weights"

    assert sorted(d.dataset.name for d in parent.inputs.dataset_inputs) == ["holdout", "train"]
    child = client.get_run(built["child"])
    assert len(child.inputs.dataset_inputs) == 1
    assert child.info.parent_run_id == built["parent"]
    assert child.data.tags["runyard.parentRunId"] == built["parent"]

    gone = client.get_run(built["gone"])
    assert gone.info.lifecycle_stage == "deleted" and gone.info.deleted_time is not None
    old = client.get_experiment_by_name("old")
    assert old is not None and old.lifecycle_stage == "deleted"
    vision = client.get_experiment_by_name("vision")
    assert vision is not None and vision.tags == {"runyard.note.content": "experiment notes", "team": "cv"}


def test_import_mlflow_twice_changes_nothing(
    mlflow_sqlite: tuple[Path, str, dict[str, Any]], client: TrackingClient
) -> None:
    _, uri, built = mlflow_sqlite
    runyard.import_mlflow(uri, client.tracking_uri)
    first = {run_id: client.get_run(run_id) for run_id in (built["parent"], built["child"], built["gone"])}
    experiments = client.list_experiments("ALL")
    again = runyard.import_mlflow(uri, client.tracking_uri)
    assert (again.runs_imported, again.runs_skipped, again.experiments_created) == (0, 3, 0)
    assert client.list_experiments("ALL") == experiments
    for run_id, run in first.items():
        assert client.get_run(run_id) == run
    assert len(client.get_metric_history(built["parent"], "loss")) == 5


def test_import_mlflow_file_store_never_writes_into_it(
    tmp_path: Path, client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlruns = tmp_path / "mlruns"
    built = _build_mlflow_store(mlruns.as_uri(), tmp_path)
    before = _tree_digest(mlruns)
    before_dirs = sorted(p for p in mlruns.rglob("*"))
    result = runyard.import_mlflow(str(mlruns), client.tracking_uri)
    assert result.runs_imported == 3
    assert sorted(p for p in mlruns.rglob("*")) == before_dirs and _tree_digest(mlruns) == before
    assert client.get_run(built["child"]).info.parent_run_id == built["parent"]
    assert client.get_run(built["gone"]).info.lifecycle_stage == "deleted"


def test_import_mlflow_cli_and_bad_sources(
    mlflow_sqlite: tuple[Path, str, dict[str, Any]], tmp_path: Path
) -> None:
    _, uri, _ = mlflow_sqlite
    group = cli
    target = f"sqlite:///{tmp_path / 'ry.db'}"
    out = CliRunner().invoke(group, ["import-mlflow", "--from", uri, "--store", target])
    assert out.exit_code == 0, out.output
    assert "Imported 3 run(s) with 7 metric points and 1 artifact file(s)" in out.output
    nope = f"sqlite:///{tmp_path / 'nope.db'}"
    missing = CliRunner().invoke(group, ["import-mlflow", "--from", nope, "--store", target])
    assert missing.exit_code == 2 and "Error: No MLflow database" in missing.output
    assert not (tmp_path / "nope.db").exists()


def test_missing_mlflow_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    with pytest.raises(runyard.MissingExtra, match=r"pip install 'runyard\[mlflow\]'"):
        runyard.import_mlflow("sqlite:///x.db", f"sqlite:///{tmp_path / 'r.db'}")
    assert os.listdir(tmp_path) == []


def test_unreadable_mlflow_artifacts_stop_the_import_before_writing(
    tmp_path: Path, client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlruns = tmp_path / "mlruns"
    source = MlflowClient(tracking_uri=mlruns.as_uri())
    experiment = source.create_experiment("remote", artifact_location="mlflow-artifacts:/remote")
    run_id = source.create_run(experiment).info.run_id
    with pytest.raises(runyard.StoreError, match=f"Cannot read the artifacts of MLflow run {run_id}"):
        runyard.import_mlflow(str(mlruns), client.tracking_uri)
    assert client.store.db.is_missing() or [e.name for e in client.list_experiments("ALL")] == []


def test_older_mlflow_schema_is_upgraded_on_a_copy_only(
    mlflow_sqlite: tuple[Path, str, dict[str, Any]], client: TrackingClient, tmp_path: Path
) -> None:
    import shutil

    import sqlalchemy
    from alembic import command
    from mlflow.store.db import utils

    source_dir, _, built = mlflow_sqlite
    old = tmp_path / "old-mlflow.db"
    shutil.copyfile(source_dir / "mlflow.db", old)
    uri = f"sqlite:///{old}"
    engine = sqlalchemy.create_engine(uri)
    config = utils._get_alembic_config(uri)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "-3")  # as if written by an older MLflow
    old_version = utils._get_schema_version(engine)
    engine.dispose()
    assert old_version != utils._get_latest_schema_revision()
    digest = hashlib.sha256(old.read_bytes()).hexdigest()
    result = runyard.import_mlflow(uri, client.tracking_uri)
    assert result.runs_imported == 3
    assert client.get_run(built["child"]).info.parent_run_id == built["parent"]
    assert hashlib.sha256(old.read_bytes()).hexdigest() == digest  # the old store was not upgraded


def _store_contents(client: TrackingClient) -> dict[str, Any]:
    """Everything an import writes, as plain values (NaN as None), artifact uris relative to their root."""

    def plain(value: float) -> float | None:
        return None if math.isnan(value) else value

    experiments = sorted(client.list_experiments("ALL"), key=lambda e: e.experiment_id)
    runs: dict[str, Any] = {}
    for experiment in experiments:
        for run in client.search_runs([experiment.experiment_id], run_view_type="ALL", max_results=1000):
            info = run.info.__dict__ | {"artifact_uri": Path(run.info.artifact_uri).name}
            histories = {
                key: [
                    (m.timestamp, m.step, plain(m.value))
                    for m in client.get_metric_history(info["run_id"], key)
                ]
                for key in sorted(run.data.metrics)
            }
            summaries = {
                key: (s.count, plain(s.min_value), plain(s.max_value), plain(s.latest_value), s.latest_step)
                for key, s in run.data.metric_summaries.items()
            }
            artifacts = sorted(f.path for f in client.list_artifacts(info["run_id"], "model"))
            runs[info["run_id"]] = (
                info,
                run.data.params,
                run.data.tags,
                histories,
                summaries,
                artifacts,
                _dataset_inputs(run),
            )
    listed = [
        (e.experiment_id, e.name, e.lifecycle_stage, e.creation_time, e.deleted_time, e.tags)
        for e in experiments
    ]
    return {"experiments": listed, "runs": runs}


def test_sql_fast_path_imports_what_the_client_path_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.interop import mlflow_import

    previous = os.getcwd()
    os.chdir(tmp_path)
    try:
        uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
        built = _build_mlflow_store(uri, tmp_path)
        source: MlflowClient = built["client"]
        for step, value in enumerate([math.inf, -math.inf, 2.5]):  # infinities and a repeated step
            source.log_metric(
                built["child"], "edge", value, timestamp=1_700_000_003_000 - step, step=min(step, 1)
            )
        source.log_param(built["child"], "p", "x" * 500)
    finally:
        os.chdir(previous)
    progress: list[tuple[int, int]] = []
    fast = TrackingClient(f"sqlite:///{tmp_path / 'fast.db'}", artifact_root=str(tmp_path / "fast-art"))
    fast_result = runyard.import_mlflow(
        uri,
        fast.tracking_uri,
        artifact_root=str(tmp_path / "fast-art"),
        progress=lambda d, t: progress.append((d, t)),
    )
    assert progress[0] == (0, 3) and progress[-1] == (3, 3)

    opened = mlflow_import._open_source
    monkeypatch.setattr(mlflow_import, "_open_source", lambda uri, work: (opened(uri, work)[0], False))
    slow = TrackingClient(f"sqlite:///{tmp_path / 'slow.db'}", artifact_root=str(tmp_path / "slow-art"))
    slow_result = runyard.import_mlflow(uri, slow.tracking_uri, artifact_root=str(tmp_path / "slow-art"))
    assert (
        (fast_result.runs_imported, fast_result.metric_points, fast_result.artifact_files)
        == (
            slow_result.runs_imported,
            slow_result.metric_points,
            slow_result.artifact_files,
        )
        == (3, 10, 1)
    )
    assert _store_contents(fast) == _store_contents(slow)
    edge = fast.get_metric_history(built["child"], "edge")
    assert [m.value for m in edge] == [
        2.5,
        -1.7976931348623157e308,
        1.7976931348623157e308,
    ]  # as MLflow stores them

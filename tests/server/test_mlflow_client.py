"""The stock mlflow client against a `runyard server` subprocess; read back through runyard's own client."""

from __future__ import annotations

import math
from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric as MlflowMetric
from runyard import TrackingClient
from runyard.rest.protocol import runyard_tag_key
from server_helpers import ServerProcess


def _local(server: ServerProcess) -> TrackingClient:
    return TrackingClient(server.store_uri, must_exist=True)


def _assert_same_run(mlflow_run: Any, runyard_run: Any) -> None:
    """Equal field by field, after the mlflow.* -> runyard.* tag mapping."""
    info, mine = mlflow_run.info, runyard_run.info
    assert mine.run_id == info.run_id
    assert mine.run_name == info.run_name
    assert mine.experiment_id == info.experiment_id
    assert mine.user_id == info.user_id
    assert mine.status == info.status
    assert mine.start_time == info.start_time
    assert mine.end_time == info.end_time
    assert mine.lifecycle_stage == info.lifecycle_stage
    assert info.artifact_uri == f"mlflow-artifacts:/{info.experiment_id}/{info.run_id}/artifacts"
    assert runyard_run.data.params == mlflow_run.data.params
    mapped = {runyard_tag_key(k): v for k, v in mlflow_run.data.tags.items()}
    visible = {k: v for k, v in runyard_run.data.tags.items() if k != "runyard.heartbeatSource"}
    assert visible == mapped
    assert set(runyard_run.data.metrics) == set(mlflow_run.data.metrics)
    for key, value in mlflow_run.data.metrics.items():
        mine_value = runyard_run.data.metrics[key]
        assert (math.isnan(value) and math.isnan(mine_value)) or mine_value == value


def test_fluent_logging_reads_back_equal(server: ServerProcess, mlflow_uri: str) -> None:
    experiment = mlflow.set_experiment("/team/fluent")
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"batch": 32, "optimizer": "adam"})
        mlflow.log_param("lr", 0.01)  # the same value again is fine
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "weird": math.nan, "big": math.inf}, step=7)
        mlflow.set_tag("stage", "dev")
        mlflow.set_tags({"team": "vision", "mlflow.note.content": "a note"})
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("x", 3.0)
    client = MlflowClient()
    got_parent, got_child = client.get_run(parent.info.run_id), client.get_run(child.info.run_id)
    assert got_parent.info.status == "FINISHED" and got_parent.info.end_time
    assert got_parent.data.params == {"lr": "0.01", "batch": "32", "optimizer": "adam"}
    assert got_parent.data.metrics["loss"] == pytest.approx(0.2)
    assert math.isnan(got_parent.data.metrics["weird"]) and got_parent.data.metrics["big"] == math.inf
    assert got_child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert got_parent.data.tags["mlflow.note.content"] == "a note"

    local = _local(server)
    _assert_same_run(got_parent, local.get_run(parent.info.run_id))
    _assert_same_run(got_child, local.get_run(child.info.run_id))
    assert local.get_run(child.info.run_id).info.parent_run_id == parent.info.run_id
    assert local.get_experiment(experiment.experiment_id).name == "/team/fluent"
    history = local.get_metric_history(parent.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert not local.get_run(parent.info.run_id).info.is_lost(10**15)  # finished


def test_running_run_is_not_lost_between_writes(server: ServerProcess, mlflow_uri: str) -> None:
    mlflow.set_experiment("/team/live")
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
        info = _local(server).get_run(run.info.run_id).info
        assert info.heartbeat_from_writes
        later = info.heartbeat_time + 10 * 60 * 1000  # ten minutes without a write: still running
        assert not info.is_lost(later)
        assert info.is_lost(info.heartbeat_time + 31 * 60 * 1000)


def test_search_runs_mlflow_filter_order_by_and_runyard_or(server: ServerProcess, mlflow_uri: str) -> None:
    experiment = mlflow.set_experiment("/team/search")
    client = MlflowClient()
    ids = {}
    for index, (model, score) in enumerate([("cnn", 0.7), ("rnn", 0.9), ("mlp", 0.8), ("cnn", 0.95)]):
        run = client.create_run(experiment.experiment_id, run_name=f"r{index}")
        client.log_batch(
            run.info.run_id,
            metrics=[MlflowMetric("score", score, 1000 + index, 0)],
            params=[mlflow.entities.Param("model", model)],
        )
        ids[f"r{index}"] = run.info.run_id
    found = mlflow.search_runs(
        [experiment.experiment_id],
        filter_string="params.model = 'cnn' and metrics.score > 0.5",
        order_by=["metrics.score DESC"],
        output_format="list",
    )
    assert [r.info.run_id for r in found] == [ids["r3"], ids["r0"]]
    either = client.search_runs(
        [experiment.experiment_id],
        "params.model = 'rnn' OR metrics.score < 0.75",
        order_by=["attributes.run_name ASC"],
    )
    assert [r.info.run_name for r in either] == ["r0", "r1"]
    paged = client.search_runs([experiment.experiment_id], max_results=3, order_by=["metrics.score ASC"])
    rest = client.search_runs(
        [experiment.experiment_id], max_results=3, order_by=["metrics.score ASC"], page_token=paged.token
    )
    assert [r.info.run_name for r in list(paged) + list(rest)] == ["r0", "r2", "r1", "r3"]
    assert rest.token is None
    names = [e.name for e in client.search_experiments(filter_string="name LIKE '/team/%'")]
    assert "/team/search" in names and "Default" not in names


def test_metric_history_of_100000_points(server: ServerProcess, mlflow_uri: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("/team/long-history")
    run_id = client.create_run(experiment_id).info.run_id
    for start in range(0, 100_000, 1000):
        points = [
            MlflowMetric("loss", float(step % 97), 1_700_000_000_000 + step, step)
            for step in range(start, start + 1000)
        ]
        client.log_batch(run_id, metrics=points)
    history = client.get_metric_history(run_id, "loss")
    assert len(history) == 100_000
    assert [m.step for m in history] == list(range(100_000))
    assert history[-1].value == float(99_999 % 97)
    mine = _local(server).get_metric_history(run_id, "loss")
    assert [(m.step, m.value, m.timestamp) for m in mine] == [(m.step, m.value, m.timestamp) for m in history]


def test_delete_restore_and_set_terminated(server: ServerProcess, mlflow_uri: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("/team/lifecycle")
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert _local(server).get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment_id]) == []
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run_id]
    client.set_terminated(run_id, status="FAILED", end_time=1_800_000_000_000)
    info = _local(server).get_run(run_id).info
    assert (info.status, info.end_time) == ("FAILED", 1_800_000_000_000)
    client.rename_experiment(experiment_id, "/team/lifecycle-renamed")
    client.set_experiment_tag(experiment_id, "owner", "ana")
    experiment = client.get_experiment_by_name("/team/lifecycle-renamed")
    assert experiment is not None and experiment.tags["owner"] == "ana"
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    client.restore_experiment(experiment_id)
    assert _local(server).get_experiment(experiment_id).lifecycle_stage == "active"


def test_dataset_inputs_through_the_server(server: ServerProcess, mlflow_uri: str) -> None:
    import pandas as pd

    experiment = mlflow.set_experiment("/team/datasets")
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, name="toy", targets="y")  # type: ignore[attr-defined]
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(dataset, context="training")  # once per (run, dataset, context)
    inputs = MlflowClient().get_run(run.info.run_id).inputs
    assert inputs is not None
    got = inputs.dataset_inputs
    assert [(d.dataset.name, d.dataset.digest) for d in got] == [("toy", dataset.digest)]
    assert {t.key: t.value for t in got[0].tags}["mlflow.data.context"] == "training"
    mine = _local(server).get_run(run.info.run_id).inputs.dataset_inputs
    assert [(d.dataset.name, d.dataset.digest, d.context) for d in mine] == [
        ("toy", dataset.digest, "training")
    ]
    found = mlflow.search_runs([experiment.experiment_id], "datasets.name = 'toy'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    found_inputs = found[0].inputs
    assert found_inputs is not None and found_inputs.dataset_inputs[0].dataset.name == "toy"

"""MLflow 3 logged models through a `runyard server`: the stock client's log_model, autolog, and the API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from runyard import TrackingClient
from runyard.entities import MODEL_HISTORY
from runyard.tracking.run_contents import run_models
from server_helpers import ServerProcess
from sklearn.linear_model import LogisticRegression

FEATURES = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.8], [0.9, 0.1], [0.4, 0.7], [0.7, 0.2]])
LABELS = np.array([0, 1, 0, 1, 0, 1])


def _local(server: ServerProcess) -> TrackingClient:
    return TrackingClient(server.store_uri, must_exist=True)


@pytest.fixture
def sklearn_autolog(mlflow_uri: str) -> Iterator[None]:
    """mlflow.sklearn.autolog() for one test, switched off afterwards."""
    mlflow.sklearn.autolog(log_input_examples=True)
    try:
        yield
    finally:
        mlflow.sklearn.autolog(disable=True)


def test_sklearn_log_model_loads_back_by_model_id_and_run_uri(server: ServerProcess, mlflow_uri: str) -> None:
    mlflow.set_experiment("logged-models")
    estimator = LogisticRegression().fit(FEATURES, LABELS)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(estimator, name="model", input_example=FEATURES[:2])
    run_id = run.info.run_id

    model = MlflowClient().get_logged_model(info.model_id)
    assert model.status.to_proto() == model.status.READY.to_proto()
    assert model.source_run_id == run_id
    assert model.artifact_location == f"{run.info.artifact_uri}/model"
    expected = estimator.predict(FEATURES)
    assert list(mlflow.sklearn.load_model(f"models:/{info.model_id}").predict(FEATURES)) == list(expected)
    assert list(mlflow.sklearn.load_model(f"runs:/{run_id}/model").predict(FEATURES)) == list(expected)
    assert [o.model_id for o in MlflowClient().get_run(run_id).outputs.model_outputs] == [info.model_id]

    # runyard's own client on the store sees the same model, its files among the run's artifacts
    local = _local(server)
    mine = local.get_logged_model(info.model_id)
    assert (mine.name, mine.status, mine.source_run_id) == ("model", "READY", run_id)
    assert "model/MLmodel" in {f.path for f in local.list_artifacts(run_id, "model")}
    assert [o.model_id for o in local.get_run(run_id).outputs.model_outputs] == [info.model_id]
    (summary,) = run_models(local, local.get_run(run_id))  # what the run details' Model section shows
    assert (summary.path, summary.flavor, summary.model_id, summary.status) == (
        "model",
        "sklearn",
        info.model_id,
        "READY",
    )
    assert summary.inputs == "tensor float64 [-1, 2]"
    script = f"import runyard\nrunyard.set_tracking_uri({server.store_uri!r})\n" + summary.snippet
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_sklearn_autolog_logs_run_dataset_and_model(
    server: ServerProcess, mlflow_uri: str, sklearn_autolog: None
) -> None:
    mlflow.set_experiment("autolog")
    with mlflow.start_run() as run:
        estimator = LogisticRegression(C=0.5).fit(FEATURES, LABELS)
    got = MlflowClient().get_run(run.info.run_id)
    assert got.data.params["C"] == "0.5"
    assert got.data.metrics["training_accuracy_score"] == 1.0
    assert "train" in {d.tags[0].value for d in got.inputs.dataset_inputs}
    (output,) = got.outputs.model_outputs
    model = MlflowClient().get_logged_model(output.model_id)
    assert model.status.to_proto() == model.status.READY.to_proto()
    loaded = mlflow.sklearn.load_model(f"models:/{output.model_id}")
    assert list(loaded.predict(FEATURES)) == list(estimator.predict(FEATURES))

    local = _local(server)
    assert local.get_logged_model(output.model_id).source_run_id == run.info.run_id
    served = MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs
    mine = local.get_run(run.info.run_id).inputs.dataset_inputs
    assert sorted((d.dataset.digest, d.tags[0].value) for d in mine) == sorted(
        (d.dataset.digest, d.tags[0].value) for d in served
    )


def test_logged_model_api_create_tag_params_search_finalize_delete(
    server: ServerProcess, mlflow_uri: str, tmp_path: Path
) -> None:
    client = MlflowClient()
    experiment_id = mlflow.set_experiment("model-api").experiment_id
    first = client.create_logged_model(
        experiment_id, name="first", tags={"team": "vision"}, params={"depth": "3"}, model_type="clf"
    )
    second = client.create_logged_model(experiment_id, name="second")
    assert first.artifact_location == f"mlflow-artifacts:/{experiment_id}/models/{first.model_id}/artifacts"
    assert first.tags == {"team": "vision"} and first.params == {"depth": "3"}
    assert first.status.to_proto() == first.status.PENDING.to_proto()

    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    client.log_model_artifacts(first.model_id, str(tmp_path))
    assert [f.path for f in client.list_logged_model_artifacts(first.model_id)] == ["weights.bin"]
    stored = server.artifacts / experiment_id / "models" / first.model_id / "artifacts"
    assert (stored / "weights.bin").read_bytes() == b"\x00\x01"

    client.set_logged_model_tags(first.model_id, {"team": "nlp", "stage": "dev"})
    client.delete_logged_model_tag(first.model_id, "stage")
    mlflow.log_model_params({"lr": "0.1"}, model_id=first.model_id)
    ready = client.finalize_logged_model(first.model_id, "READY")
    assert ready.status.to_proto() == ready.status.READY.to_proto()
    again = client.get_logged_model(first.model_id)
    assert again.tags == {"team": "nlp"} and again.params == {"depth": "3", "lr": "0.1"}

    found = client.search_logged_models([experiment_id], filter_string="name = 'first'")
    assert [m.model_id for m in found] == [first.model_id]
    ordered = client.search_logged_models(
        [experiment_id], order_by=[{"field_name": "name", "ascending": False}], max_results=1
    )
    assert [m.name for m in ordered] == ["second"] and ordered.token
    rest = client.search_logged_models(
        [experiment_id],
        order_by=[{"field_name": "name", "ascending": False}],
        max_results=1,
        page_token=ordered.token,
    )
    assert [m.name for m in rest] == ["first"]

    client.delete_logged_model(second.model_id)
    with pytest.raises(MlflowException) as missing:
        client.get_logged_model(second.model_id)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert [m.name for m in client.search_logged_models([experiment_id])] == ["first"]


def test_model_metrics_in_log_batch_reach_the_model(server: ServerProcess, mlflow_uri: str) -> None:
    client = MlflowClient()
    experiment_id = mlflow.set_experiment("model-metrics").experiment_id
    with mlflow.start_run() as run:
        model = client.create_logged_model(experiment_id, name="m", source_run_id=run.info.run_id)
        mlflow.log_metric("val_acc", 0.75, step=2, model_id=model.model_id)
    (metric,) = client.get_logged_model(model.model_id).metrics
    assert (metric.key, metric.value, metric.step, metric.run_id) == ("val_acc", 0.75, 2, run.info.run_id)
    assert client.get_run(run.info.run_id).data.metrics == {"val_acc": 0.75}


def test_record_logged_model_appends_to_the_run_history(server: ServerProcess, api: httpx.Client) -> None:
    run = api.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).json()["run"]
    entry = {"artifact_path": "model", "flavors": {"python_function": {}, "sklearn": {}}, "run_id": "x"}
    body = {"run_id": run["info"]["run_id"], "model_json": json.dumps(entry)}
    assert api.post("/api/2.0/mlflow/runs/log-model", json=body).json() == {}
    tags = api.get("/api/2.0/mlflow/runs/get", params={"run_id": run["info"]["run_id"]}).json()["run"]
    history = {t["key"]: t["value"] for t in tags["data"]["tags"]}["mlflow.log-model.history"]
    assert json.loads(history) == [{**entry, "name": "model", "flavor": "sklearn"}]
    local = _local(server).get_run(run["info"]["run_id"])
    assert json.loads(local.data.tags[MODEL_HISTORY])[0]["flavor"] == "sklearn"


def test_delete_experiment_tag(server: ServerProcess, mlflow_uri: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("tagged")
    client.set_experiment_tag(experiment_id, "owner", "ana")
    client.set_experiment_tag(experiment_id, "keep", "yes")
    client.delete_experiment_tag(experiment_id, "owner")
    assert client.get_experiment(experiment_id).tags == {"keep": "yes"}
    with pytest.raises(MlflowException, match="no tag 'owner'"):
        client.delete_experiment_tag(experiment_id, "owner")


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "status"),
    [
        ("PATCH", "/logged-models/{id}", {"status": "DONE"}, "INVALID_PARAMETER_VALUE", 400),
        ("PATCH", "/logged-models/{id}", {}, "INVALID_PARAMETER_VALUE", 400),
        ("GET", "/logged-models/m-unknown", None, "RESOURCE_DOES_NOT_EXIST", 404),
        ("PATCH", "/logged-models/m-unknown/tags", {"tags": [{"key": "a", "value": "b"}]}, None, 404),
        ("POST", "/logged-models", {"experiment_id": "no-such"}, "RESOURCE_DOES_NOT_EXIST", 404),
        ("POST", "/logged-models", {"experiment_id": "0", "name": "a/b"}, "INVALID_PARAMETER_VALUE", 400),
        ("POST", "/logged-models/search", {}, "INVALID_PARAMETER_VALUE", 400),
        ("POST", "/logged-models/search", {"experiment_ids": ["0"], "filter": "name =="}, None, 400),
        (
            "POST",
            "/logged-models/search",
            {"experiment_ids": ["0"], "datasets": [{"dataset_name": "d"}]},
            "INVALID_PARAMETER_VALUE",
            400,
        ),
        ("POST", "/runs/outputs", {"run_id": "nope", "models": [{"model_id": "{id}"}]}, None, 404),
        ("POST", "/runs/log-model", {"run_id": "nope", "model_json": "[]"}, None, 400),
    ],
)
def test_bad_logged_model_requests_answer_4xx_and_change_nothing(
    api: httpx.Client, method: str, path: str, body: dict[str, object] | None, code: str | None, status: int
) -> None:
    model = api.post("/api/2.0/mlflow/logged-models", json={"experiment_id": "0"}).json()["model"]
    model_id = model["info"]["model_id"]
    raw = json.dumps(body).replace("{id}", model_id) if body is not None else None
    response = api.request(method, "/api/2.0/mlflow" + path.replace("{id}", model_id), content=raw)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error_code"] == code
    after = api.get(f"/api/2.0/mlflow/logged-models/{model_id}").json()["model"]
    assert after == model


def test_log_batch_naming_an_unknown_model_writes_nothing(api: httpx.Client) -> None:
    run_id = api.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    point = {"key": "acc", "value": 0.5, "timestamp": 1, "step": 0, "model_id": "m-unknown"}
    response = api.post("/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": [point]})
    assert response.status_code == 404 and response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    data = api.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert "metrics" not in data

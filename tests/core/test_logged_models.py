"""Logged models (MLflow 3): create, get, finalize, tags, params, metrics, search, run outputs, gc."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from runyard import (
    ExperimentNotFound,
    InvalidInput,
    InvalidQuery,
    InvalidState,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelNotFound,
    LoggedModelOutput,
    LoggedModelStatus,
    RunNotFound,
    TrackingClient,
)


def test_create_get_and_finalize(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("models")
    run = client.create_run(experiment_id)
    model = client.create_logged_model(
        experiment_id, "clf", run.info.run_id, tags={"team": "a"}, params={"C": "1.0"}, model_type="sklearn"
    )
    assert model.model_id.startswith("m-") and model.status == LoggedModelStatus.PENDING
    assert (model.name, model.source_run_id, model.model_type) == ("clf", run.info.run_id, "sklearn")
    assert model.artifact_location == f"{run.info.artifact_uri}/clf"  # among the run's artifacts
    assert (model.tags, model.params, model.metrics) == ({"team": "a"}, {"C": "1.0"}, [])
    assert model.model_uri == f"models:/{model.model_id}"
    assert client.get_logged_model(model.model_id) == model

    ready = client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status == "READY" and ready.last_updated_timestamp >= model.last_updated_timestamp
    assert client.get_logged_model(model.model_id).status == "READY"


def test_artifact_locations_never_collide(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("models")
    run = client.create_run(experiment_id)
    first = client.create_logged_model(experiment_id, "model", run.info.run_id)
    second = client.create_logged_model(experiment_id, "model", run.info.run_id)
    assert first.artifact_location == f"{run.info.artifact_uri}/model"
    assert second.artifact_location == f"{run.info.artifact_uri}/models/{second.model_id}"
    unattached = client.create_logged_model(experiment_id)
    experiment = client.get_experiment(experiment_id)
    assert (
        unattached.artifact_location
        == f"{experiment.artifact_location}/models/{unattached.model_id}/artifacts"
    )
    assert unattached.name and unattached.source_run_id is None  # a memorable name when none is given


def test_bad_requests_are_refused(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("models")
    with pytest.raises(InvalidInput, match="Invalid model name 'a/b'"):
        client.create_logged_model(experiment_id, "a/b")
    with pytest.raises(ExperimentNotFound):
        client.create_logged_model("nope", "m")
    with pytest.raises(RunNotFound):
        client.create_logged_model(experiment_id, "m", source_run_id="0" * 32)
    with pytest.raises(LoggedModelNotFound, match="'m-missing' not found"):
        client.get_logged_model("m-missing")
    model = client.create_logged_model(experiment_id, "m")
    with pytest.raises(InvalidInput, match="Invalid logged model status 'DONE'"):
        client.finalize_logged_model(model.model_id, "DONE")
    assert client.get_logged_model(model.model_id).status == "PENDING"
    client.delete_experiment(experiment_id)
    with pytest.raises(InvalidState, match="trash"):
        client.create_logged_model(experiment_id, "m2")


def test_tags_params_and_metrics(client: TrackingClient) -> None:
    model_id = client.create_logged_model(client.create_experiment("models"), "m", tags={"a": "1"}).model_id
    client.set_logged_model_tags(model_id, {"a": "2", "b": "3"})
    client.delete_logged_model_tag(model_id, "b")
    with pytest.raises(InvalidInput, match="has no tag 'b'"):
        client.delete_logged_model_tag(model_id, "b")
    client.log_logged_model_params(model_id, {"depth": 3})
    client.log_logged_model_params(model_id, {"depth": "3"})  # the same value again is fine
    with pytest.raises(InvalidInput, match="write-once"):
        client.log_logged_model_params(model_id, {"depth": "4"})
    client.store.log_logged_model_metrics(
        model_id,
        [
            LoggedModelMetric("acc", 0.9, 1, 0, "r" * 32, "iris", "d1"),
            LoggedModelMetric("loss", math.nan, 2, 1),
        ],
    )
    model = client.get_logged_model(model_id)
    assert model.tags == {"a": "2"} and model.params == {"depth": "3"}
    assert model.metrics[0] == LoggedModelMetric("acc", 0.9, 1, 0, "r" * 32, "iris", "d1")
    assert model.metrics[1].key == "loss" and math.isnan(model.metrics[1].value)


def test_search_filters_orders_and_pages(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("models")
    other = client.create_experiment("other")
    ids = {}
    for name in ("alpha", "beta", "gamma"):
        ids[name] = client.create_logged_model(experiment_id, name, tags={"kind": name[0]}).model_id
    client.create_logged_model(other, "elsewhere")
    client.finalize_logged_model(ids["beta"], "READY")
    client.store.log_logged_model_metrics(ids["gamma"], [LoggedModelMetric("acc", 0.95, 1, 0)])
    client.delete_logged_model(ids["alpha"])

    def names(filter_string: str | None = None, order_by: list[str] | None = None) -> list[str]:
        return [
            m.name for m in client.search_logged_models([experiment_id], filter_string, order_by=order_by)
        ]

    assert names() == ["gamma", "beta"]  # newest first; deleted models are hidden
    assert names("status = 'READY'") == ["beta"]
    assert names("name LIKE '%a' AND tags.kind != 'b'") == ["gamma"]
    assert names("metrics.acc > 0.9") == ["gamma"]
    assert names("name = 'beta' OR name = 'gamma'", ["name ASC"]) == ["beta", "gamma"]
    assert [m.name for m in client.search_logged_models([experiment_id, other], order_by=["name"])] == [
        "beta",
        "elsewhere",
        "gamma",
    ]
    first = client.search_logged_models([experiment_id, other], max_results=2, order_by=["name"])
    assert [m.name for m in first] == ["beta", "elsewhere"] and first.token
    rest = client.search_logged_models(
        [experiment_id, other], max_results=2, order_by=["name"], page_token=first.token
    )
    assert [m.name for m in rest] == ["gamma"] and rest.token is None
    with pytest.raises(InvalidInput, match="page_token"):
        client.search_logged_models([experiment_id], "name = 'x'", page_token=first.token)
    with pytest.raises(InvalidQuery, match="Invalid attribute key 'colour'"):
        client.search_logged_models([experiment_id], "colour = 'red'")
    with pytest.raises(LoggedModelNotFound):
        client.get_logged_model(ids["alpha"])
    assert client.get_logged_model(ids["alpha"], allow_deleted=True).lifecycle_stage == "deleted"


def test_run_outputs_and_model_inputs_come_back_with_the_run(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("models")
    run_id = client.create_run(experiment_id).info.run_id
    model_id = client.create_logged_model(experiment_id, "m", run_id).model_id
    client.log_outputs(run_id, [LoggedModelOutput(model_id, 7)])
    client.log_outputs(run_id, [LoggedModelOutput(model_id, 7)])  # the same link again changes nothing
    client.log_inputs(run_id, models=[LoggedModelInput(model_id)])
    run = client.get_run(run_id)
    assert run.outputs.model_outputs == [LoggedModelOutput(model_id, 7)]
    assert run.inputs.model_inputs == [LoggedModelInput(model_id)]
    assert client.search_runs([experiment_id])[0].outputs == run.outputs
    with pytest.raises(InvalidInput, match="step"):
        client.log_outputs(run_id, [LoggedModelOutput(model_id, "x")])  # type: ignore[arg-type]


def test_gc_removes_models_with_their_runs_and_experiments(client: TrackingClient, tmp_path: Path) -> None:
    from sqlalchemy import text

    experiment_id = client.create_experiment("models")
    run_id = client.create_run(experiment_id).info.run_id
    with_run = client.create_logged_model(
        experiment_id, "m", run_id, tags={"a": "b"}, params={"p": "1"}
    ).model_id
    client.store.log_logged_model_metrics(with_run, [LoggedModelMetric("acc", 0.5, 1, 0)])
    client.log_outputs(run_id, [LoggedModelOutput(with_run, 0)])
    free = client.create_logged_model(experiment_id, "free", tags={"x": "y"})
    without_run = free.model_id
    Path(free.artifact_location).mkdir(parents=True)
    (Path(free.artifact_location) / "MLmodel").write_text("flavors: {}\n")
    client.delete_run(run_id)
    client.gc(run_ids=[run_id])
    with pytest.raises(LoggedModelNotFound):
        client.get_logged_model(with_run, allow_deleted=True)
    assert client.get_logged_model(without_run).tags == {"x": "y"}
    client.delete_experiment(experiment_id)
    client.gc(experiment_ids=[experiment_id])
    with pytest.raises(LoggedModelNotFound):
        client.get_logged_model(without_run, allow_deleted=True)
    assert not Path(free.artifact_location).exists()
    assert not Path(free.artifact_location).parent.parent.exists()  # <experiment>/models is gone too
    with client.store.db.connect() as conn:
        for (
            table
        ) in "logged_models logged_model_tags logged_model_params logged_model_metrics run_models".split():
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table


def test_delete_experiment_tag_removes_one_tag_and_names_a_missing_one(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("tagged", tags={"owner": "ana", "keep": "yes"})
    client.delete_experiment_tag(experiment_id, "owner")
    assert client.get_experiment(experiment_id).tags == {"keep": "yes"}
    with pytest.raises(InvalidInput, match="no tag 'owner'"):
        client.delete_experiment_tag(experiment_id, "owner")
    client.delete_experiment(experiment_id)
    with pytest.raises(InvalidState, match="restore it"):
        client.delete_experiment_tag(experiment_id, "keep")
    assert client.get_experiment(experiment_id).tags == {"keep": "yes"}

"""MLflow 3 logged models through the Store interface: the same calls on SqlStore and both kinds of server."""

from __future__ import annotations

from pathlib import Path

import pytest
from runyard import LoggedModelMetric, LoggedModelNotFound, LoggedModelOutput, LoggedModelStatus
from runyard.exceptions import InvalidInput
from runyard.tracking.client import TrackingClient
from runyard.tracking.models import save_model


def test_a_logged_model_is_created_finalized_tagged_and_read_back(
    remote: TrackingClient, experiment: str
) -> None:
    run = remote.create_run(experiment, run_name="trainer")
    run_id = run.info.run_id
    created = remote.create_logged_model(
        experiment, "classifier", run_id, tags={"team": "vision"}, params={"C": "0.5"}, model_type="sklearn"
    )
    assert created.model_id and created.status == LoggedModelStatus.PENDING
    assert (created.name, created.source_run_id, created.model_type) == ("classifier", run_id, "sklearn")
    assert created.artifact_location  # where the client uploads the files (through the artifact proxy)

    ready = remote.finalize_logged_model(created.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY
    remote.set_logged_model_tags(created.model_id, {"stage": "candidate", "team": "vision-2"})
    remote.delete_logged_model_tag(created.model_id, "stage")
    remote.log_logged_model_params(created.model_id, {"max_iter": "100"})
    remote.log_outputs(run_id, [LoggedModelOutput(created.model_id, 3)])

    model = remote.get_logged_model(created.model_id)
    assert model.tags["team"] == "vision-2" and "stage" not in model.tags
    assert model.params == {"C": "0.5", "max_iter": "100"}
    outputs = remote.get_run(run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(created.model_id, 3)]


def test_search_logged_models_filters_orders_and_pages(remote: TrackingClient, experiment: str) -> None:
    run_id = remote.create_run(experiment, run_name="trainer").info.run_id
    other = remote.create_run(experiment, run_name="other").info.run_id
    ids = {}
    for name, source in (("alpha", run_id), ("beta", run_id), ("gamma", other)):
        ids[name] = remote.create_logged_model(experiment, name, source).model_id
    remote.finalize_logged_model(ids["beta"], LoggedModelStatus.READY)

    mine = remote.search_logged_models([experiment], f"source_run_id = '{run_id}'", order_by=["name DESC"])
    assert [m.name for m in mine] == ["beta", "alpha"]
    assert [m.name for m in remote.search_logged_models([experiment], "name = 'gamma'")] == ["gamma"]

    first = remote.search_logged_models([experiment], max_results=2, order_by=["name ASC"])
    assert [m.name for m in first] == ["alpha", "beta"] and first.token
    rest = remote.search_logged_models([experiment], None, 2, ["name ASC"], page_token=first.token)
    assert [m.name for m in rest] == ["gamma"] and not rest.token

    remote.delete_logged_model(ids["alpha"])
    assert {m.name for m in remote.search_logged_models([experiment])} == {"beta", "gamma"}


def test_a_missing_logged_model_is_a_clear_not_found(remote: TrackingClient, experiment: str) -> None:
    missing = "m-0123456789abcdef0123456789abcdef"
    with pytest.raises(LoggedModelNotFound) as error:
        remote.get_logged_model(missing)
    message = str(error.value)
    assert missing in message and "\n" not in message and "Traceback" not in message
    with pytest.raises(LoggedModelNotFound):
        remote.finalize_logged_model(missing, LoggedModelStatus.READY)
    with pytest.raises(LoggedModelNotFound):
        remote.set_logged_model_tags(missing, {"a": "b"})


def test_metrics_of_a_model_come_back_with_the_model(remote: TrackingClient, experiment: str) -> None:
    run_id = remote.create_run(experiment, run_name="trainer").info.run_id
    model = remote.create_logged_model(experiment, "scored", run_id)
    remote.store.log_logged_model_metrics(
        model.model_id,
        [LoggedModelMetric("accuracy", 0.93, 1_700_000_000_000, 2, run_id, "holdout", "d1g3st")],
    )
    (metric,) = remote.get_logged_model(model.model_id).metrics
    assert (metric.key, metric.value, metric.step, metric.run_id) == ("accuracy", 0.93, 2, run_id)
    assert (metric.dataset_name, metric.dataset_digest) == ("holdout", "d1g3st")
    filtered = remote.search_logged_models([experiment], "metrics.accuracy > 0.9")
    assert [m.model_id for m in filtered] == [model.model_id]


def test_a_logged_models_files_load_back_by_its_id(
    remote: TrackingClient, experiment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_CACHE_DIR", str(tmp_path / "cache"))
    model = remote.create_logged_model(experiment, "rules")
    with pytest.warns(UserWarning, match="pickle"):
        save_model({"threshold": 0.5}, tmp_path / "saved", name="rules")
    remote.logged_model_artifacts(model.model_id).log_directory(tmp_path / "saved")
    remote.finalize_logged_model(model.model_id, LoggedModelStatus.READY)

    assert remote.load_model(f"models:/{model.model_id}", trusted=True) == {"threshold": 0.5}
    with pytest.raises(InvalidInput, match="no model registry"):
        remote.load_model("models:/rules/1")
    with pytest.raises(LoggedModelNotFound):
        remote.load_model("models:/m-0123456789abcdef0123456789abcdef")

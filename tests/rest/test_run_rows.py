"""The compact rows layout of runyard's runs/search: the same runs as MLflow's Run messages, smaller."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import pytest
from remote_servers import ServerProcess
from runyard.entities import Dataset, DatasetInput, InputTag, Metric, Run
from runyard.rest import protocol as p
from runyard.rest.decode import run_extension_json, run_from_json
from runyard.rest.run_rows import runs_from_rows, runs_to_rows
from runyard.tracking.client import TrackingClient

SKEW_MS = 1234


def _varied_runs(client: TrackingClient) -> tuple[str, list[Run]]:
    """Runs with everything a page can carry: parents, NaN and infinities, datasets, trash, heartbeats."""
    experiment = client.create_experiment("/rows/varied")
    parent = client.create_run(experiment, run_name="parent", tags={"team": "vision"}).info.run_id
    child = client.create_run(experiment, run_name="child", parent_run_id=parent).info.run_id
    client.log_batch(
        child,
        metrics=[
            Metric("loss", 0.5, 10, 0),
            Metric("loss", float("nan"), 20, 1),
            Metric("acc", math.inf, 10, 0),
            Metric("acc", -math.inf, 30, 2),
        ],
        params={"lr": "0.01", "model": "resnet"},
    )
    client.set_tag(child, "runyard.note.content", "a note")
    client.store.heartbeat([child])
    dataset = Dataset("train", "abc123", "local", "/data/train.csv")
    client.log_inputs(child, [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])])
    trashed = client.create_run(experiment, run_name="trashed").info.run_id
    client.set_terminated(trashed, "FAILED")
    client.delete_run(trashed)
    return experiment, list(client.search_runs([experiment], run_view_type="ALL"))


def _as_run_messages(runs: list[Run]) -> list[Run]:
    """What a client decodes from the Run messages (with runyard's extension) of these runs."""
    messages = []
    for run in runs:
        message = p.run_json(run)
        message["runyard"] = run_extension_json(run)
        messages.append(message)
    return [run_from_json(m, SKEW_MS) for m in json.loads(p.dumps({"runs": messages}))["runs"]]


def test_a_rows_page_decodes_to_the_runs_the_run_messages_give(tmp_path: Path) -> None:
    client = TrackingClient(f"sqlite:///{tmp_path / 'runyard.db'}", artifact_root=str(tmp_path / "art"))
    _, runs = _varied_runs(client)
    assert len(runs) == 3
    rows = json.loads(p.dumps(runs_to_rows(runs)))
    decoded = runs_from_rows(rows, SKEW_MS)
    assert decoded == _as_run_messages(runs)
    child = next(r for r in decoded if r.info.run_name == "child")
    assert math.isnan(child.data.metrics["loss"]) and child.data.metric_summaries["acc"].max_value == math.inf
    assert child.info.parent_run_id is not None and child.inputs.dataset_inputs[0].context == "training"
    assert child.data.tags["runyard.note.content"] == "a note"
    assert len(p.dumps(rows)) < len(p.dumps({"runs": [p.run_json(r) for r in runs]}))


def test_the_server_pages_rows_to_the_app_and_run_messages_to_other_clients(
    runyard_server: ServerProcess,
) -> None:
    remote = TrackingClient(runyard_server.url)
    experiment, _ = _varied_runs(remote)
    for run_id in [r.info.run_id for r in remote.search_runs([experiment])]:
        remote.log_metric(run_id, "score", 1.0, step=3)  # a page of more than one run's keys
    paged = remote.search_runs([experiment], run_view_type="ALL", max_results=2)
    rest = remote.search_runs([experiment], run_view_type="ALL", max_results=2, page_token=paged.token)
    assert paged.token is not None and rest.token is None
    runs = [*paged, *rest]
    by_messages = remote.get_runs([r.info.run_id for r in runs])  # runs/get answers Run messages
    assert runs == by_messages and len(runs) == 3

    url = f"{runyard_server.url}/api/2.0/runyard/runs/search"
    body = {"experiment_ids": [experiment], "run_view_type": "ALL"}
    plain = httpx.post(url, json=body).json()  # a client that does not ask for rows gets Run messages
    assert "rows" not in plain and len(plain["runs"]) == 3
    rows = httpx.post(url, json={**body, "layout": "rows"}).json()
    assert rows["layout"] == "rows" and len(rows["rows"]) == 3
    refused = httpx.post(url, json={**body, "layout": "columns"})
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE" and "rows" in refused.json()["message"]


@pytest.mark.parametrize("bad_row", [[], ["run-id"] * 5])
def test_a_malformed_row_is_refused_not_misread(bad_row: list[object]) -> None:
    with pytest.raises(ValueError, match="fields"):
        runs_from_rows({"layout": "rows", "keys": [], "rows": [bad_row]})


def test_a_new_search_and_its_signature_are_one_request_to_a_runyard_server(
    runyard_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.rest.transport import Transport

    remote = TrackingClient(runyard_server.url)
    experiment = remote.create_experiment("/rows/signature")
    for _ in range(3):
        remote.create_run(experiment)
    expected = remote.runs_signature([experiment])
    paths: list[str] = []
    real = Transport.request

    def counted(self: Transport, method: str, path: str, **kwargs: object) -> object:
        paths.append(path)
        return real(self, method, path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Transport, "request", counted)
    page, signature = remote.search_runs_with_signature([experiment], max_results=2)
    assert (signature, len(page), page.token is not None) == (expected, 2, True)
    assert paths == ["/api/2.0/runyard/runs/search"]

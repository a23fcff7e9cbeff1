"""Bad requests answer 4xx with MLflow's error code and change nothing; protocol details clients rely on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from runyard import TrackingClient
from server_helpers import ServerProcess

API = "/api/2.0/mlflow"


def _run(api: httpx.Client, name: str = "bad-input") -> tuple[str, str]:
    found = api.get(f"{API}/experiments/get-by-name", params={"experiment_name": name})
    if found.status_code == 200:
        experiment_id = found.json()["experiment"]["experiment_id"]
    else:
        experiment_id = api.post(f"{API}/experiments/create", json={"name": name}).json()["experiment_id"]
    run = api.post(f"{API}/runs/create", json={"experiment_id": experiment_id, "start_time": 1}).json()["run"]
    return experiment_id, run["info"]["run_id"]


def _snapshot(server: ServerProcess, run_id: str) -> tuple[Any, ...]:
    run = TrackingClient(server.store_uri, must_exist=True).get_run(run_id)
    return run.data.params, run.data.tags, {k: s.count for k, s in run.data.metric_summaries.items()}


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    assert body["message"]
    return str(body["message"])


@pytest.mark.parametrize(
    ("content", "json_body", "code"),
    [
        (b"{not json", None, "MALFORMED_REQUEST"),
        (b"[1, 2]", None, "MALFORMED_REQUEST"),
        (
            None,
            {"metrics": [{"key": "m", "value": "high", "timestamp": 1, "step": 0}]},
            "INVALID_PARAMETER_VALUE",
        ),
        (
            None,
            {"metrics": [{"key": "m", "value": 1, "timestamp": "soon", "step": 0}]},
            "INVALID_PARAMETER_VALUE",
        ),
        (
            None,
            {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 1.5}]},
            "INVALID_PARAMETER_VALUE",
        ),
        (None, {"params": "lr=1"}, "INVALID_PARAMETER_VALUE"),
        (None, {"params": [{"key": "bad key!", "value": "1"}]}, "INVALID_PARAMETER_VALUE"),
        (None, {"metrics": [{"key": "m", "value": 1, "timestamp": 1}] * 1001}, "INVALID_PARAMETER_VALUE"),
        (None, {"params": [{"key": f"p{i}", "value": "1"} for i in range(101)]}, "INVALID_PARAMETER_VALUE"),
        (None, {"tags": [{"key": f"t{i}", "value": "1"} for i in range(101)]}, "INVALID_PARAMETER_VALUE"),
        (
            None,
            {
                "metrics": [{"key": "ok", "value": 1, "timestamp": 1}],
                "params": [{"key": "fixed", "value": "2"}],  # differs from the logged value: refused whole
            },
            "INVALID_PARAMETER_VALUE",
        ),
    ],
)
def test_refused_log_batch_writes_nothing(
    server: ServerProcess,
    api: httpx.Client,
    content: bytes | None,
    json_body: dict[str, Any] | None,
    code: str,
) -> None:
    _, run_id = _run(api)
    assert api.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "fixed", "value": "1"}
    ).is_success
    before = _snapshot(server, run_id)
    if content is not None:
        response = api.post(
            f"{API}/runs/log-batch", content=content, headers={"Content-Type": "application/json"}
        )
    else:
        response = api.post(f"{API}/runs/log-batch", json={"run_id": run_id, **(json_body or {})})
    _error(response, 400, code)
    assert _snapshot(server, run_id) == before


def test_oversize_batch_names_the_limit(api: httpx.Client) -> None:
    _, run_id = _run(api)
    metrics = [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]
    message = _error(
        api.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "1000 metrics" in message


def test_unknown_ids_answer_resource_does_not_exist(api: httpx.Client) -> None:
    missing = "0" * 32
    _error(api.get(f"{API}/runs/get", params={"run_id": missing}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(
        api.post(f"{API}/runs/log-metric", json={"run_id": missing, "key": "m", "value": 1, "timestamp": 1}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _error(
        api.get(f"{API}/experiments/get", params={"experiment_id": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    _error(
        api.get(f"{API}/experiments/get-by-name", params={"experiment_name": "nope"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _error(api.post(f"{API}/runs/create", json={"experiment_id": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(
        api.get(f"{API}/metrics/get-history", params={"run_id": missing, "metric_key": "m"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_missing_and_mistyped_fields(api: httpx.Client) -> None:
    _error(api.post(f"{API}/experiments/create", json={}), 400, "INVALID_PARAMETER_VALUE")
    _error(api.post(f"{API}/experiments/create", json={"name": 5}), 400, "INVALID_PARAMETER_VALUE")
    _, run_id = _run(api)
    _error(
        api.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "m"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _error(api.post(f"{API}/runs/search", json={"max_results": 0}), 400, "INVALID_PARAMETER_VALUE")
    message = _error(
        api.post(f"{API}/runs/search", json={"filter": "metrics.x >"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "metrics.x" in message
    _error(
        api.post(f"{API}/runs/update", json={"run_id": run_id, "status": "DONE"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_name_taken_and_params_write_once(api: httpx.Client) -> None:
    api.post(f"{API}/experiments/create", json={"name": "taken"})
    _error(api.post(f"{API}/experiments/create", json={"name": "taken"}), 400, "RESOURCE_ALREADY_EXISTS")
    _, run_id = _run(api)
    assert (
        api.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"}).json() == {}
    )
    assert (
        api.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"}).json() == {}
    )
    _error(
        api.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "2"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_deleted_run_refuses_writes_with_a_4xx(api: httpx.Client) -> None:
    _, run_id = _run(api)
    api.post(f"{API}/runs/delete", json={"run_id": run_id})
    _error(
        api.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "v"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _error(api.post(f"{API}/runs/delete", json={"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE")


def test_unknown_endpoints_and_meta_routes(api: httpx.Client) -> None:
    _error(api.get(f"{API}/registered-models/search"), 404, "ENDPOINT_NOT_FOUND")
    _error(api.get(f"{API}/runs/log-batch"), 404, "ENDPOINT_NOT_FOUND")  # wrong method
    _error(api.post("/api/3.0/mlflow/traces", json={}), 404, "ENDPOINT_NOT_FOUND")
    assert api.get("/health").text == "OK"
    version = api.get("/version")
    assert version.headers["content-type"].startswith("text/plain") and version.text[0].isdigit()


def test_wire_format_nan_int64_strings_and_empty_answers(api: httpx.Client) -> None:
    experiment_id, run_id = _run(api, "wire")
    assert isinstance(experiment_id, str)
    metrics = [
        {"key": "a", "value": "NaN", "timestamp": "1700000000000", "step": "3"},
        {"key": "b", "value": "Infinity", "timestamp": 1700000000001, "step": 0},
        {"key": "c", "value": "-Infinity", "timestamp": 1700000000002},
        {"key": "d", "value": "0.5", "timestamp": "1700000000003", "step": "1"},
    ]
    assert api.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).json() == {}
    run = api.get(f"{API}/runs/get", params={"run_uuid": run_id}).json()["run"]
    values = {m["key"]: (m["value"], m["timestamp"], m["step"]) for m in run["data"]["metrics"]}
    assert values == {
        "a": ("NaN", 1700000000000, 3),
        "b": ("Infinity", 1700000000001, 0),
        "c": ("-Infinity", 1700000000002, 0),
        "d": (0.5, 1700000000003, 1),
    }
    assert run["info"]["run_uuid"] == run_id and run["info"]["status"] == "RUNNING"
    assert isinstance(run["info"]["start_time"], int)
    history = api.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "zzz"})
    assert history.json() == {}
    paged = api.get(
        f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "a", "max_results": "1"}
    ).json()
    assert len(paged["metrics"]) == 1 and "next_page_token" not in paged
    preview = api.post("/api/2.0/preview/mlflow/runs/search", json={"experiment_ids": [experiment_id]})
    assert [r["info"]["run_id"] for r in preview.json()["runs"]] == [run_id]


def test_get_history_bulk_interval_samples_steps(api: httpx.Client) -> None:
    _, first = _run(api, "bulk-interval")
    _, second = _run(api, "bulk-interval")
    for run_id in (first, second):
        points = [{"key": "loss", "value": step, "timestamp": 1, "step": step} for step in range(1000)]
        api.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": points})
    answer = api.get(
        f"{API}/metrics/get-history-bulk-interval",
        params=[
            ("run_ids", first),
            ("run_ids", second),
            ("metric_key", "loss"),
            ("max_results", "10"),
            ("start_step", "100"),
            ("end_step", "199"),
        ],
    ).json()["metrics"]
    by_run = {run_id: [m["step"] for m in answer if m["run_id"] == run_id] for run_id in (first, second)}
    assert by_run[first] == by_run[second]
    assert by_run[first][0] == 100 and by_run[first][-1] == 199 and len(by_run[first]) <= 12
    _error(
        api.get(
            f"{API}/metrics/get-history-bulk-interval",
            params={"run_ids": first, "metric_key": "loss", "start_step": "5"},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_databricks_bulk_delete_and_restore(server: ServerProcess, api: httpx.Client) -> None:
    experiment_id = api.post(f"{API}/experiments/create", json={"name": "bulk"}).json()["experiment_id"]
    ids = [
        api.post(f"{API}/runs/create", json={"experiment_id": experiment_id, "start_time": t}).json()["run"][
            "info"
        ]["run_id"]
        for t in (100, 200, 300)
    ]
    deleted = api.post(
        f"{API}/databricks/runs/delete-runs",
        json={"experiment_id": experiment_id, "max_timestamp_millis": "250"},
    )
    assert deleted.json() == {"runs_deleted": 2}
    local = TrackingClient(server.store_uri, must_exist=True)
    assert [local.get_run(i).info.lifecycle_stage for i in ids] == ["deleted", "deleted", "active"]
    restored = api.post(
        f"{API}/databricks/runs/restore-runs",
        json={"experiment_id": experiment_id, "min_timestamp_millis": 0, "max_runs": 1},
    )
    assert restored.json() == {"runs_restored": 1}
    _error(
        api.post(
            f"{API}/databricks/runs/delete-runs",
            json={"experiment_id": experiment_id, "max_timestamp_millis": 1, "max_runs": 10_001},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _error(
        api.post(f"{API}/databricks/runs/delete-runs", json={"experiment_id": experiment_id}),
        400,
        "INVALID_PARAMETER_VALUE",
    )

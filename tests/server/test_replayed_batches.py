"""The server stores a batch of a run once: a replay with the same batch id answers 200 unwritten."""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from runyard.rest.protocol import BATCH_ID_HEADER
from server_helpers import ServerProcess

API = "/api/2.0/mlflow"


def _new_run(api: httpx.Client) -> str:
    response = api.post(f"{API}/runs/create", json={"experiment_id": "0"})
    assert response.status_code == 200, response.text
    return str(response.json()["run"]["info"]["run_id"])


def _batch(run_id: str, steps: range) -> dict[str, Any]:
    metrics = [{"key": "loss", "value": step / 2, "timestamp": 1_000 + step, "step": step} for step in steps]
    return {"run_id": run_id, "metrics": metrics}


def _steps(api: httpx.Client, run_id: str) -> list[int]:
    response = api.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"})
    assert response.status_code == 200, response.text
    return sorted(int(m["step"]) for m in response.json().get("metrics", []))


def test_a_batch_sent_twice_is_stored_once(api: httpx.Client) -> None:
    run_id = _new_run(api)
    for _ in range(2):
        response = api.post(
            f"{API}/runs/log-batch", json=_batch(run_id, range(10)), headers={BATCH_ID_HEADER: "b1"}
        )
        assert response.status_code == 200 and response.json() == {}
    response = api.post(
        f"{API}/runs/log-batch", json=_batch(run_id, range(10, 12)), headers={BATCH_ID_HEADER: "b2"}
    )
    assert response.status_code == 200
    assert _steps(api, run_id) == list(range(12))


def test_log_metric_with_a_batch_id_is_stored_once(api: httpx.Client) -> None:
    run_id = _new_run(api)
    body = {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 5, "step": 3}
    for _ in range(3):
        assert (
            api.post(f"{API}/runs/log-metric", json=body, headers={BATCH_ID_HEADER: "m1"}).status_code == 200
        )
    assert _steps(api, run_id) == [3]


def test_without_a_batch_id_every_request_is_written(api: httpx.Client) -> None:
    run_id = _new_run(api)
    for _ in range(2):
        assert api.post(f"{API}/runs/log-batch", json=_batch(run_id, range(2))).status_code == 200
    assert _steps(api, run_id) == [0, 0, 1, 1]


def test_a_malformed_batch_id_is_a_clear_400_and_writes_nothing(api: httpx.Client) -> None:
    run_id = _new_run(api)
    response = api.post(
        f"{API}/runs/log-batch", json=_batch(run_id, range(3)), headers={BATCH_ID_HEADER: "a b"}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "batch id" in response.json()["message"]
    assert _steps(api, run_id) == []


def test_a_batch_stored_whose_answer_was_lost_is_not_duplicated_on_replay(
    server: ServerProcess, api: httpx.Client
) -> None:
    run_id = _new_run(api)
    body = json.dumps(_batch(run_id, range(100))).encode()
    address = urlsplit(server.url)
    request = (
        f"POST {API}/runs/log-batch HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{BATCH_ID_HEADER}: lost-answer\r\nConnection: close\r\n\r\n"
    ).encode() + body
    # The client sends the batch and goes away before the answer (a dropped network, a killed proxy).
    with socket.create_connection((address.hostname, address.port)) as raw:
        raw.sendall(request)
        raw.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + 30
    while _steps(api, run_id) != list(range(100)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _steps(api, run_id) == list(range(100)), "the server never stored the batch"
    # The client never saw an answer, so it replays the batch with its id.
    replay = api.post(f"{API}/runs/log-batch", content=body, headers={BATCH_ID_HEADER: "lost-answer"})
    assert replay.status_code == 200
    assert _steps(api, run_id) == list(range(100))

"""Requests exactly as MLflow's Java and R clients send them (recorded from their sources), replayed.

The answers must be what those clients parse: 200 with a JSON object, ids as strings, int64 as
numbers, NaN/Infinity as strings, run_uuid beside run_id.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from runyard import TrackingClient
from server_helpers import ServerProcess

FIXTURES = Path(__file__).parent / "fixtures"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(value: Any, saved: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: saved.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(item, saved) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, saved) for key, item in value.items()}
    return value


def _at(payload: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        payload = payload[part]
    return payload


@pytest.mark.parametrize("fixture", ["java_client.json", "r_client.json"])
def test_recorded_client_requests(server: ServerProcess, fixture: str) -> None:
    steps = json.loads((FIXTURES / fixture).read_text())["steps"]
    saved: dict[str, str] = {}
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for step in steps:
            body = _fill(step.get("body"), saved)
            query = _fill(step.get("query"), saved)
            where = f"{fixture}: {step['method']} {step['path']}"
            content = json.dumps(body).encode() if body is not None else None
            response = client.request(
                step["method"],
                step["path"],
                params=query,
                content=content,
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 200, f"{where}: {response.text}"
            payload = response.json()
            assert isinstance(payload, dict), where
            for key, path in step.get("save", {}).items():
                saved[key] = _at(payload, path)
            expected = _fill(step.get("expect", {}), saved)
            if "expect" in step and expected == {}:
                assert payload == {}, f"{where}: {payload}"
            for path, value in expected.items():
                assert _at(payload, path) == value, f"{where}: {path} in {payload}"
            for path, kind in step.get("expect_types", {}).items():
                assert type(_at(payload, path)).__name__ == kind, where
            for path, count in step.get("expect_count", {}).items():
                assert len(_at(payload, path)) == count, f"{where}: {payload}"
            for key, (value, timestamp, step_number) in step.get("expect_metric", {}).items():
                metric = next(m for m in payload["run"]["data"]["metrics"] if m["key"] == key)
                assert (metric["value"], metric["timestamp"], metric["step"]) == (
                    value,
                    timestamp,
                    step_number,
                )
    run = TrackingClient(server.store_uri, must_exist=True).get_run(saved["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params  # what the client logged is in the store, read by runyard itself

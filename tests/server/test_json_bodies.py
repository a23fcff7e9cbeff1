"""Request bodies decode to what json.loads gives, through orjson when installed (issue 13, speed).

orjson differs from json on NaN/Infinity literals (Python clients send them), lone surrogates,
UTF-16 bodies, numbers past float range and integers past 64 bits (which it turns into floats):
those bodies must still be decoded by json, so a client sees no difference but speed.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from runyard import TrackingClient
from runyard.server import http
from server_helpers import ServerProcess

API = "/api/2.0/mlflow"
BIG = 123456789012345678901234567890  # past 64 bits: orjson would read it as 1.2345678901234568e+29

BODIES = [
    b'{"run_id": "r", "metrics": [{"key": "m", "value": 0.5, "timestamp": 1700000000000, "step": 3}]}',
    b'{"metrics": [{"key": "m", "value": NaN}, {"key": "i", "value": Infinity}, '
    b'{"key": "j", "value": -Infinity}]}',
    b'{"params": [{"key": "big", "value": ' + str(BIG).encode() + b"}]}",
    b'{"step": 18446744073709551616}',  # 2**64
    b'{"value": 1e400}',
    b'{"tag": "\\ud800"}',
    '{"name": "caf\u00e9"}'.encode("utf-16"),
    b'\xef\xbb\xbf{"bom": 1}',
    b' {"a": 1, "a": 2} ',
]


def _same(left: Any, right: Any) -> bool:
    """Equal values of equal types (NaN equal to NaN), recursively."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


@pytest.mark.parametrize("raw", BODIES)
def test_decode_json_gives_what_json_gives(raw: bytes) -> None:
    assert _same(http.decode_json(raw), json.loads(raw))


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"a": 1', b"\xff\xfe\xfa"])
def test_malformed_bodies_fail_as_json_fails(raw: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        http.decode_json(raw)
    with pytest.raises(ValueError) as reference:
        json.loads(raw)
    assert type(ours.value) is type(reference.value) and str(ours.value) == str(reference.value)


def test_fast_decoder_takes_plain_bodies_and_leaves_long_integers_to_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("orjson")
    seen: list[bytes] = []
    fast = http._orjson_loads
    assert fast is not None

    def spy(raw: bytes) -> Any:
        seen.append(raw)
        return fast(raw)

    monkeypatch.setattr(http, "_orjson_loads", spy)
    assert http.decode_json(BODIES[0])["run_id"] == "r"
    assert seen == [BODIES[0]]
    assert http.decode_json(BODIES[2])["params"][0]["value"] == BIG  # exact, not a float
    assert seen == [BODIES[0]]


def test_log_batch_with_nan_literals_and_a_long_integer_param(
    server: ServerProcess, api: httpx.Client
) -> None:
    experiment_id = api.post(f"{API}/experiments/create", json={"name": "json-bodies"}).json()[
        "experiment_id"
    ]
    run_id = api.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"][
        "run_id"
    ]
    raw = (
        f'{{"run_id": "{run_id}", "metrics": [{{"key": "loss", "value": NaN, "timestamp": 5, "step": 1}}, '
        '{"key": "gain", "value": Infinity, "timestamp": 5, "step": 1}], '
        f'"params": [{{"key": "seed", "value": {BIG}}}]}}'
    ).encode()
    answer = api.post(f"{API}/runs/log-batch", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    run = TrackingClient(server.store_uri, must_exist=True).get_run(run_id)
    assert run.data.params == {"seed": str(BIG)}
    assert math.isnan(run.data.metric_summaries["loss"].latest_value)
    assert run.data.metric_summaries["gain"].latest_value == math.inf

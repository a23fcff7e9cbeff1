"""Batch ids: a write replayed with the same id (same run) is stored once; a bad id changes nothing."""

from __future__ import annotations

import pytest
from runyard import TrackingClient
from runyard.exceptions import InvalidInput


def _history(client: TrackingClient, run_id: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")]


def test_the_same_batch_twice_is_stored_once(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    points = [("loss", float(step), 1_000 + step, step) for step in range(5)]
    client.store.log_batch(run_id, points, {"lr": "0.1"}, batch_id="b-1")
    client.store.log_batch(run_id, points, {"lr": "0.1"}, batch_id="b-1")
    assert _history(client, run_id) == [(step, float(step)) for step in range(5)]
    assert client.get_run(run_id).data.metric_summaries["loss"].count == 5


def test_a_batch_id_belongs_to_one_run(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("e")
    first, second = (client.create_run(experiment_id).info.run_id for _ in range(2))
    for run_id in (first, second):
        client.store.log_batch(run_id, [("loss", 1.0, 1, 0)], batch_id="same")
    assert _history(client, first) == _history(client, second) == [(0, 1.0)]


def test_another_batch_id_is_written(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.store.log_batch(run_id, [("loss", 1.0, 1, 0)], batch_id="a")
    client.store.log_batch(run_id, [("loss", 1.0, 1, 0)], batch_id="b")
    client.store.log_batch(run_id, [("loss", 1.0, 1, 0)])
    assert len(_history(client, run_id)) == 3


@pytest.mark.parametrize("bad", ["", "x" * 65, "a b", "id;drop", "é"])
def test_a_malformed_batch_id_is_refused_and_nothing_is_written(client: TrackingClient, bad: str) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    with pytest.raises(InvalidInput, match="batch id"):
        client.store.log_batch(run_id, [("loss", 1.0, 1, 0)], batch_id=bad)
    assert _history(client, run_id) == []

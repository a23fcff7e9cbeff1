"""TrackingClient.get_metric_history_frame: a long DataFrame of every point, NaN kept, in a stable order."""

from __future__ import annotations

import math
import sys

import pytest
import runyard
from runyard import Metric, TrackingClient

pd = pytest.importorskip("pandas")


def _two_runs(client: TrackingClient) -> tuple[str, str]:
    experiment = client.create_experiment("frames")
    first = client.create_run(experiment).info.run_id
    second = client.create_run(experiment).info.run_id
    client.log_batch(
        first,
        metrics=[Metric("loss", 1.0 / (s + 1), 100 + s, s) for s in range(4)]
        + [Metric("loss", float("nan"), 200, 4), Metric("acc", 0.5, 300, 0)],
    )
    client.log_batch(second, metrics=[Metric("loss", 9.0, 50, 0), Metric("lr", 0.1, 60, 0)])
    return first, second


def test_frame_has_every_point_in_run_key_step_order(client: TrackingClient) -> None:
    first, second = _two_runs(client)
    frame = client.get_metric_history_frame([second, first], ["loss", "acc"])
    assert list(frame.columns) == ["run_id", "key", "step", "timestamp", "value"]
    rows = [
        (r.run_id, r.key, r.step, r.timestamp, "NaN" if math.isnan(r.value) else r.value)
        for r in frame.itertuples()
    ]
    assert rows == [
        (second, "loss", 0, 50, 9.0),
        (first, "acc", 0, 300, 0.5),
        (first, "loss", 0, 100, 1.0),
        (first, "loss", 1, 101, 0.5),
        (first, "loss", 2, 102, 1.0 / 3),
        (first, "loss", 3, 103, 0.25),
        (first, "loss", 4, 200, "NaN"),
    ]
    assert str(frame["step"].dtype) == "int64" and str(frame["value"].dtype) == "float64"
    assert frame.groupby("key", observed=True)["value"].count().to_dict() == {"acc": 1, "loss": 5}


def test_frame_of_all_keys_and_of_nothing(client: TrackingClient) -> None:
    first, second = _two_runs(client)
    everything = client.get_metric_history_frame(second)
    assert sorted(zip(everything["key"], everything["value"], strict=True)) == [("loss", 9.0), ("lr", 0.1)]
    empty = client.get_metric_history_frame([first], ["no-such-key"])
    assert len(empty) == 0 and list(empty.columns) == ["run_id", "key", "step", "timestamp", "value"]
    with pytest.raises(runyard.RunNotFound, match="deadbeef"):
        client.get_metric_history_frame([first, "deadbeef"], ["loss"])


def test_missing_pandas_names_the_extra(client: TrackingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = _two_runs(client)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(runyard.MissingExtra, match=r"pip install 'runyard\[pandas\]'"):
        client.get_metric_history_frame([first], ["loss"])

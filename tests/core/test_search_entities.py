"""The runs a search page builds are the same entities as get_run's: every field, equal and immutable."""

from __future__ import annotations

import dataclasses
import math

import pytest
from runyard import Metric, TrackingClient
from runyard.entities import MetricSummary, Run, RunData, RunInfo


def test_search_results_are_the_runs_get_run_returns(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("entities")
    parent = client.create_run(experiment_id, run_name="parent", start_time=1_000).info.run_id
    child = client.create_run(
        experiment_id, run_name="child", start_time=2_000, parent_run_id=parent
    ).info.run_id
    client.log_batch(
        child,
        metrics=[Metric("loss", 0.5, 10, 0), Metric("loss", 0.25, 20, 1), Metric("odd", math.nan, 30, 0)],
        params={"lr": "0.1"},
        tags={"team": "cv"},
    )
    client.set_terminated(child, "FAILED", end_time=3_000)
    found = {run.info.run_id: run for run in client.search_runs([experiment_id])}
    for run_id in (parent, child):
        expected, got = client.get_run(run_id), found[run_id]
        assert type(got) is Run and type(got.info) is RunInfo and type(got.data) is RunData
        assert got.info == expected.info
        assert repr(got.data) == repr(expected.data)  # NaN never equals itself: compare the text
        for summary in got.data.metric_summaries.values():
            assert type(summary) is MetricSummary
            assert dataclasses.asdict(summary).keys() == {f.name for f in dataclasses.fields(MetricSummary)}
        with pytest.raises(dataclasses.FrozenInstanceError):
            got.info.run_name = "changed"  # type: ignore[misc]
    assert found[child].data.metrics["loss"] == 0.25
    assert math.isnan(found[child].data.metric_summaries["odd"].latest_value)
    assert found[child].info.parent_run_id == parent

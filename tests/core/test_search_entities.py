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


@pytest.mark.parametrize(
    "filter_string",
    ["metrics.m > 5", "metrics.m < 55", "params.p != 'x'", "tags.t LIKE 'even%'", "metrics.m > 58"],
)
def test_a_clause_most_runs_pass_pages_newest_first_like_the_reference(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch, filter_string: str
) -> None:
    """SQLite walks the runs newest first when most pass one clause: same runs, same order, same pages."""
    import runyard.store.search as search_module
    from runyard.search.evaluate import evaluate, sort_runs
    from runyard.search.parser import parse_filter

    experiment_id = client.create_experiment("many-pass")
    for index in range(60):
        run_id = client.create_run(experiment_id, start_time=1_000 + index % 7 * 10).info.run_id
        client.log_metric(run_id, "m", float(index))
        client.log_param(run_id, "p", str(index % 4))
        client.set_tag(run_id, "t", "even" if index % 2 == 0 else "odd")
    decisions: list[bool] = []
    decide = search_module._scan_in_order

    def spy(*args: object) -> bool:
        decisions.append(decide(*args))  # type: ignore[arg-type]
        return decisions[-1]

    monkeypatch.setattr(search_module, "_scan_in_order", spy)
    pages, token = [], None
    while True:
        page = client.search_runs([experiment_id], filter_string, max_results=5, page_token=token)
        pages.extend(run.info.run_id for run in page)
        token = page.token
        if not token:
            break
    every = client.search_runs([experiment_id], max_results=1000)
    node = parse_filter(filter_string)
    expected = [r.info.run_id for r in sort_runs(every, [], now_ms=0) if evaluate(node, r, now_ms=0)]
    assert pages == expected
    if client.store.db.dialect == "sqlite" and filter_string != "metrics.m > 58":
        assert decisions and all(decisions)  # the walk was taken (a rare match keeps the driven plan)

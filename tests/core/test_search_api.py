"""Module-level search API: runyard.search_runs (experiment choice, paging past 50k, flush) and
search_experiments (name LIKE, tags, order, view types)."""

from __future__ import annotations

import pytest
import runyard
from runyard import ExperimentNotFound, InvalidInput, InvalidQuery, TrackingClient


@pytest.fixture
def store(client: TrackingClient) -> TrackingClient:
    """The fixture store made the fluent API's store."""
    runyard.set_tracking_uri(client.tracking_uri)
    return client


def _run(client: TrackingClient, experiment_id: str, name: str, lr: str, start: int) -> str:
    run = client.create_run(experiment_id, run_name=name, start_time=start)
    client.log_param(run.info.run_id, "lr", lr)
    return run.info.run_id


def test_search_runs_chooses_experiments(store: TrackingClient) -> None:
    vision = store.create_experiment("/team/vision")
    nlp = store.create_experiment("/team/nlp")
    _run(store, vision, "v1", "0.1", 1)
    _run(store, nlp, "n1", "0.1", 2)
    assert [r.info.run_name for r in runyard.search_runs([vision])] == ["v1"]
    assert [r.info.run_name for r in runyard.search_runs(vision)] == ["v1"]
    assert [r.info.run_name for r in runyard.search_runs(experiment_names=["/team/nlp"])] == ["n1"]
    every = runyard.search_runs(filter_string="params.lr = '0.1'", search_all_experiments=True)
    assert [r.info.run_name for r in every] == ["n1", "v1"]  # newest first
    runyard.set_experiment("/team/vision")
    assert [r.info.run_name for r in runyard.search_runs()] == ["v1"]  # the active experiment
    with pytest.raises(ExperimentNotFound, match="/team/none"):
        runyard.search_runs(experiment_names=["/team/none"])
    with pytest.raises(InvalidInput, match="not both"):
        runyard.search_runs([vision], experiment_names=["/team/nlp"])
    with pytest.raises(InvalidInput, match="output_format"):
        runyard.search_runs([vision], output_format="json")
    with pytest.raises(InvalidQuery, match="Invalid attribute key"):
        runyard.search_runs([vision], "nope = 1")


def test_search_runs_sees_buffered_metrics(store: TrackingClient) -> None:
    runyard.set_experiment("buffered")
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_metric("loss", 0.125)
        found = runyard.search_runs(filter_string="metrics.loss < 0.2")
        assert [r.info.run_id for r in found] == [run.info.run_id]


def test_search_runs_pages_through_max_results(
    store: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.tracking import fluent_search

    monkeypatch.setattr(fluent_search, "_PAGE", 2)  # pages of 2 instead of 50,000
    experiment_id = store.create_experiment("many")
    ids = [_run(store, experiment_id, f"r{index}", "1", 100 - index) for index in range(5)]
    assert [r.info.run_id for r in runyard.search_runs([experiment_id], max_results=4)] == ids[:4]
    assert [r.info.run_id for r in runyard.search_runs([experiment_id], max_results=100)] == ids


def test_search_experiments(store: TrackingClient) -> None:
    vision = store.create_experiment("/team/vision", tags={"owner": "ana"})
    nlp = store.create_experiment("/team/nlp", tags={"owner": "bo"})
    other = store.create_experiment("sandbox", tags={"owner": "ana"})
    gone = store.create_experiment("/team/old")
    store.delete_experiment(gone)

    def names(**kwargs: object) -> list[str]:
        return [e.name for e in runyard.search_experiments(**kwargs)]  # type: ignore[arg-type]

    assert names(filter_string="name LIKE '/team/%'", order_by=["name"]) == ["/team/nlp", "/team/vision"]
    assert names(filter_string="tags.owner = 'ana'", order_by=["name DESC"]) == ["sandbox", "/team/vision"]
    assert names(filter_string="attributes.name ILIKE '/TEAM/%' AND tags.owner != 'ana'") == ["/team/nlp"]
    assert names(filter_string="name LIKE '/team/%'", view_type="DELETED_ONLY") == ["/team/old"]
    assert len(names(filter_string="name LIKE '/team/%'", view_type="ALL")) == 3
    assert names(filter_string="tags.owner IS NULL", view_type="ALL") == ["/team/old"]
    newest_first = [
        e.experiment_id for e in runyard.search_experiments(filter_string="tags.owner IS NOT NULL")
    ]
    created = {e.experiment_id: e.creation_time for e in store.list_experiments()}
    assert [created[i] for i in newest_first] == sorted((created[i] for i in newest_first), reverse=True)
    assert {vision, nlp, other} == set(newest_first)
    assert names(filter_string="creation_time > 0", order_by=["name"], max_results=1) == ["/team/nlp"]
    assert [e.name for e in store.search_experiments("name = 'sandbox'")] == ["sandbox"]
    with pytest.raises(InvalidQuery, match="Invalid entity type 'metrics'"):
        runyard.search_experiments("metrics.acc > 1")
    with pytest.raises(InvalidQuery, match="Invalid ordering key"):
        runyard.search_experiments(order_by=["start_time"])


def test_deleted_time_filters_and_orders_the_trash(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:

    experiment = client.create_experiment("/team/trash")
    first, second, kept = (
        _run(client, experiment, name, "0.1", start) for name, start in (("a", 1), ("b", 2), ("c", 3))
    )
    for run_id, when in ((second, 5_000), (first, 9_000)):
        monkeypatch.setattr(runyard.clock, "now_ms", lambda when=when: when)
        client.delete_run(run_id)
    newest_first = client.search_runs(
        experiment, run_view_type="DELETED_ONLY", order_by=["deleted_time DESC"]
    )
    assert [r.info.run_id for r in newest_first] == [first, second]
    since = client.search_runs(experiment, "attributes.deleted_time >= 6000", run_view_type="ALL")
    assert [r.info.run_id for r in since] == [first]
    still_active = client.search_runs(experiment, "deleted_time IS NULL", run_view_type="ALL")
    assert [r.info.run_id for r in still_active] == [kept]

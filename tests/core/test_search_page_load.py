"""A search page's runs are exactly what get_run returns, however the page's run keys lie.

page_load reads a page whose run keys form a (nearly) dense block with one range scan and drops
the rows of runs not on the page (other experiments' runs, deleted runs, runs of the next page);
sparse pages are read by key. Either way a run must carry its own params, tags, metric
summaries, inputs and outputs, and nothing of its neighbours.
"""

from __future__ import annotations

import math

import pytest
from runyard import Dataset, DatasetInput, InputTag, Metric, Param, RunTag, TrackingClient
from runyard.entities import LoggedModelOutput, Run
from runyard.store.page_load import run_key_scopes


def _log_run(client: TrackingClient, experiment_id: str, index: int, start: int) -> str:
    run = client.create_run(experiment_id, start_time=start, run_name=f"{experiment_id}-{index}")
    run_id = run.info.run_id
    value = float("nan") if index % 11 == 3 else index / 7  # a NaN latest value now and then
    client.log_batch(
        run_id,
        metrics=[Metric("loss", value, 0, 1), Metric(f"only_{experiment_id}_{index}", index, 2, 3)],
        params=[Param("lr", f"{experiment_id}/{index}"), Param(f"p{index % 3}", "x")],
        tags=[RunTag("owner", f"{experiment_id}-{index}")],
    )
    if index % 5 == 0:
        dataset = Dataset(f"data{index}", f"d{index}", "local", "/data/x.csv")
        client.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])])
    if index % 7 == 0:
        model = client.create_logged_model(experiment_id, f"model{index}", run_id)
        client.log_outputs(run_id, [LoggedModelOutput(model.model_id, index)])
    return run_id


def _same(run: Run, expected: Run) -> None:
    # repr keeps dict order (keys sorted as get_run sorts them) and shows NaN, which != itself
    assert repr(run) == repr(expected)
    assert [math.isnan(v) for v in run.data.metrics.values()] == [
        math.isnan(v) for v in expected.data.metrics.values()
    ]


def _check_pages(client: TrackingClient, experiment_id: str, size: int, **kwargs: object) -> list[str]:
    seen: list[str] = []
    token = None
    while True:
        page = client.search_runs([experiment_id], max_results=size, page_token=token, **kwargs)
        for run in page:
            _same(run, client.get_run(run.info.run_id))
            assert run.info.experiment_id == experiment_id
        seen += [run.info.run_id for run in page]
        token = page.token
        if token is None:
            return seen


def test_runs_of_interleaved_experiments_and_deleted_runs_stay_apart(client: TrackingClient) -> None:
    first, second = client.create_experiment("first"), client.create_experiment("second")
    ids: dict[str, list[str]] = {first: [], second: []}
    for index in range(40):  # run keys alternate between the experiments: a sparse page
        for experiment_id in (first, second):
            ids[experiment_id].append(_log_run(client, experiment_id, index, 1000 + index))
    deleted = ids[first][5:9]
    client.delete_run(deleted)
    active = [run_id for run_id in ids[first] if run_id not in deleted]
    for size in (1, 3, 17, 40):
        assert sorted(_check_pages(client, first, size)) == sorted(active)
        assert sorted(_check_pages(client, first, size, run_view_type="DELETED_ONLY")) == sorted(deleted)
    assert sorted(_check_pages(client, first, 50, run_view_type="ALL")) == sorted(ids[first])
    filtered = client.search_runs([first], "params.lr LIKE 'f%'", max_results=50, order_by=["metrics.loss"])
    for run in filtered:
        _same(run, client.get_run(run.info.run_id))


def test_a_nearly_dense_page_drops_the_rows_of_runs_not_on_it(client: TrackingClient) -> None:
    first, second = client.create_experiment("first"), client.create_experiment("second")
    ids = [_log_run(client, first, index, 5000 + index) for index in range(30)]
    stranger = _log_run(client, second, 99, 5030)  # inside the first experiment's block of keys
    ids += [_log_run(client, first, index, 5000 + index) for index in range(30, 64)]
    client.delete_run(ids[40])
    ids += [_log_run(client, first, index, 9000 + index) for index in range(64, 67)]  # the newest
    pks = [client.store.run_pk(run_id) for run_id in ids if run_id != ids[40]]
    page_pks = sorted(pks)[:64]  # the 64 oldest active runs: a page in start_time ASC order
    scopes, keep = run_key_scopes("sqlite", page_pks)
    assert "BETWEEN" in scopes[0][0] and keep == set(page_pks)  # the range path, with rows to drop
    page = client.search_runs([first], max_results=64, order_by=["attributes.start_time ASC"])
    assert [client.store.run_pk(run.info.run_id) for run in page] == page_pks
    stranger_run = client.get_run(stranger)
    for run in page:
        _same(run, client.get_run(run.info.run_id))
        assert run.data.tags["owner"] != stranger_run.data.tags["owner"]
        assert not set(run.data.metrics) & {key for key in stranger_run.data.metrics if key != "loss"}
    assert stranger not in {run.info.run_id for run in page}


def test_a_dense_page_of_newest_runs_matches_get_run(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("dense")
    ids = [_log_run(client, experiment_id, index, 100 + index) for index in range(25)]
    page = client.search_runs([experiment_id], max_results=10)
    assert [run.info.run_id for run in page] == ids[::-1][:10]
    scopes, keep = run_key_scopes("sqlite", [client.store.run_pk(run.info.run_id) for run in page])
    assert "BETWEEN" in scopes[0][0] and keep is None  # exactly the page's keys: nothing to drop
    for run in page:
        _same(run, client.get_run(run.info.run_id))


@pytest.mark.parametrize(
    ("dialect", "pks", "condition", "keep"),
    [
        ("sqlite", [7, 5, 6, 8], "run_pk BETWEEN ? AND ?", None),
        ("postgresql", [7, 5, 6, 8], "run_pk BETWEEN %s AND %s", None),
        ("sqlite", list(range(1, 65)) + [66], "run_pk BETWEEN ? AND ?", set(range(1, 65)) | {66}),
        ("sqlite", list(range(1, 65)) + [68], "run_pk IN (" + ", ".join("?" * 65) + ")", None),
        ("postgresql", [1, 3, 5], "run_pk = ANY(%s)", None),
    ],
)
def test_run_key_scopes_read_a_range_only_when_the_keys_are_dense(
    dialect: str, pks: list[int], condition: str, keep: set[int] | None
) -> None:
    scopes, kept = run_key_scopes(dialect, pks)
    assert [where for where, _ in scopes] == [condition] and kept == keep
    assert scopes[0][1] in ([min(pks), max(pks)], pks, [pks])


@pytest.mark.parametrize(("share", "counted"), [(0.8, False), (0.1, True)])
def test_the_bounded_walk_returns_the_same_first_page_as_counting(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch, share: float, counted: bool
) -> None:
    """One metric clause, default order: the newest 3 x (page + 1) runs bound a walk newest first;
    a clause most runs pass is answered from them, one few runs pass falls back to counting."""
    import runyard.store.search as search

    client = TrackingClient(sqlite_uri)
    experiment_id, other = client.create_experiment("walk"), client.create_experiment("other")
    expected = []
    for index in range(90):  # start times tie in fours, around the bound too
        start = 1000 + index // 4
        run = client.create_run(experiment_id, start_time=start)
        passes = (index * 37 % 100) < share * 100
        client.log_metric(run.info.run_id, "m", 1.0 if passes else 0.0)
        client.create_run(other, start_time=start)  # interleaved runs of another experiment
        if index % 9 == 4:
            client.delete_run(run.info.run_id)
        elif passes:
            expected.append((-start, run.info.run_id))
    calls: list[int] = []
    counting = search._scan_in_order

    def spy(*args: object) -> bool:
        calls.append(1)
        return counting(*args)

    monkeypatch.setattr(search, "_scan_in_order", spy)
    for size in (1, 5, 9):
        page = client.search_runs([experiment_id], "metrics.m > 0.5", max_results=size)
        assert [run.info.run_id for run in page] == [run_id for _, run_id in sorted(expected)][:size]
        for run in page:
            _same(run, client.get_run(run.info.run_id))
        token = page.token
        rest = (
            client.search_runs([experiment_id], "metrics.m > 0.5", max_results=500, page_token=token)
            if token
            else []
        )
        assert [run.info.run_id for run in page] + [run.info.run_id for run in rest] == [
            run_id for _, run_id in sorted(expected)
        ]
    calls.clear()  # later pages always count; a first page only when the bounded walk falls short
    client.search_runs([experiment_id], "metrics.m > 0.5", max_results=5)
    assert bool(calls) is counted

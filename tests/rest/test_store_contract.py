"""One Store contract: what a user sees is the same on a local database, a runyard server and MLflow's server.

Where a stock MLflow server cannot do a thing (purge, OR filters, MIN/MAX, LOST), the test checks the
clear refusal instead.
"""

from __future__ import annotations

import uuid

import pytest
from runyard.entities import Metric, RunStatus
from runyard.exceptions import ExperimentNotFound, InvalidInput, InvalidQuery, RunNotFound
from runyard.tracking.client import TrackingClient


def _points(count: int, key: str = "loss") -> list[Metric]:
    return [Metric(key, 1.0 / (step + 1), 1_000 + step, step) for step in range(count)]


def test_the_store_is_chosen_by_the_uri(remote: TrackingClient, store_kind: str) -> None:
    expected = "SqlStore" if store_kind == "sql" else "RestStore"
    assert type(remote.store).__name__ == expected


def test_experiments_create_find_rename_tag(remote: TrackingClient) -> None:
    name = f"/contract/{uuid.uuid4().hex[:10]}"
    experiment_id = remote.create_experiment(name, tags={"team": "vision"})
    assert remote.get_experiment(experiment_id).name == name
    assert remote.get_experiment(experiment_id).tags["team"] == "vision"
    found = remote.get_experiment_by_name(name)
    assert found is not None and found.experiment_id == experiment_id
    assert remote.get_experiment_by_name(name + "-missing") is None
    remote.rename_experiment(experiment_id, name + "-renamed")
    remote.set_experiment_tag(experiment_id, "stage", "prod")
    renamed = remote.get_experiment(experiment_id)
    assert (renamed.name, renamed.tags["stage"]) == (name + "-renamed", "prod")
    assert experiment_id in {e.experiment_id for e in remote.list_experiments()}
    with pytest.raises(ExperimentNotFound):
        remote.get_experiment("987654321")


def test_a_run_keeps_what_was_logged(remote: TrackingClient, experiment: str) -> None:
    run = remote.create_run(experiment, run_name="first", tags={"team": "a"})
    run_id = run.info.run_id
    # more than one log-batch request: 2,500 points, 150 params (MLflow allows 1,000 and 100 per request)
    remote.log_batch(run_id, metrics=_points(2_500), params={f"p{i}": i for i in range(150)})
    remote.set_tag(run_id, "note", "hello")
    remote.delete_tag(run_id, "team")
    remote.rename_run(run_id, "second")
    remote.set_terminated(run_id, RunStatus.FINISHED)
    got = remote.get_run(run_id)
    assert got.info.run_name == "second"
    assert got.info.status == RunStatus.FINISHED and got.info.end_time is not None
    assert len(got.data.params) == 150 and got.data.params["p7"] == "7"
    assert got.data.tags["note"] == "hello" and "team" not in got.data.tags
    summary = got.data.metric_summaries["loss"]
    assert (summary.latest_step, summary.latest_value) == (2_499, 1.0 / 2_500)
    history = remote.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(2_500))
    with pytest.raises(RunNotFound):
        remote.get_run(uuid.uuid4().hex)


def test_summaries_carry_min_max_where_the_server_keeps_them(
    remote: TrackingClient, experiment: str, store_kind: str
) -> None:
    run_id = remote.create_run(experiment).info.run_id
    remote.log_batch(run_id, metrics=[Metric("acc", v, 1, s) for s, v in enumerate([0.2, 0.9, 0.5])])
    summary = remote.get_run(run_id).data.metric_summaries["acc"]
    assert summary.latest_value == 0.5
    if store_kind != "mlflow":  # MLflow's Run answer has the latest value only
        assert (summary.min_value, summary.max_value, summary.count) == (0.2, 0.9, 3)


def test_search_filters_sorts_and_pages(remote: TrackingClient, experiment: str) -> None:
    for i in range(7):
        run_id = remote.create_run(experiment, run_name=f"r{i}").info.run_id
        remote.log_batch(run_id, metrics=[Metric("acc", i / 10, 1, 0)], params={"lr": str(i % 2)})
    runs = remote.search_runs(
        [experiment], "metrics.acc >= 0.3 and params.lr = '1'", order_by=["metrics.acc DESC"]
    )
    assert [r.info.run_name for r in runs] == ["r5", "r3"]
    seen: list[str] = []
    token = None
    while True:
        page = remote.search_runs([experiment], max_results=3, order_by=["metrics.acc ASC"], page_token=token)
        seen.extend(r.info.run_name for r in page)
        token = page.token
        if not token:
            break
    assert seen == [f"r{i}" for i in range(7)]


def test_runyard_search_extensions_are_refused_by_name_on_mlflow(
    remote: TrackingClient, experiment: str, store_kind: str
) -> None:
    run_id = remote.create_run(experiment, run_name="a").info.run_id
    remote.log_batch(run_id, metrics=[Metric("loss", 0.5, 1, 0)], params={"lr": "1"})
    for query in ("metrics.loss < 0.1 OR params.lr = '1'", "MIN(metrics.loss) < 1"):
        if store_kind == "mlflow":
            with pytest.raises(InvalidQuery, match="MLflow"):
                remote.search_runs([experiment], query)
        else:
            assert [r.info.run_id for r in remote.search_runs([experiment], query)] == [run_id]


def test_browsing_overview_keys_and_signature(remote: TrackingClient, experiment: str) -> None:
    first = remote.create_run(experiment).info.run_id
    remote.log_batch(first, metrics=[Metric("loss", 1.0, 1, 0)], params={"lr": "0.1"}, tags={"team": "a"})
    remote.set_terminated(remote.create_run(experiment).info.run_id, RunStatus.FAILED)
    before = remote.runs_signature([experiment])
    overview = remote.experiment_overview([experiment])
    assert (overview.total_runs, overview.failed) == (2, 1)
    keys = remote.run_keys([experiment])
    assert "lr" in keys.params and "loss" in keys.metrics and "team" in keys.tags
    assert remote.count_runs([experiment]) == {experiment: 2}
    remote.create_run(experiment)
    assert remote.runs_signature([experiment]) != before
    assert remote.run_names([first]) == {first: remote.get_run(first).info.run_name}
    page, signature = remote.search_runs_with_signature([experiment], "attributes.status = 'FAILED'")
    assert signature == remote.runs_signature([experiment]) and len(page) == 1 and page.token is None


def test_downsampled_history_has_at_most_the_points_asked(remote: TrackingClient, experiment: str) -> None:
    run_id = remote.create_run(experiment).info.run_id
    remote.log_batch(run_id, metrics=_points(3_000))
    history = remote.get_metric_history_downsampled(run_id, "loss", 200)
    assert 0 < len(history) <= 200
    assert history.total_points == 3_000 and history.last_step == 2_999
    newer = remote.get_metric_history_downsampled(run_id, "loss", 200, since_step=2_989)
    assert newer.steps == list(range(2_990, 3_000))


def test_trash_delete_restore_with_descendants(remote: TrackingClient, experiment: str) -> None:
    parent = remote.create_run(experiment, run_name="parent").info.run_id
    child = remote.create_run(experiment, run_name="child", parent_run_id=parent).info.run_id
    assert remote.descendant_run_ids([parent]) == [child]
    assert sorted(remote.delete_run(parent, dry_run=True)) == sorted([parent, child])
    assert len(remote.search_runs([experiment])) == 2  # a dry run changes nothing
    remote.delete_run(parent)
    assert remote.search_runs([experiment]) == []
    assert {r.info.run_id for r in remote.search_runs([experiment], run_view_type="DELETED_ONLY")} == {
        parent,
        child,
    }
    assert sorted(remote.restore_run(parent)) == sorted([parent, child])
    assert len(remote.search_runs([experiment])) == 2


def test_purge_on_runyard_and_a_clear_refusal_on_mlflow(
    remote: TrackingClient, experiment: str, store_kind: str
) -> None:
    run_id = remote.create_run(experiment).info.run_id
    remote.delete_run(run_id)
    if store_kind == "mlflow":
        with pytest.raises(InvalidInput, match="mlflow gc"):
            remote.gc(run_ids=[run_id])
        return
    assert remote.gc(run_ids=[run_id]).run_ids == [run_id]
    with pytest.raises(RunNotFound):
        remote.get_run(run_id)


def test_folder_rename_moves_every_experiment_below(remote: TrackingClient) -> None:
    folder = f"/folder{uuid.uuid4().hex[:8]}"
    ids = [remote.create_experiment(f"{folder}/{leaf}") for leaf in ("a", "b/c")]
    renamed = remote.rename_experiment_folder(folder, folder + "-new")
    assert renamed == {f"{folder}/a": f"{folder}-new/a", f"{folder}/b/c": f"{folder}-new/b/c"}
    assert [remote.get_experiment(i).name for i in ids] == [f"{folder}-new/a", f"{folder}-new/b/c"]


def test_artifacts_list_and_read(remote: TrackingClient, experiment: str) -> None:
    run_id = remote.create_run(experiment).info.run_id
    remote.log_text(run_id, "hello", "notes/readme.txt")
    assert [(f.path, f.is_dir) for f in remote.list_artifacts(run_id)] == [("notes", True)]
    assert [f.path for f in remote.list_artifacts(run_id, "notes")] == ["notes/readme.txt"]
    assert remote.read_artifact_head(run_id, "notes/readme.txt") == (b"hello", 5)


def test_writer_points_of_several_runs_arrive(remote: TrackingClient, experiment: str) -> None:
    a, b = (remote.create_run(experiment).info.run_id for _ in range(2))
    points = [(run_id, "m", float(s), 10 + s, s) for s in range(1_200) for run_id in (a, b)]
    remote.store.write_metric_points(points)  # type: ignore[attr-defined]
    for run_id in (a, b):
        assert len(remote.get_metric_history(run_id, "m")) == 1_200


def test_overview_of_many_runs_on_mlflow_says_more(
    remote: TrackingClient, experiment: str, store_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.rest import mlflow_compat

    monkeypatch.setattr(mlflow_compat, "OVERVIEW_SAMPLE", 2)  # MLflow has no count: the first runs only
    for _ in range(3):
        remote.create_run(experiment)
    overview = remote.experiment_overview([experiment])
    if store_kind == "mlflow":
        assert (overview.total_runs, overview.capped) == (2, True)  # shown as "2+ runs"
    else:
        assert (overview.total_runs, overview.capped) == (3, False)


def test_console_recent_points_and_settings_for_live_views(
    remote: TrackingClient, experiment: str, store_kind: str
) -> None:
    run_id = remote.create_run(experiment).info.run_id
    remote.log_batch(
        run_id, metrics=[Metric("loss", v, 1_000 + s, s) for s, v in enumerate([0.9, float("nan"), 0.4])]
    )
    store = remote.store
    store.append_console(run_id, [(1_000, "stdout", "epoch 1\n"), (1_001, "stderr", "\x1b[31mwarn\x1b[0m\n")])
    if store_kind == "mlflow":  # MLflow keeps none of it: nothing shown, a setting is refused clearly
        assert store.get_console(run_id) == [] and store.recent_metrics([run_id]) == {}
        assert store.get_store_settings("alerts.") == {}
        with pytest.raises(InvalidInput, match="runyard server"):
            store.set_store_setting("alerts.stalled_factor", "20")
        return
    chunks = store.get_console(run_id)
    assert [(c.stream, c.text) for c in chunks] == [
        ("stdout", "epoch 1\n"),
        ("stderr", "\x1b[31mwarn\x1b[0m\n"),
    ]
    assert [c.text for c in store.get_console(run_id, after_seq=chunks[0].seq)] == ["\x1b[31mwarn\x1b[0m\n"]
    recent = store.recent_metrics([run_id])[run_id]["loss"]
    assert (
        [m.step for m in recent] == [0, 1, 2]
        and recent[2].value == 0.4
        and recent[1].value != recent[1].value
    )
    key = f"alerts.test_{uuid.uuid4().hex[:6]}"
    store.set_store_setting(key, "20")
    assert store.get_store_settings(key) == {key: "20"}
    store.set_store_setting(key, None)
    assert store.get_store_settings(key) == {}

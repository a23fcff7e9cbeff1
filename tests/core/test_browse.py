"""Browse queries used by the TUI: overview, column keys, runs by id, names, change signature."""

from __future__ import annotations

from runyard import TrackingClient


def _seed(client: TrackingClient) -> tuple[str, str, list[str]]:
    vision = client.create_experiment("/vision/resnet")
    other = client.create_experiment("/nlp/bert")
    ids = []
    for index, (user, status) in enumerate(
        [("alice", "FINISHED"), ("alice", "FAILED"), ("bob", "RUNNING"), ("alice", "FINISHED")]
    ):
        run = client.create_run(vision, start_time=1_000 + index, run_name=f"r{index}", user_id=user)
        client.log_batch(run.info.run_id, params={f"p{index % 2}": "1"}, tags={"team": "cv"})
        client.log_metric(run.info.run_id, "acc", 0.5 + index / 10, timestamp=2_000 + index, step=0)
        if status != "RUNNING":
            client.set_terminated(run.info.run_id, status, end_time=5_000 + index)
        ids.append(run.info.run_id)
    other_run = client.create_run(other, start_time=9_000, run_name="elsewhere", user_id="carol")
    client.log_metric(other_run.info.run_id, "loss", 1.0, timestamp=9_001, step=0)
    return vision, other, ids


def test_overview_counts_active_runs_by_status_and_user(client: TrackingClient) -> None:
    vision, other, _ = _seed(client)
    overview = client.experiment_overview([vision], now_ms=10_000)
    assert overview.total_runs == 4
    assert (overview.running, overview.lost) == (1, 0)
    assert overview.failed == 1
    assert overview.runs_per_user == {"alice": 3, "bob": 1}
    assert list(overview.runs_per_user) == ["alice", "bob"]  # most runs first
    assert overview.last_activity is not None and overview.last_activity >= 5_003
    both = client.experiment_overview([vision, other])
    assert both.total_runs == 5 and both.runs_per_user["carol"] == 1


def test_overview_counts_a_running_run_without_heartbeat_as_lost(client: TrackingClient) -> None:
    from runyard.config import STALE_HEARTBEAT_MS

    vision, _, ids = _seed(client)  # the RUNNING run started (and last beat) at 1_002
    just_before = client.experiment_overview([vision], now_ms=1_002 + STALE_HEARTBEAT_MS)
    assert (just_before.running, just_before.lost) == (1, 0)
    stale = client.experiment_overview([vision], now_ms=1_003 + STALE_HEARTBEAT_MS)
    assert (stale.running, stale.lost) == (0, 1)
    assert client.get_run(ids[2]).info.is_lost(1_003 + STALE_HEARTBEAT_MS)  # the same rule as the table
    client.store.heartbeat([ids[2]], timestamp=1_003 + STALE_HEARTBEAT_MS)
    alive = client.experiment_overview([vision], now_ms=1_003 + STALE_HEARTBEAT_MS)
    assert (alive.running, alive.lost) == (1, 0)


def test_overview_of_empty_experiment(client: TrackingClient) -> None:
    empty = client.create_experiment("/empty")
    overview = client.experiment_overview([empty])
    assert (overview.total_runs, overview.running, overview.last_activity) == (0, 0, None)
    assert client.experiment_overview([]).total_runs == 0


def test_run_keys_are_distinct_and_limited_to_the_experiments(client: TrackingClient) -> None:
    vision, other, _ = _seed(client)
    keys = client.run_keys([vision])
    assert keys.params == ["p0", "p1"]
    assert keys.metrics == ["acc"]
    assert "team" in keys.tags and "runyard.runName" in keys.tags
    assert client.run_keys([other]).metrics == ["loss"]
    assert client.run_keys([vision, other]).metrics == ["acc", "loss"]


def test_get_runs_keeps_the_requested_order_and_skips_unknown_ids(client: TrackingClient) -> None:
    _, _, ids = _seed(client)
    runs = client.get_runs([ids[2], "0" * 32, ids[0]])
    assert [r.info.run_id for r in runs] == [ids[2], ids[0]]
    assert runs[0].info.status == "RUNNING"
    assert runs[1].data.metrics["acc"] == 0.5
    assert client.get_runs([]) == []


def test_run_names_by_id(client: TrackingClient) -> None:
    _, _, ids = _seed(client)
    assert client.run_names([ids[1], ids[3], "nope"]) == {ids[1]: "r1", ids[3]: "r3"}


def test_signature_changes_when_a_run_is_added(client: TrackingClient) -> None:
    vision, _, _ = _seed(client)
    before = client.runs_signature([vision])
    assert before[0] == 4
    client.create_run(vision, run_name="new")
    after = client.runs_signature([vision])
    assert after[0] == 5 and after != before
    assert client.runs_signature([vision], "DELETED_ONLY")[0] == 0
    assert client.runs_signature([vision], "ALL")[0] == 5


def test_descendants_include_grandchildren_once(client: TrackingClient) -> None:
    experiment = client.create_experiment("/sweep")
    parent = client.create_run(experiment, run_name="parent").info.run_id
    child = client.create_run(experiment, run_name="child", parent_run_id=parent).info.run_id
    grandchild = client.create_run(experiment, run_name="grandchild", parent_run_id=child).info.run_id
    client.create_run(experiment, run_name="unrelated")
    assert sorted(client.descendant_run_ids([parent])) == sorted([child, grandchild])
    assert client.descendant_run_ids([parent, child]) == [grandchild]
    assert client.descendant_run_ids([grandchild]) == []

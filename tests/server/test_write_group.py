"""The write group: concurrent operations share transactions; a refused one rolls back alone."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest
from runyard import TrackingClient
from runyard.exceptions import ExperimentNotFound, ParamImmutable
from runyard.server.writes import WriteGroup


def test_concurrent_operations_share_transactions_and_fail_alone(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("group")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "fixed", "1")
    store = client.store
    group = WriteGroup(store, linger_seconds=0.05)
    release = threading.Event()
    group.submit(None, lambda conn: release.wait(10))  # holds the writer while the others queue up
    futures = [
        group.submit(run_id, lambda conn, i=i: store.log_batch(run_id, [("m", float(i), 1, i)], conn=conn))
        for i in range(50)
    ]
    refused = group.submit(
        run_id, lambda conn: store.log_batch(run_id, [("bad", 1.0, 1, 0)], {"fixed": "2"}, conn=conn)
    )
    release.set()
    for future in futures:
        future.result(timeout=30)
    with pytest.raises(ParamImmutable):
        refused.result(timeout=30)
    group.stop()
    assert group.operations == 52
    assert group.transactions <= 3  # the 51 queued operations committed together, not one by one
    run = client.get_run(run_id)
    assert run.data.metric_summaries["m"].count == 50
    assert "bad" not in run.data.metrics  # the refused batch wrote nothing
    assert run.data.params == {"fixed": "1"}


def test_an_unexpected_error_fails_only_its_request(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("group-errors")).info.run_id
    group = WriteGroup(client.store)

    def broken(conn: object) -> None:
        raise RuntimeError("boom")

    failing = group.submit(run_id, broken)
    working = group.submit(run_id, lambda conn: client.store.set_tags(run_id, {"k": "v"}, conn=conn))
    with pytest.raises(RuntimeError):
        failing.result(timeout=30)
    working.result(timeout=30)
    group.stop()
    assert client.get_run(run_id).data.tags["k"] == "v"
    assert isinstance(failing, concurrent.futures.Future)


def test_a_lone_refused_operation_writes_nothing(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("group-lone")).info.run_id
    client.log_param(run_id, "fixed", "1")
    store = client.store
    group = WriteGroup(store)
    refused = group.submit(
        run_id, lambda conn: store.log_batch(run_id, [("bad", 1.0, 1, 0)], {"fixed": "2"}, conn=conn)
    )
    with pytest.raises(ParamImmutable):
        refused.result(timeout=30)
    group.stop()
    assert (group.operations, group.transactions) == (1, 0)  # answered, nothing committed
    run = client.get_run(run_id)
    assert "bad" not in run.data.metrics and run.data.params == {"fixed": "1"}


def test_writes_refresh_the_heartbeat_at_most_every_interval(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard import clock
    from runyard.server.writes import TOUCH_INTERVAL_MS

    run_id = client.create_run(client.create_experiment("group-heartbeat")).info.run_id
    store = client.store
    group = WriteGroup(store)
    now = [10**12]
    monkeypatch.setattr(clock, "now_ms", lambda: now[0])

    def write(step: int) -> int | None:
        group.submit(run_id, lambda conn: store.log_batch(run_id, [("m", 1.0, 1, step)], conn=conn)).result(
            30
        )
        return client.get_run(run_id).info.heartbeat_time

    assert write(0) == now[0]  # the first write is a sign of life
    first = now[0]
    now[0] += TOUCH_INTERVAL_MS - 1
    assert write(1) == first  # within the interval: the row is not rewritten
    now[0] += 1
    assert write(2) == now[0]  # the interval passed: the next write refreshes it
    now[0] -= 60_000  # the wall clock was set back: the next write is not skipped
    assert write(3) == now[0]
    group.stop()
    assert client.get_run(run_id).data.metric_summaries["m"].count == 4


def test_run_creations_go_through_the_group(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("group-create")
    store = client.store
    group = WriteGroup(store)
    release = threading.Event()
    group.submit(None, lambda conn: release.wait(10))
    futures = [
        group.submit(None, lambda conn, i=i: store.create_run(experiment_id, f"r{i}", "u", conn=conn))
        for i in range(8)
    ]
    refused = group.submit(None, lambda conn: store.create_run("no-such-experiment", "x", "u", conn=conn))
    release.set()
    created = [future.result(timeout=30) for future in futures]
    with pytest.raises(ExperimentNotFound):
        refused.result(timeout=30)
    group.stop()
    assert group.transactions <= 3
    for run in created:  # what the creation answered is what the store holds
        assert client.get_run(run.info.run_id) == run


def test_a_group_without_refusals_needs_no_savepoints(client: TrackingClient) -> None:
    """Issue 13 (speed): SAVEPOINTs are taken only when a group holds a refused operation."""
    from sqlalchemy import event

    run_id = client.create_run(client.create_experiment("group-savepoints")).info.run_id
    client.log_param(run_id, "fixed", "1")
    store = client.store
    statements: list[str] = []
    engine = store.db._writer()
    listener = lambda *args: statements.append(str(args[2]).split()[0].upper())  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for refuse in (False, True):
            group = WriteGroup(store, linger_seconds=0.05)
            release = threading.Event()
            group.submit(None, lambda conn, release=release: release.wait(10))
            futures = [
                group.submit(
                    run_id, lambda conn, i=i: store.log_batch(run_id, [("m", float(i), 1, i)], conn=conn)
                )
                for i in range(5)
            ]
            if refuse:
                futures.append(
                    group.submit(run_id, lambda conn: store.log_batch(run_id, [], {"fixed": "2"}, conn=conn))
                )
            statements.clear()
            release.set()
            for future in futures[:5]:
                future.result(timeout=30)
            group.stop()
            assert ("SAVEPOINT" in statements) is refuse, statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert client.get_run(run_id).data.metric_summaries["m"].count == 10  # each batch written once

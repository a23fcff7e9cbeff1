"""Paging: page tokens continue exactly where the last page ended, even while new runs arrive."""

from __future__ import annotations

import pytest
from runyard import InvalidInput, Metric, TrackingClient


def _make_runs(client: TrackingClient, experiment_id: str, starts: list[int], prefix: str) -> dict[str, str]:
    ids = {}
    for index, start in enumerate(starts):
        run = client.create_run(experiment_id, start_time=start, run_name=f"{prefix}{index}")
        client.log_batch(run.info.run_id, metrics=[Metric("score", float(start % 7), 0, 0)])
        client.set_terminated(run.info.run_id, "FINISHED", end_time=start + 10)
        ids[run.info.run_id] = f"{prefix}{index}"
    return ids


def _all_pages(client: TrackingClient, experiment_id: str, size: int, **kwargs: object) -> list[str]:
    seen: list[str] = []
    token = None
    while True:
        page = client.search_runs([experiment_id], max_results=size, page_token=token, **kwargs)  # type: ignore[arg-type]
        assert len(page) <= size
        seen += [run.info.run_id for run in page]
        token = page.token
        if token is None:
            return seen


@pytest.mark.parametrize("order_by", [None, ["metrics.score DESC"], ["params.missing", "run_name DESC"]])
def test_pages_neither_skip_nor_repeat(client: TrackingClient, order_by: list[str] | None) -> None:
    experiment_id = client.create_experiment("paging")
    ids = _make_runs(client, experiment_id, [1000 + 10 * (i % 9) for i in range(23)], "run")  # ties on start
    whole = [run.info.run_id for run in client.search_runs([experiment_id], order_by=order_by)]
    assert sorted(whole) == sorted(ids)
    for size in (1, 4, 7, 23, 24):
        assert _all_pages(client, experiment_id, size, order_by=order_by) == whole


def test_last_page_has_no_token(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("paging")
    _make_runs(client, experiment_id, [1, 2, 3, 4], "run")
    first = client.search_runs([experiment_id], max_results=2)
    assert len(first) == 2 and first.token
    second = client.search_runs([experiment_id], max_results=2, page_token=first.token)
    assert len(second) == 2 and second.token is None
    assert {r.info.run_id for r in first}.isdisjoint(r.info.run_id for r in second)


@pytest.mark.parametrize("order_by", [None, ["metrics.score"], ["attributes.start_time ASC"]])
def test_new_runs_between_pages_do_not_shift_the_pages(
    client: TrackingClient, order_by: list[str] | None
) -> None:
    experiment_id = client.create_experiment("paging")
    original = _make_runs(client, experiment_id, [1000 + 100 * i for i in range(12)], "old")
    seen: list[str] = []
    token = None
    round_number = 0
    while True:
        page = client.search_runs([experiment_id], max_results=3, page_token=token, order_by=order_by)
        seen += [run.info.run_id for run in page]
        token = page.token
        if token is None:
            break
        # New runs land before, among and after the rows already read.
        _make_runs(
            client,
            experiment_id,
            [50 + round_number, 1150 + 100 * round_number, 9000 + round_number],
            f"new{round_number}-",
        )
        round_number += 1
    assert len(seen) == len(set(seen)), "a run was returned twice"
    assert set(original) <= set(seen), "an existing run was skipped"
    # What was returned is exactly the final ordering up to the last row seen, minus runs that arrived
    # behind the reader's position after it had passed there.
    final = [run.info.run_id for run in client.search_runs([experiment_id], order_by=order_by)]
    assert [run_id for run_id in final if run_id in set(seen)] == seen


def test_running_runs_keep_their_duration_order_across_pages(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("paging")
    for index in range(6):
        client.create_run(experiment_id, start_time=1000 + index, run_name=f"running{index}")
    whole = [run.info.run_id for run in client.search_runs([experiment_id], order_by=["duration DESC"])]
    assert _all_pages(client, experiment_id, 2, order_by=["duration DESC"]) == whole


def test_token_must_come_from_the_same_search(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("paging")
    _make_runs(client, experiment_id, [1, 2, 3], "run")
    token = client.search_runs([experiment_id], max_results=1).token
    assert token is not None
    with pytest.raises(InvalidInput, match="different search"):
        client.search_runs([experiment_id], "metrics.score > 0", max_results=1, page_token=token)
    with pytest.raises(InvalidInput, match="different search"):
        client.search_runs([experiment_id], max_results=1, page_token=token, order_by=["metrics.score"])
    for garbage in ("not-a-token", "e30=", token[:-4] + "AAAA"):
        with pytest.raises(InvalidInput, match="page_token"):
            client.search_runs([experiment_id], max_results=1, page_token=garbage)
    # the page size may change between pages
    rest = client.search_runs([experiment_id], max_results=5, page_token=token)
    assert len(rest) == 2 and rest.token is None

"""The browse header and the experiment tree follow the store on the live refresh and on ctrl+r."""

from __future__ import annotations

import pytest
from helpers import NOW_MS, make_app, settle
from runyard import TrackingClient

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


def header(pilot: object) -> str:
    """The overview line above the search box."""
    return str(pilot.app.screen.query_one("#overview").render())  # type: ignore[attr-defined]


def tree_labels(pilot: object) -> list[str]:
    """Every line of the experiment tree."""
    tree = pilot.app.screen.experiment_tree  # type: ignore[attr-defined]
    labels = []

    def walk(node: object) -> None:
        labels.append(str(node.label))  # type: ignore[attr-defined]
        for child in node.children:  # type: ignore[attr-defined]
            walk(child)

    walk(tree.root)
    return labels


async def open_bert(pilot: object) -> None:
    """Show /nlp/bert: two finished runs, none running or lost."""
    screen = pilot.app.screen  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    bert = screen.client.get_experiment_by_name("/nlp/bert")
    assert screen.experiment_tree.select_view(f"experiment:{bert.experiment_id}")
    await settle(pilot, rounds=5)  # type: ignore[arg-type]


async def test_header_counts_new_runs_of_an_experiment_without_running_ones(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        await open_bert(pilot)
        assert "/nlp/bert · 2 runs" in header(pilot)
        bert = client.get_experiment_by_name("/nlp/bert")
        assert bert is not None
        for index in range(2):
            run = client.create_run(bert.experiment_id, start_time=NOW_MS - 1000, run_name=f"new-{index}")
            client.set_terminated(run.info.run_id, "FINISHED", end_time=NOW_MS)
        pilot.app.screen.live_tick()
        await settle(pilot, rounds=6)
        assert "/nlp/bert · 4 runs" in header(pilot)
        client.create_run(bert.experiment_id, start_time=NOW_MS - 500, run_name="after-reload")
        await pilot.press("ctrl+r")
        await settle(pilot, rounds=6)
        assert "/nlp/bert · 5 runs" in header(pilot)


async def test_the_tree_shows_experiments_and_counts_another_process_wrote(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        await open_bert(pilot)
        assert not any("audio" in label for label in tree_labels(pilot))
        other = TrackingClient(client.tracking_uri)  # another process writing to the same store
        created = other.create_experiment("/audio/wav2vec")
        other.create_run(created, start_time=NOW_MS, run_name="first")
        other.create_run(ids["vision"], start_time=NOW_MS, run_name="more")  # not the shown experiment
        pilot.app.screen.live_tick()
        await settle(pilot, rounds=6)
        labels = tree_labels(pilot)
        assert any(label.startswith("wav2vec 1") for label in labels), labels
        assert any(label.startswith("resnet 11") for label in labels), labels  # was 10

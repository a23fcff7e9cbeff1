"""Pilot tests of the search box: applying a query, errors with caret, completion, history, focus."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_app, names, open_resnet, settle
from runyard import TrackingClient
from runyard.tui.widgets.search_box import KeySuggester, SearchBox

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


def error_text(pilot: Any) -> str:
    """What the line under the search box says ('' when hidden)."""
    error = pilot.app.screen.query_one("#search-error")
    return str(error.render()) if error.display else ""


async def test_slash_query_enter_filters_rows(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("slash")
        assert isinstance(pilot.app.focused, SearchBox)
        await pilot.press(*"metrics.accuracy > 0.9", "enter")
        await settle(pilot)
        assert sorted(names(table)) == ["tuned", "wide-resnet"]
        assert pilot.app.focused is table
        assert "filtered" in str(pilot.app.screen.query_one("#status-line").render())
        await pilot.press("slash")
        search = pilot.app.screen.search_box
        search.value = ""
        await pilot.press("enter")
        await settle(pilot)
        assert len(table.rows) == 10


async def test_invalid_query_shows_message_with_caret_and_keeps_text(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("slash", *"metrics.accuracy >> 0.9", "enter")
        await settle(pilot)
        shown = error_text(pilot)
        assert "metrics.accuracy >> 0.9" in shown
        assert "^" in shown.splitlines()[-1]
        search = pilot.app.screen.search_box
        assert search.value == "metrics.accuracy >> 0.9"
        assert pilot.app.focused is search
        assert len(table.rows) == 10  # the previous rows stay
        search.value = "metrics.accuracy > 0.9"
        await pilot.press("enter")
        await settle(pilot)
        assert error_text(pilot) == ""
        assert len(table.rows) == 2


async def test_escape_returns_to_the_table_without_applying(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("slash", *"params.lr = '0.1'", "escape")
        await settle(pilot)
        assert pilot.app.focused is table
        assert len(table.rows) == 10
        assert pilot.app.screen.search_box.value == ""  # the box shows the applied (empty) query again


async def test_escape_after_an_invalid_query_shows_the_applied_one_and_no_error(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("slash", *"metrics.accuracy > 0.9", "enter")
        await settle(pilot)
        await pilot.press("slash", "ctrl+u", *"metrics.accuracy >> 0.9", "enter")
        await settle(pilot)
        assert "^" in error_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.search_box.value == "metrics.accuracy > 0.9"
        assert error_text(pilot) == ""
        assert sorted(names(table)) == ["tuned", "wide-resnet"]
        assert screen.view_state.last_search == "metrics.accuracy > 0.9"  # what is saved is what is shown
        assert pilot.app.settings.search_history == ["metrics.accuracy > 0.9"]  # the invalid one is not


async def test_typing_in_the_search_box_never_fires_table_keys(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("slash", *"sadezmCvq")
        await pilot.pause()
        assert pilot.app.screen.search_box.value == "sadezmCvq"
        assert table.selected == set() and table.aggregate == "latest"
        assert pilot.app.is_running


async def test_completion_of_prefixes_and_known_keys(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        await pilot.press("slash", *"metr")
        await settle(pilot)
        search = pilot.app.screen.search_box
        await pilot.press("right")
        assert search.value == "metrics."
        await pilot.press(*"acc")
        await settle(pilot)
        await pilot.press("right")
        assert search.value == "metrics.accuracy"
        await pilot.press(*" > 0.5 AND par")
        await settle(pilot)
        await pilot.press("right", *"opt")
        await settle(pilot)
        await pilot.press("right")
        assert search.value == "metrics.accuracy > 0.5 AND params.optimizer"


def test_suggester_quotes_unusual_keys_and_knows_aggregates() -> None:
    suggester = KeySuggester()
    suggester.set_keys(["val loss", "accuracy"], ["lr"], ["team"])
    assert suggester.complete("metrics.val") == "metrics.`val loss`"
    assert suggester.complete("MIN(metrics.acc") == "MIN(metrics.accuracy"
    assert suggester.complete("(ta") == "(tags."
    assert suggester.complete("tags.t") == "tags.team"
    assert suggester.complete("attributes.st") == "attributes.status"
    assert suggester.complete("metrics.accuracy ") is None
    assert suggester.complete("params.zzz") is None


async def test_history_walks_older_and_newer_queries(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        for query in ("params.optimizer = 'adam'", "metrics.accuracy > 0.9"):
            await pilot.press("slash", *query, "enter")
            await settle(pilot)
            pilot.app.screen.search_box.value = ""
        await pilot.press("slash", *"draft", "up")
        search = pilot.app.screen.search_box
        assert search.value == "metrics.accuracy > 0.9"
        await pilot.press("up")
        assert search.value == "params.optimizer = 'adam'"
        await pilot.press("up")
        assert search.value == "params.optimizer = 'adam'"
        await pilot.press("down")
        assert search.value == "metrics.accuracy > 0.9"
        await pilot.press("down")
        assert search.value == "draft"
        assert pilot.app.settings.search_history == ["params.optimizer = 'adam'", "metrics.accuracy > 0.9"]


async def test_up_after_applying_a_query_shows_the_one_before_it(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        for query in ("params.optimizer = 'adam'", "metrics.accuracy > 0.9"):
            pilot.app.screen.search_box.value = ""
            await pilot.press("slash", *query, "enter")
            await settle(pilot)
        await pilot.press("slash", "up")  # the box still holds the applied query: up must change it
        assert pilot.app.screen.search_box.value == "params.optimizer = 'adam'"


async def test_a_stale_tree_highlight_neither_switches_views_nor_wipes_typed_text(store: Store) -> None:
    from runyard.tui.widgets.experiment_tree import ExperimentTree, FolderEntry

    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_resnet(pilot)
        screen = pilot.app.screen
        await pilot.press("slash")
        await pilot.press(*"metrics.accuracy")
        # a highlight message of a node the tree's cursor has already left (startup under load queues these)
        tree = screen.experiment_tree
        tree.post_message(ExperimentTree.ExperimentSelected(tree, FolderEntry("/")))
        await settle(pilot)
        assert screen.search_box.value == "metrics.accuracy"
        assert screen.entry.path == "/vision/resnet"


async def type_burst(pilot: Any, *keys: str) -> None:
    """Send keys the way a paste or tmux send-keys does: all queued at once, no pause between them."""
    from textual import events

    app = pilot.app
    for key in keys:
        character = key if len(key) == 1 else None
        name = {" ": "space", ".": "full_stop", ">": "greater_than_sign", "/": "slash"}.get(key, key)
        event = events.Key(name, character)
        event.set_sender(app)
        app._driver.send_message(event)
    await settle(pilot)


async def test_keys_typed_at_once_after_slash_and_ctrl_u_are_all_kept(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        table = await open_resnet(pilot)
        await type_burst(pilot, "/", "ctrl+u", *"metrics.acc >> 1")
        search = pilot.app.screen.search_box
        assert pilot.app.focused is search
        assert search.value == "metrics.acc >> 1"
        assert table.aggregate == "latest"  # no letter reached the table as a key (m: latest/min/max)
        await type_burst(pilot, "ctrl+u", *"abc", "backspace", "ctrl+u", *"metrics.loss < 1")
        assert search.value == "metrics.loss < 1"

"""The run table's `c` opens the compare screen on the selected runs, also across experiments."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_app, settle
from runyard import TrackingClient
from runyard.tui.screens.compare import CompareScreen
from runyard.tui.screens.experiments import ExperimentsScreen
from runyard.tui.widgets.tables.compare_tables import CompareTable

pytestmark = pytest.mark.anyio


async def test_c_compares_the_selected_runs_of_two_experiments_and_escape_returns(
    store: tuple[TrackingClient, dict[str, str]],
) -> None:
    client, ids = store
    app: Any = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.experiment_tree.select_view("folder:/")  # every experiment's runs
        await settle(pilot)
        table = screen.table
        table.focus()
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert len(table.selected) == 1
        await pilot.press("c")  # one run selected: a hint, no compare screen
        await pilot.pause()
        assert isinstance(app.screen, ExperimentsScreen)
        wanted = {ids["bert-base"], ids["tuned"]}
        table.selected = set(wanted)
        await pilot.press("c")
        await settle(pilot)
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert set(compare.run_ids) == wanted
        names = compare.query_one(CompareTable).row_texts("info:experiment")[1:]
        assert sorted(names) == ["/nlp/bert", "/vision/resnet"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        assert set(app.screen.table.selected_run_ids) == wanted  # the selection survives the round trip

"""The run table opens run details with enter; edits made there show in the table after escape."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_app, settle
from runyard import TrackingClient
from runyard.tui.modals.prompt import PromptModal
from runyard.tui.screens.experiments import ExperimentsScreen
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.widgets.tables.run_table import RunTable

pytestmark = pytest.mark.anyio


async def test_enter_opens_details_and_a_rename_shows_in_the_table(
    store: tuple[TrackingClient, dict[str, str]],
) -> None:
    client, ids = store
    app: Any = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        experiment_id = client.get_experiment_by_name("/vision/resnet").experiment_id
        assert screen.experiment_tree.select_view(f"experiment:{experiment_id}")
        await settle(pilot)
        table: RunTable = screen.table
        table.focus()
        await pilot.pause()
        run_id = table.cursor_run_id
        assert run_id is not None
        await pilot.press("enter")
        await settle(pilot)
        details = app.screen
        assert isinstance(details, RunDetailScreen) and details.run_id == run_id
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, PromptModal)
        app.screen.query_one("Input").value = "renamed-in-details"
        await pilot.press("enter")
        await settle(pilot)
        assert client.get_run(run_id).info.run_name == "renamed-in-details"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        names = [row.run.info.run_name for row in app.screen.table.rows]
        assert "renamed-in-details" in names
        assert app.screen.table.cursor_run_id == run_id
        _ = ids

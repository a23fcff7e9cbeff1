"""Run details: the Model section (flavor, schema, snippet copied by its own `y`) and the Datasets section."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from run_detail_helpers import HostApp, settle
from runyard import TrackingClient
from runyard.tracking.datasets import dataset_input
from runyard.tui.modals.text_viewer import TextViewerModal
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.widgets.run_contents import ModelList
from runyard.tui.widgets.tables.kv_table import KVTable
from sklearn.linear_model import LogisticRegression
from textual.widgets import Collapsible

pytestmark = pytest.mark.anyio

FEATURES = pd.DataFrame({"age": [20.0, 35.0, 50.0, 65.0], "visits": [1, 4, 2, 8]})


@pytest.fixture
def client(sqlite_uri: str, tmp_path: Path) -> TrackingClient:
    """A client on a fresh SQLite store."""
    return TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))


def _run_with_models(client: TrackingClient) -> str:
    run = client.create_run(client.create_experiment("clinic"), run_name="two-models")
    model = LogisticRegression().fit(FEATURES, [0, 1, 0, 1])
    client.log_model(run.info.run_id, model, "clf", input_example=FEATURES.head(2))
    client.log_model(run.info.run_id, model, "backup", input_example=FEATURES.head(2))
    client.log_inputs(
        run.info.run_id,
        [dataset_input(FEATURES, "training", "visits"), dataset_input(FEATURES.head(2), "eval", "holdout")],
    )
    return run.info.run_id


async def test_model_section_lists_models_and_y_copies_the_selected_snippet(client: TrackingClient) -> None:
    run_id = _run_with_models(client)
    app = HostApp(client, run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        assert str(screen.query_one("#section-models", Collapsible).title) == "7 Model (2)"
        models = screen.query_one("#model-list", ModelList)
        text = str(models.render())
        assert "clf  sklearn" in text and "backup  sklearn" in text and "age double, visits long" in text
        assert f'runyard.load_model("runs:/{run_id}/clf")' in text
        await pilot.press("7")
        assert screen.focused is models
        await pilot.press("y")
        assert app.clipboard == models.models[0].snippet
        assert f'"runs:/{run_id}/clf"' in app.clipboard and "'age': [0.0]," in app.clipboard
        await pilot.press("down", "y")
        assert f'"runs:/{run_id}/backup"' in app.clipboard
        await pilot.press("2", "y")  # elsewhere, y still copies the run id
        assert app.clipboard == run_id


async def test_datasets_section_shows_each_input_and_enter_opens_its_facts(client: TrackingClient) -> None:
    run_id = _run_with_models(client)
    app = HostApp(client, run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        assert str(screen.query_one("#section-datasets", Collapsible).title) == "8 Datasets (2)"
        table = screen.query_one("#datasets-table", KVTable)
        cells = {row.cells[0]: row.cells for row in table.shown}
        assert cells["visits"][2:] == ("training", "code", "2 columns: age, visits", "4")
        assert cells["holdout"][2] == "eval" and cells["holdout"][5] == "2"
        await pilot.press("8")
        await pilot.press("enter")
        await pilot.pause()
        viewer = app.screen
        assert isinstance(viewer, TextViewerModal)
        first = table.shown[0]
        assert f"Digest   {first.cells[1]}" in viewer.text and f"Name     {first.cells[0]}" in viewer.text


async def test_a_run_without_models_or_datasets_says_how_to_add_them(client: TrackingClient) -> None:
    run = client.create_run(client.create_experiment("plain"), run_name="plain")
    app = HostApp(client, run.info.run_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        assert "runyard.log_model(model)" in str(screen.query_one("#model-list", ModelList).render())
        assert str(screen.query_one("#section-datasets", Collapsible).title) == "8 Datasets (0)"
        await pilot.press("7", "y")
        assert app.clipboard != run.info.run_id  # nothing copied, and no run id by surprise

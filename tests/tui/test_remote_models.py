"""Run details on a tracking server: the Model section (key 7) and the Datasets section (key 8) over HTTP.

The model and the dataset are logged through the server (artifact proxy, runs/log-inputs) by a client
on its http:// URL, and the app reads them back the same way, in workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from remote_servers import ServerProcess, start_server
from run_detail_helpers import HostApp, settle
from runyard import TrackingClient
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.widgets.run_contents import ModelList
from runyard.tui.widgets.tables.kv_table import KVTable
from sklearn.linear_model import LogisticRegression
from textual.widgets import Collapsible

pytestmark = pytest.mark.anyio

FEATURES = pd.DataFrame({"age": [20.0, 35.0, 50.0, 65.0], "visits": [1, 4, 2, 8]})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    """A runyard server with one run whose model and dataset were logged over HTTP."""
    server = start_server(tmp_path_factory.mktemp("remote-models"))
    try:
        client = TrackingClient(server.url)
        run_id = client.create_run(client.create_experiment("clinic"), run_name="remote").info.run_id
        model = LogisticRegression().fit(FEATURES, [0, 1, 0, 1])
        client.log_model(run_id, model, "clf", input_example=FEATURES.head(2))
        client.log_input(run_id, FEATURES, "training", "visits")
        yield server, run_id
    finally:
        server.stop()


async def test_model_and_datasets_sections_on_a_remote_store(
    served: tuple[ServerProcess, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, run_id = served
    monkeypatch.setenv("RUNYARD_CACHE_DIR", str(tmp_path / "cache"))
    app = HostApp(TrackingClient(server.url), run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        assert str(screen.query_one("#section-models", Collapsible).title) == "7 Model (1)"
        models = screen.query_one("#model-list", ModelList)
        text = str(models.render())
        assert "clf  sklearn" in text and "age double, visits long" in text
        await pilot.press("7", "y")
        assert screen.focused is models
        assert app.clipboard == models.models[0].snippet
        assert f'runyard.load_model("runs:/{run_id}/clf")' in app.clipboard
        assert "'age': [0.0]," in app.clipboard

        assert str(screen.query_one("#section-datasets", Collapsible).title) == "8 Datasets (1)"
        cells = {row.cells[0]: row.cells for row in screen.query_one("#datasets-table", KVTable).shown}
        assert cells["visits"][2:] == ("training", "code", "2 columns: age, visits", "4")

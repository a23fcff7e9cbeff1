"""Datasets and models where runs are listed side by side: the run table's Datasets column, compare rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from compare_helpers import CompareHostApp
from helpers import cell, make_app, open_resnet, settle
from runyard import TrackingClient
from runyard.entities import Dataset, DatasetInput, InputTag
from runyard.tui.widgets.tables.compare_tables import CompareTable

pytestmark = pytest.mark.anyio

Store = tuple[TrackingClient, dict[str, str]]


def _dataset(name: str, digest: str, context: str) -> DatasetInput:
    source = '{"uri": "s3://data/' + name + '"}'
    return DatasetInput(Dataset(name, digest, "s3", source), [InputTag("mlflow.data.context", context)])


async def test_datasets_column_is_chosen_in_the_column_chooser(store: Store) -> None:
    client, ids = store
    client.log_inputs(ids["tuned"], [_dataset("cifar10", "a1b2c3d4e5f6", "training")])
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("C")
        await settle(pilot)
        chooser = pilot.app.screen
        assert chooser.listed[0] == "datasets"
        await pilot.press(*"datasets", "down", "space", "enter")
        await settle(pilot)
        assert "datasets" in table.dynamic_columns
        assert cell(table, "tuned", "datasets").strip() == "cifar10@a1b2c3d4 (training)"
        table.cursor_column = table.column_index("datasets")
        await pilot.press("s")  # not sortable by search: says so and keeps the order
        await settle(pilot)
        assert table.sort_column != "datasets"


async def test_compare_marks_runs_with_models_and_runs_trained_on_different_data(
    sqlite_uri: str, tmp_path: Path
) -> None:
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    experiment_id = client.create_experiment("clinic")
    with_model = client.create_run(experiment_id, run_name="with-model").info.run_id
    without = client.create_run(experiment_id, run_name="without").info.run_id
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "weights.bin").write_bytes(b"\x00")
    client.log_model(with_model, str(checkpoint), "net")
    client.log_inputs(with_model, [_dataset("v", "1111111111", "training")])
    client.log_inputs(without, [_dataset("v", "2222222222", "training")])
    async with CompareHostApp(client, [with_model, without]).run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(CompareTable)
        assert table.row_texts("info:model") == ["≠ model", "net", "—"]
        assert table.row_texts("info:datasets") == ["≠ datasets", "v@11111111", "v@22222222"]

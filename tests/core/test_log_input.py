"""runyard.log_input: DataFrames and arrays get MLflow's digest; files, directories and URIs are described."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import runyard
from runyard import InvalidInput, TrackingClient


def _frame(rows: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": np.arange(rows, dtype=np.int64),
            "y": np.linspace(0.0, 1.0, rows),
            "label": [f"c{i % 3}" for i in range(rows)],
            "small": np.arange(rows, dtype=np.int32),
            "flag": [i % 2 == 0 for i in range(rows)],
        }
    )


@pytest.mark.parametrize("rows", [1, 5, 12_345])
def test_dataframe_digest_is_mlflows(rows: int) -> None:
    from mlflow.data.digest_utils import compute_pandas_digest
    from runyard.datasets import dataset_input

    df = _frame(rows)
    item = dataset_input(df)
    assert item.dataset.digest == compute_pandas_digest(df)
    from mlflow.data.pandas_dataset import from_pandas

    assert item.dataset.digest == from_pandas(df).digest
    assert json.loads(item.dataset.profile or "") == {"num_rows": rows, "num_elements": rows * 5}
    columns = json.loads(item.dataset.schema or "")["mlflow_colspec"]
    assert [(c["name"], c["type"]) for c in columns] == [
        ("x", "long"),
        ("y", "double"),
        ("label", "string"),
        ("small", "integer"),
        ("flag", "boolean"),
    ]
    assert (item.dataset.name, item.context) == ("dataset", "training")


@pytest.mark.parametrize(
    "array",
    [np.arange(12, dtype=np.float64).reshape(3, 4), np.arange(20_000), np.array(["a", "b"], dtype=object)],
)
def test_numpy_digest_is_mlflows(array: np.ndarray) -> None:  # type: ignore[type-arg]
    from mlflow.data.digest_utils import compute_numpy_digest
    from runyard.datasets import dataset_input

    item = dataset_input(array, context="eval", name="features")
    assert item.dataset.digest == compute_numpy_digest(array)
    assert json.loads(item.dataset.profile or "")["features_shape"] == list(array.shape)
    assert (item.dataset.name, item.context) == ("features", "eval")


def test_fluent_log_input_once_per_run_dataset_and_context(tmp_path: Path) -> None:
    runyard.set_tracking_uri(f"sqlite:///{tmp_path / 'store.db'}")
    df = _frame()
    with runyard.start_run() as run:
        first = runyard.log_input(df, name="train")
        runyard.log_input(df.copy(), name="train")  # the same data again: nothing new
        runyard.log_input(df, context="validation", name="train")
    client = TrackingClient(f"sqlite:///{tmp_path / 'store.db'}")
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.context) for i in inputs] == [("train", "training"), ("train", "validation")]
    found = client.search_runs([run.info.experiment_id], f"datasets.digest = '{first.dataset.digest}'")
    assert [r.info.run_id for r in found] == [run.info.run_id]


def test_files_and_directories_get_a_content_digest(client: TrackingClient, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("x\n1\n")
    (data / "sub" / "b.csv").write_text("x\n2\n")
    run_id = client.create_run(client.create_experiment("files")).info.run_id
    file_input = client.log_input(run_id, data / "a.csv")
    directory_input = client.log_input(run_id, str(data), context="eval")
    assert (file_input.dataset.name, file_input.dataset.source_type) == ("a.csv", "local")
    assert json.loads(file_input.dataset.source) == {"uri": str((data / "a.csv").resolve())}
    assert len(file_input.dataset.digest) == 32
    assert json.loads(directory_input.dataset.profile or "") == {"num_files": 2, "num_bytes": 8}
    assert client.log_input(run_id, data / "a.csv").dataset.digest == file_input.dataset.digest
    (data / "sub" / "b.csv").write_text("x\n3\n")
    from runyard.datasets import dataset_input

    assert dataset_input(data).dataset.digest != directory_input.dataset.digest
    assert len(client.get_run(run_id).inputs.dataset_inputs) == 2


def test_uris_are_recorded_by_scheme(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("uris")).info.run_id
    item = client.log_input(run_id, "s3://bucket/path/train.parquet", context=None)
    assert (item.dataset.name, item.dataset.source_type, item.context) == ("train.parquet", "s3", None)
    assert json.loads(item.dataset.source) == {"uri": "s3://bucket/path/train.parquet"}


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("no/such/file.csv", "No file or directory"),
        (42, "Cannot log a int as a dataset"),
        ({"a": 1}, "Cannot log a dict"),
    ],
)
def test_bad_datasets_are_refused_and_nothing_is_written(
    client: TrackingClient, bad: object, fragment: str
) -> None:
    run_id = client.create_run(client.create_experiment("bad")).info.run_id
    with pytest.raises(InvalidInput, match=fragment):
        client.log_input(run_id, bad)
    assert client.get_run(run_id).inputs.dataset_inputs == []


def test_logging_a_file_imports_neither_pandas_nor_numpy(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("x\n")
    code = (
        "import sys, runyard\n"
        f"runyard.set_tracking_uri('sqlite:///{tmp_path / 's.db'}')\n"
        "with runyard.start_run():\n"
        f"    runyard.log_input({str(tmp_path / 'd.csv')!r})\n"
        "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

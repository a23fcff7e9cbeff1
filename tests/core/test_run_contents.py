"""A run's models and datasets in words: flavor, schema, a snippet that runs; dataset facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import runyard
from runyard import TrackingClient
from runyard.entities import MODEL_HISTORY
from runyard.tracking.artifacts import local_path_of
from runyard.tracking.run_contents import run_datasets, run_models
from sklearn.linear_model import LogisticRegression

FEATURES = pd.DataFrame({"age": [20.0, 35.0, 50.0, 65.0], "visits": [1, 4, 2, 8]})
LABELS = [0, 1, 0, 1]


@pytest.fixture
def store(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'runyard.db'}"
    runyard.set_tracking_uri(uri)
    return uri


def _run_snippet(store: str, snippet: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = f"import runyard\nrunyard.set_tracking_uri({store!r})\n" + snippet
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ},
    )


def test_a_model_logged_by_runyard_is_listed_with_flavor_schema_and_a_working_snippet(
    store: str, tmp_path: Path
) -> None:
    model = LogisticRegression().fit(FEATURES, LABELS)
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_model(model, name="clf", input_example=FEATURES.head(2))
    client = TrackingClient(store)
    (summary,) = run_models(client, client.get_run(run.info.run_id))
    assert (summary.path, summary.flavor, summary.model_id) == ("clf", "sklearn", None)
    assert summary.inputs == "age double, visits long"
    assert f'runyard.load_model("runs:/{run.info.run_id}/clf")' in summary.snippet
    result = _run_snippet(store, summary.snippet, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().startswith("[")


def test_an_mlflow_logged_model_with_a_tensor_schema_gets_a_numpy_snippet(store: str, tmp_path: Path) -> None:
    import mlflow.sklearn

    array = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.8], [0.9, 0.1]])
    client = TrackingClient(store)
    experiment_id = client.create_experiment("mlflow-models")
    run = client.create_run(experiment_id, run_name="from-mlflow")
    logged = client.create_logged_model(experiment_id, name="model", source_run_id=run.info.run_id)
    target = local_path_of(logged.artifact_location)
    mlflow.sklearn.save_model(
        LogisticRegression().fit(array, LABELS),
        str(target),
        input_example=array[:2],
        serialization_format="pickle",
    )
    client.finalize_logged_model(logged.model_id, "READY")
    (summary,) = run_models(client, client.get_run(run.info.run_id))
    assert (summary.path, summary.flavor, summary.model_id, summary.status) == (
        "model",
        "sklearn",
        logged.model_id,
        "READY",
    )
    assert summary.inputs == "tensor float64 [-1, 2]"
    assert "trusted=True" in summary.snippet and "np.zeros((1, 2), dtype='float64')" in summary.snippet
    result = _run_snippet(store, summary.snippet, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_broken_history_or_missing_files_never_fail_the_listing(store: str) -> None:
    client = TrackingClient(store)
    run = client.create_run(client.create_experiment("broken"), run_name="r")
    client.set_tags(run.info.run_id, {MODEL_HISTORY: json.dumps([{"name": "gone", "flavor": "sklearn"}])})
    (summary,) = run_models(client, client.get_run(run.info.run_id))
    assert (summary.path, summary.flavor, summary.inputs) == ("gone", "unknown", "not recorded")
    client.set_tags(run.info.run_id, {MODEL_HISTORY: "not json"})
    assert run_models(client, client.get_run(run.info.run_id)) == []


def test_datasets_are_summarised_with_context_source_schema_and_rows(store: str, tmp_path: Path) -> None:
    data_file = tmp_path / "train.csv"
    data_file.write_text("a,b\n1,2\n")
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_input(FEATURES, context="training", name="visits")
        runyard.log_input(np.zeros((10, 3)), context="eval", name="grid")
        runyard.log_input(data_file, context="raw")
    summaries = {s.name: s for s in run_datasets(runyard.get_run(run.info.run_id))}
    visits = summaries["visits"]
    assert (visits.context, visits.rows, visits.schema, visits.source) == (
        "training",
        4,
        "2 columns: age, visits",
        "code",
    )
    assert (summaries["grid"].rows, summaries["grid"].schema) == (10, "features tensor float64 [-1, 3]")
    (raw,) = [s for s in summaries.values() if s.context == "raw"]
    assert raw.source == f"local {data_file}" and len(raw.digest) > 8

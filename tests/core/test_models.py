"""Models as run artifacts: round trips per flavor, MLflow reading our MLmodel, safety, the snippet."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import runyard
from runyard import InvalidInput, TrackingClient
from runyard.tracking.models import from_yaml, prediction_snippet, read_descriptor, to_yaml
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = pd.DataFrame({"age": [20.0, 35.0, 50.0, 65.0], "visits": [1, 4, 2, 8]})
LABELS = [0, 1, 0, 1]


class Doubler:
    """A plain picklable object with a predict method."""

    def predict(self, data: pd.DataFrame) -> list[float]:
        return [value * 2 for value in data["x"]]


@pytest.fixture
def store(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'runyard.db'}"
    runyard.set_tracking_uri(uri)
    return uri


def _pipeline() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(FEATURES, LABELS)


def test_a_sklearn_pipeline_round_trips_with_skops_and_a_schema(store: str) -> None:
    model = _pipeline()
    with runyard.start_run(log_system_info=False) as run:
        info = runyard.log_model(model, input_example=FEATURES.head(2))
    assert info.flavor == "sklearn"
    assert [column["name"] for column in info.inputs] == ["age", "visits"]
    assert [column["type"] for column in info.inputs] == ["double", "long"]
    names = {entry.path for entry in runyard.list_artifacts(run.info.run_id, "model")}
    assert {"model/MLmodel", "model/model.skops", "model/input_example.json"} <= names
    loaded = runyard.load_model(f"runs:/{run.info.run_id}/model")
    assert list(loaded.predict(FEATURES)) == list(model.predict(FEATURES))  # type: ignore[attr-defined]
    assert list(runyard.predict(loaded, FEATURES)) == list(model.predict(FEATURES))  # type: ignore[attr-defined]
    tags = runyard.get_run(run.info.run_id).data.tags
    assert '"name": "model"' in tags["runyard.log-model.history"]


def test_mlflow_loads_the_model_runyard_logged(store: str, tmp_path: Path) -> None:
    model = _pipeline()
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_model(model, name="clf", input_example=FEATURES.head(2))
    local = TrackingClient(store).download_artifacts(run.info.run_id, "clf", tmp_path / "dl")
    code = textwrap.dedent(
        f"""
        import os, pandas as pd, mlflow.sklearn, mlflow.pyfunc
        os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
        data = pd.DataFrame({{"age": [20.0, 65.0], "visits": [1, 8]}})
        print(list(mlflow.sklearn.load_model({local!r}).predict(data)))
        print(list(mlflow.pyfunc.load_model({local!r}).predict(data)))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = str(list(model.predict(pd.DataFrame({"age": [20.0, 65.0], "visits": [1, 8]}))))  # type: ignore[attr-defined]
    assert result.stdout.split("\n")[-3:-1] == [expected, expected]


def test_a_model_logged_in_one_process_loads_in_another(store: str, tmp_path: Path) -> None:
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_model(_pipeline(), input_example=FEATURES.head(1))
    code = textwrap.dedent(
        f"""
        import pandas as pd, runyard
        runyard.set_tracking_uri({store!r})
        model = runyard.load_model("runs:/{run.info.run_id}/model")
        print(list(model.predict(pd.DataFrame({{"age": [20.0], "visits": [1]}}))))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] in ("[0]", "[1]", "[np.int64(0)]", "[np.int64(1)]")


def test_a_pickled_object_needs_trust_to_load(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with runyard.start_run(log_system_info=False) as run:
        with pytest.warns(UserWarning, match="pickle"):
            info = runyard.log_model(Doubler(), name="doubler")
    assert info.flavor == "runyard_pickle"
    uri = f"runs:/{run.info.run_id}/doubler"
    with pytest.raises(InvalidInput, match="trusted=True"):
        runyard.load_model(uri)
    assert runyard.load_model(uri, trusted=True).predict(pd.DataFrame({"x": [1, 2]})) == [2, 4]
    monkeypatch.setenv("RUNYARD_TRUST_PICKLES", "1")
    assert runyard.load_model(uri).predict(pd.DataFrame({"x": [3]})) == [6]


def test_a_directory_of_files_is_logged_as_is(store: str, tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint"
    (checkpoint / "tokenizer").mkdir(parents=True)
    (checkpoint / "weights.bin").write_bytes(b"\x00\x01weights")
    (checkpoint / "tokenizer" / "vocab.txt").write_text("a\nb\n")
    with runyard.start_run(log_system_info=False) as run:
        info = runyard.log_model(str(checkpoint), name="bert")
    assert info.flavor == "runyard_files"
    path = Path(runyard.load_model(f"runs:/{run.info.run_id}/bert"))
    assert (path / "weights.bin").read_bytes() == b"\x00\x01weights"
    assert (path / "tokenizer" / "vocab.txt").read_text() == "a\nb\n"


def test_a_string_that_is_not_a_directory_is_an_error_and_writes_nothing(store: str) -> None:
    with runyard.start_run(log_system_info=False) as run:
        with pytest.raises(InvalidInput, match="not a directory"):
            runyard.log_model("model.pkl")
    assert runyard.list_artifacts(run.info.run_id) == [] or all(
        not entry.path.startswith("model") for entry in runyard.list_artifacts(run.info.run_id)
    )


def test_without_skops_a_sklearn_model_fails_naming_the_extra_and_never_pickles(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with runyard.start_run(log_system_info=False) as run:
        with pytest.raises(runyard.MissingExtra, match=r"runyard\[models\]"):
            runyard.log_model(_pipeline())
    assert not [e for e in runyard.list_artifacts(run.info.run_id) if e.path.startswith("model")]


def test_the_snippet_loads_builds_a_frame_from_the_schema_and_predicts(store: str, tmp_path: Path) -> None:
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_model(_pipeline(), input_example=FEATURES.head(2))
    local = TrackingClient(store).download_artifacts(run.info.run_id, "model", tmp_path / "m")
    snippet = prediction_snippet(run.info.run_id, "model", read_descriptor(local))
    assert f'runyard.load_model("runs:/{run.info.run_id}/model")' in snippet
    assert "'age': [0.0]," in snippet and "'visits': [0]," in snippet
    script = f"import runyard\nrunyard.set_tracking_uri({store!r})\n" + snippet
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_mlmodel_yaml_reads_back_with_and_without_pyyaml() -> None:
    descriptor = {
        "flavors": {"sklearn": {"code": None, "skops_trusted_types": ["a.B", "c.D"], "v": "1.0"}},
        "signature": {"inputs": '[{"type": "double", "name": "x"}]', "params": None},
        "size": 12,
        "ok": True,
    }
    text = to_yaml(descriptor)
    import yaml

    assert yaml.safe_load(text) == descriptor
    from runyard.tracking import models

    assert models._parse_block(text.splitlines(), 0, 0)[0] == descriptor
    assert from_yaml(text) == descriptor

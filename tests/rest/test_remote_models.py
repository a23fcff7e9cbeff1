"""Models and datasets on a tracking server: logged in one process, loaded in another, shown in run details.

runyard.log_model stores the files through the server's artifact proxy; runyard.load_model downloads them
into the artifact cache and loads them; log_input goes through runs/log-inputs. Each against a runyard
server and a stock MLflow server (the servers of the contract suite, one per test session).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from remote_servers import ServerProcess
from runyard.exceptions import InvalidInput
from runyard.tracking.client import TrackingClient
from runyard.tracking.run_contents import run_datasets, run_models
from sklearn.linear_model import LinearRegression

SERVERS = ("runyard", "mlflow")
FEATURES = pd.DataFrame({"age": [20.0, 35.0, 50.0, 65.0], "visits": [1, 4, 2, 8]})
TARGET = [1.0, 2.0, 3.0, 4.0]


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> ServerProcess:
    """A runyard server or a stock MLflow server."""
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def run_id(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A run logged by another process: a scikit-learn model, a pickled object and a dataset."""
    printed = _python(LOG_SCRIPT, server.url, tmp_path_factory.mktemp("log-cache"))
    return str(json.loads(printed.splitlines()[-1])["run_id"])


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process's artifact cache, empty."""
    monkeypatch.setenv("RUNYARD_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _python(script: str, url: str, cache: Path) -> str:
    """Run a script in a new Python process on the server; returns what it printed (fails on an error)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNYARD_"))}
    env.update({"RUNYARD_TRACKING_URI": url, "RUNYARD_CACHE_DIR": str(cache)})
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


LOG_SCRIPT = """
    import json, warnings
    import pandas as pd
    import runyard
    from sklearn.linear_model import LinearRegression

    features = pd.DataFrame({"age": [20.0, 35.0, 50.0, 65.0], "visits": [1, 4, 2, 8]})
    with runyard.start_run(run_name="remote-model") as run:
        model = LinearRegression().fit(features, [1.0, 2.0, 3.0, 4.0])
        runyard.log_model(model, name="model", input_example=features.head(2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runyard.log_model({"threshold": 0.5}, name="rules")
        runyard.log_input(features, context="training", name="visits")
    print(json.dumps({"run_id": run.info.run_id}))
"""


def test_a_model_logged_to_a_server_loads_in_another_process(
    server: ServerProcess, run_id: str, tmp_path: Path
) -> None:
    cache = tmp_path / "load-cache"
    printed = _python(
        f"""
        import pandas as pd
        import runyard

        model = runyard.load_model("runs:/{run_id}/model")
        data = pd.DataFrame({{"age": [20.0, 65.0], "visits": [1, 8]}})
        print(type(model).__name__, [round(float(v), 6) for v in model.predict(data)])
        print(runyard.load_model("runs:/{run_id}/rules", trusted=True))
        """,
        server.url,
        cache,
    )
    expected = LinearRegression().fit(FEATURES, TARGET).predict(FEATURES.iloc[[0, 3]])
    assert f"LinearRegression {[round(float(v), 6) for v in expected]}" in printed
    assert "{'threshold': 0.5}" in printed  # the pickle flavor, with trusted=True
    assert list(cache.rglob("model/MLmodel")) and list(cache.rglob("model/model.skops"))


def test_run_details_show_the_model_and_dataset_logged_to_a_server(
    server: ServerProcess, run_id: str, cache: Path
) -> None:
    client = TrackingClient(server.url)
    run = client.get_run(run_id)
    models = {m.path: m for m in run_models(client, run)}
    assert set(models) == {"model", "rules"}
    assert (models["model"].flavor, models["model"].inputs) == ("sklearn", "age double, visits long")
    assert f'runyard.load_model("runs:/{run_id}/model")' in models["model"].snippet
    assert "'age': [0.0]," in models["model"].snippet
    assert models["rules"].flavor == "runyard_pickle"
    (dataset,) = run_datasets(run)
    assert (dataset.name, dataset.context, dataset.schema, dataset.rows) == (
        "visits",
        "training",
        "2 columns: age, visits",
        4,
    )


def test_loading_a_missing_model_from_a_server_names_the_models_the_run_has(
    server: ServerProcess, run_id: str, cache: Path
) -> None:
    with pytest.raises(InvalidInput) as error:
        TrackingClient(server.url).load_model(f"runs:/{run_id}/modle")
    message = str(error.value)
    assert "\n" not in message
    assert f"Run {run_id} has no model 'modle'" in message and "its models: model, rules" in message


MLFLOW_SCRIPT = """
    import json
    import mlflow
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    features = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.8], [0.9, 0.1]])
    mlflow.set_tracking_uri({url!r})
    mlflow.set_experiment("mlflow-logged")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            LogisticRegression().fit(features, [0, 1, 0, 1]), name="clf", input_example=features[:2]
        )
    print(json.dumps({{"run_id": run.info.run_id, "model_id": info.model_id}}))
"""


def test_a_model_logged_by_mlflow_to_a_server_is_shown_and_loaded_by_runyard(
    server: ServerProcess, tmp_path: Path, cache: Path
) -> None:
    url = server.url
    ids = json.loads(_python(MLFLOW_SCRIPT.format(url=url), url, tmp_path / "c1").splitlines()[-1])
    client = TrackingClient(url)
    run = client.get_run(ids["run_id"])
    (found,) = client.search_logged_models([run.info.experiment_id], f"source_run_id = '{ids['run_id']}'")
    assert (found.model_id, found.name, found.status) == (ids["model_id"], "clf", "READY")

    # a runyard server keeps the files among the run's artifacts, MLflow 3 under the model's own URI
    (summary,) = run_models(client, run)
    assert (summary.path, summary.flavor, summary.model_id, summary.status) == (
        "clf",
        "sklearn",
        ids["model_id"],
        "READY",
    )
    assert summary.inputs == "tensor float64 [-1, 2]"
    printed = _python(
        f"""
        import runyard

        model = runyard.load_model("models:/{ids["model_id"]}")
        print(list(model.predict([[0.0, 1.0], [1.0, 0.0]])))
        """,
        url,
        tmp_path / "c2",
    )
    assert printed.strip().endswith("[np.int64(0), np.int64(1)]")

"""Dumps and a stock `mlflow server`: export reads it over MLflow's API; an import into it is refused."""

from __future__ import annotations

import uuid
from pathlib import Path

from click.testing import CliRunner
from remote_servers import ServerProcess
from runyard import Metric, TrackingClient
from runyard.cli import cli


def test_export_from_an_mlflow_server_then_import_into_a_file(
    mlflow_server: ServerProcess, tmp_path: Path
) -> None:
    remote = TrackingClient(mlflow_server.url)
    name = f"/dumps/{uuid.uuid4().hex[:10]}"
    experiment = remote.create_experiment(name)
    run_id = remote.create_run(experiment, run_name="on-mlflow").info.run_id
    remote.log_params(run_id, {"lr": "0.1"})
    points = [Metric("loss", 1.0 / (i + 1), 1_700_000_000_000 + i, i) for i in range(30)]
    remote.log_batch(run_id, metrics=points)
    remote.set_terminated(run_id, "FINISHED")

    dump = tmp_path / "dump"
    result = CliRunner().invoke(cli, ["export", "--store", mlflow_server.url, "-e", name, str(dump)])
    assert result.exit_code == 0, result.output
    local = TrackingClient(str(tmp_path / "copy.db"), must_exist=False)
    result = CliRunner().invoke(cli, ["import", "--store", str(tmp_path / "copy.db"), str(dump)])
    assert result.exit_code == 0, result.output
    run = local.get_run(run_id)
    assert (run.info.run_name, run.info.status, run.data.params) == ("on-mlflow", "FINISHED", {"lr": "0.1"})
    history = local.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (m.step, m.timestamp, m.value) for m in points
    ]


def test_importing_into_an_mlflow_server_is_refused_and_sends_nothing(
    mlflow_server: ServerProcess, tmp_path: Path
) -> None:
    local = TrackingClient(str(tmp_path / "local.db"), must_exist=False)
    name = f"/dumps/{uuid.uuid4().hex[:10]}"
    local.create_run(local.create_experiment(name), run_name="local")
    dump = tmp_path / "dump"
    assert (
        CliRunner().invoke(cli, ["export", "--store", str(tmp_path / "local.db"), str(dump)]).exit_code == 0
    )
    result = CliRunner().invoke(cli, ["import", "--store", mlflow_server.url, str(dump)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "stock MLflow server" in result.output and "runyard server" in result.output
    assert TrackingClient(mlflow_server.url).get_experiment_by_name(name) is None

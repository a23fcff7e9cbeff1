"""export, import, copy and import-mlflow with a tracking server on either side (real server subprocesses)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from remote_servers import ServerProcess, start_server
from runyard import Metric, TrackingClient
from runyard.cli import cli
from runyard.entities import HEARTBEAT_SOURCE

POINTS = 57  # more than one get-history page and one dump chunk once both are made small


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def _fill(client: TrackingClient, tmp_path: Path) -> dict[str, str]:
    """Two experiments (one empty), a finished run with history, artifact and console, a deleted run."""
    vision = client.create_experiment("/team/vision", tags={"owner": "cv"})
    client.create_experiment("/team/empty")
    run = client.create_run(vision, run_name="resnet", start_time=1_700_000_000_000, tags={"stage": "dev"})
    run_id = run.info.run_id
    client.log_params(run_id, {"lr": "0.01", "layers": "50"})
    values = [1.0 / (i + 1) for i in range(POINTS)]
    values[7] = math.nan
    client.log_batch(
        run_id, metrics=[Metric("loss", v, 1_700_000_001_000 + i, i) for i, v in enumerate(values)]
    )
    client.log_batch(run_id, metrics=[Metric("acc", 0.5, 1_700_000_002_000, 3)])
    weights = tmp_path / "weights.bin"
    weights.write_bytes(bytes(range(256)) * 40)
    client.log_artifact(run_id, str(weights), "model")
    client.store.append_console(run_id, [(1_700_000_003_000, "stdout", "epoch 1\n")])
    client.set_terminated(run_id, "FINISHED", end_time=1_700_000_009_000)
    gone = client.create_run(vision, run_name="gone")
    client.log_batch(gone.info.run_id, metrics=[Metric("loss", 3.0, 1_700_000_004_000, 0)])
    client.delete_run(gone.info.run_id)
    return {"run": run_id, "gone": gone.info.run_id}


def _snapshot(client: TrackingClient) -> dict[str, Any]:
    """What a user sees of a store: experiments, runs with their fields, every point, artifacts, console."""
    experiments = {e.experiment_id: e for e in client.list_experiments("ALL")}
    runs: dict[str, Any] = {}
    for run in client.search_runs(list(experiments), run_view_type="ALL", max_results=1000):
        info = run.info
        histories = {
            key: [(m.step, m.timestamp, "nan" if math.isnan(m.value) else m.value) for m in history]
            for key in sorted(run.data.metric_summaries)
            for history in [
                sorted(client.get_metric_history(info.run_id, key), key=lambda m: (m.step, m.timestamp))
            ]
        }
        repository = client.artifact_repository(info.run_id)
        runs[info.run_id] = {
            "experiment": experiments[info.experiment_id].name,
            "name": info.run_name,
            "status": info.status,
            "user": info.user_id,
            "times": (info.start_time, info.end_time),
            "lifecycle": info.lifecycle_stage,
            "params": run.data.params,
            "tags": {k: v for k, v in run.data.tags.items() if k != HEARTBEAT_SOURCE},  # hidden on the wire
            "heartbeat_from_writes": info.heartbeat_from_writes,
            "histories": histories,
            "artifacts": [(f.path, f.file_size) for f in repository.list("model")],
            "weights": repository.resolve("model/weights.bin").read_bytes()
            if any(f.path == "model/weights.bin" for f in repository.list("model"))
            else b"",
            "console": client.get_console_text(info.run_id),
        }
    names = sorted(e.name for e in experiments.values() if e.name != "Default")
    tags = {e.name: e.tags for e in experiments.values() if e.name != "Default"}
    return {"experiments": names, "experiment_tags": tags, "runs": runs}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """A runyard server holding the runs of _fill."""
    directory = tmp_path_factory.mktemp("source-server")
    running = start_server(directory)
    try:
        yield running, _fill(TrackingClient(running.url), directory)
    finally:
        running.stop()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[ServerProcess]:
    """An empty runyard server."""
    running = start_server(tmp_path / "target-server")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Histories in pages of 10 points and dump chunks of 25, so that paging really happens."""
    from runyard.interop import remote_dump
    from runyard.rest import histories

    monkeypatch.setattr(histories, "HISTORY_PAGE", 10)
    monkeypatch.setattr(remote_dump, "CHUNK_POINTS", 25)


def test_export_from_a_server_and_import_into_a_file_keeps_every_run_and_point(
    source: tuple[ServerProcess, dict[str, str]], tmp_path: Path, small_pages: None
) -> None:
    server, ids = source
    dump = tmp_path / "dump"
    output = _invoke("export", "--store", server.url, "--include-deleted", str(dump))
    assert "Exported 2 run(s) of 3 experiment(s)" in output and f"{POINTS + 2} metric points" in output
    local = tmp_path / "copy.db"
    output = _invoke("import", "--store", str(local), str(dump))
    assert "Imported 2 run(s)" in output and "1 artifact file(s)" in output
    expected, copied = _snapshot(TrackingClient(server.url)), _snapshot(TrackingClient(str(local)))
    assert copied == expected
    assert len(copied["runs"][ids["run"]]["histories"]["loss"]) == POINTS
    assert copied["runs"][ids["gone"]]["lifecycle"] == "deleted"


def test_import_into_a_server_keeps_ids_and_resumes_by_skipping(
    source: tuple[ServerProcess, dict[str, str]], target: ServerProcess, tmp_path: Path
) -> None:
    server, ids = source
    dump = tmp_path / "dump"
    _invoke("export", "--store", server.url, "--include-deleted", str(dump))
    output = _invoke("import", "--store", target.url, str(dump))
    assert "Imported 2 run(s)" in output and "experiments: 2 created, 1 reused" in output
    assert _snapshot(TrackingClient(target.url)) == _snapshot(TrackingClient(server.url))
    again = _invoke("import", "--store", target.url, str(dump))
    assert "Imported 0 run(s)" in again and "skipped 2 already present" in again
    assert "experiments: 0 created, 3 reused" in again


def test_import_into_a_server_in_several_parts(
    source: tuple[ServerProcess, dict[str, str]],
    target: ServerProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runyard.interop import remote_load

    monkeypatch.setattr(remote_load, "PART_RUNS", 1)  # one upload per run, the empty experiment last
    server, _ids = source
    dump = tmp_path / "dump"
    _invoke("export", "--store", server.url, "--include-deleted", str(dump))
    output = _invoke("import", "--store", target.url, str(dump))
    assert "Imported 2 run(s)" in output and "experiments: 2 created, 1 reused" in output
    assert _snapshot(TrackingClient(target.url)) == _snapshot(TrackingClient(server.url))


def test_on_conflict_fail_and_a_damaged_dump_send_nothing_to_the_server(
    source: tuple[ServerProcess, dict[str, str]], target: ServerProcess, tmp_path: Path
) -> None:
    server, ids = source
    dump = tmp_path / "dump"
    _invoke("export", "--store", server.url, "-e", "/team/vision", str(dump))
    client = TrackingClient(target.url)
    experiment = client.create_experiment("/team/vision")
    before = _snapshot(client)

    damaged = tmp_path / "damaged"
    _invoke("export", "--store", server.url, str(damaged))
    with open(damaged / "params.jsonl", "ab") as handle:
        handle.write(b'{"run_id": "x"}\n')
    result = CliRunner().invoke(cli, ["import", "--store", target.url, str(damaged)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "params.jsonl" in result.output
    assert _snapshot(client) == before

    _invoke("import", "--store", target.url, str(dump))
    assert client.get_run(ids["run"]).info.experiment_id == experiment
    # in the experiment the server made, the run's files are where its artifact proxy serves them
    expected_weights = _snapshot(TrackingClient(server.url))["runs"][ids["run"]]["weights"]
    assert _snapshot(client)["runs"][ids["run"]]["weights"] == expected_weights != b""
    result = CliRunner().invoke(cli, ["import", "--store", target.url, "--on-conflict", "fail", str(dump)])
    assert result.exit_code != 0
    assert "already exist in the target store" in result.output and "nothing was imported" in result.output


def test_copy_from_one_server_to_another(
    source: tuple[ServerProcess, dict[str, str]], target: ServerProcess
) -> None:
    server, _ids = source
    output = _invoke("copy", "--from", server.url, "--to", target.url)
    assert "Imported 2 run(s)" in output
    assert _snapshot(TrackingClient(target.url)) == _snapshot(TrackingClient(server.url))


def test_copy_from_a_file_into_a_server(target: ServerProcess, tmp_path: Path) -> None:
    local = tmp_path / "local.db"
    client = TrackingClient(str(local), must_exist=False)
    ids = _fill(client, tmp_path)
    output = _invoke("copy", "--from", str(local), "--to", target.url)
    assert "Imported 2 run(s)" in output
    remote = _snapshot(TrackingClient(target.url))
    assert remote == _snapshot(client)
    assert remote["runs"][ids["run"]]["weights"] == (tmp_path / "weights.bin").read_bytes()


def test_import_mlflow_into_a_server(target: ServerProcess, tmp_path: Path) -> None:
    mlflow_tracking = pytest.importorskip("mlflow.tracking")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow_client = mlflow_tracking.MlflowClient(tracking_uri=uri)
    experiment = mlflow_client.create_experiment("vision", artifact_location=str(tmp_path / "mlartifacts"))
    run_id = mlflow_client.create_run(experiment, run_name="from-mlflow").info.run_id
    for step in range(5):
        mlflow_client.log_metric(
            run_id, "loss", 1.0 / (step + 1), timestamp=1_700_000_000_000 + step, step=step
        )
    mlflow_client.set_terminated(run_id, "FINISHED")
    output = _invoke("import-mlflow", "--from", uri, "--store", target.url)
    assert "Imported 1 run(s) with 5 metric points" in output
    client = TrackingClient(target.url)
    assert client.get_run(run_id).info.run_name == "from-mlflow"
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [1.0 / (s + 1) for s in range(5)]
    again = _invoke("import-mlflow", "--from", uri, "--store", target.url)
    assert "Imported 0 run(s)" in again and "skipped 1 already present" in again


def test_export_parquet_and_csv_from_a_server(
    source: tuple[ServerProcess, dict[str, str]], tmp_path: Path, small_pages: None
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    server, ids = source
    out = tmp_path / "parquet"
    output = _invoke("export-parquet", "--store", server.url, "-e", "/team/vision", str(out))
    assert f"with {POINTS + 1:,} metric points" in output  # the active run: loss and acc
    history = pq.read_table(out / "metric_history").to_pylist()
    loss = sorted((row["step"], row["value"]) for row in history if row["key"] == "loss")
    expected = TrackingClient(server.url).get_metric_history(ids["run"], "loss")
    assert [step for step, _ in loss] == sorted(m.step for m in expected)
    assert len(loss) == POINTS

    csv_path = tmp_path / "runs.csv"
    _invoke("export-csv", "--store", server.url, "-e", "/team/vision", str(csv_path))
    text = csv_path.read_text()
    assert ids["run"] in text and "resnet" in text and ids["gone"] not in text


def test_import_into_a_server_with_auth_needs_an_administrator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.passwords import hash_password
    from runyard.store import auth

    local = tmp_path / "local.db"
    ids = _fill(TrackingClient(str(local), must_exist=False), tmp_path)
    dump = tmp_path / "dump"
    _invoke("export", "--store", str(local), "--include-deleted", str(dump))
    running = start_server(
        tmp_path / "auth-server", extra_args=("--auth",), extra_env={"RUNYARD_ADMIN_PASSWORD": "admin secret"}
    )
    try:
        auth.add_user(TrackingClient(running.store_uri).store, "alice", hash_password("alice secret"))
        monkeypatch.setenv("RUNYARD_TRACKING_USERNAME", "alice")
        monkeypatch.setenv("RUNYARD_TRACKING_PASSWORD", "alice secret")
        refused = CliRunner().invoke(cli, ["import", "--store", running.url, str(dump)])
        assert refused.exit_code != 0 and "Traceback" not in refused.output
        assert "alice secret" not in refused.output
        assert len(refused.output.strip().splitlines()) == 1, refused.output
        database = TrackingClient(running.store_uri)
        assert database.get_experiment_by_name("/team/vision") is None

        monkeypatch.setenv("RUNYARD_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("RUNYARD_TRACKING_PASSWORD", "admin secret")
        output = _invoke("import", "--store", running.url, str(dump))
        assert "Imported 2 run(s)" in output
        assert database.get_run(ids["run"]).info.run_name == "resnet"
    finally:
        running.stop()

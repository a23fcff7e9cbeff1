"""Opening a store from Python: which store TrackingClient() uses, and clear errors for bad ones."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import runyard
from click.testing import CliRunner
from runyard import StoreError, TrackingClient
from runyard.cli import cli


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_a_file_that_is_not_sqlite_is_a_store_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("these are my notes, not a database\n")
    client = TrackingClient(str(notes))
    for call in (client.list_experiments, lambda: client.create_experiment("e")):
        with pytest.raises(StoreError, match="Cannot open store .*notes.db: file is not a database"):
            call()
    code, output = _cli("runs", "list", "--store", str(notes))
    assert code == 2 and "Cannot open store" in output and "file is not a database" in output
    code, output = _cli("experiments", "create", "e", "--store", str(notes))
    assert code == 2 and "file is not a database" in output
    assert notes.read_text() == "these are my notes, not a database\n"  # changed nothing


def test_a_read_only_file_system_is_a_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    store = tmp_path / "new" / "runyard.db"
    with pytest.raises(
        StoreError, match="Cannot create the store .*Read-only file system.*writable location"
    ):
        TrackingClient(str(store)).create_experiment("e")
    runyard.set_tracking_uri(str(store))
    with pytest.raises(StoreError, match="Read-only file system"):
        runyard.start_run()
    code, output = _cli("experiments", "create", "e", "--store", str(store))
    assert code == 2 and "Cannot create the store" in output and "Read-only file system" in output
    assert not store.parent.exists()


def test_client_follows_set_tracking_uri_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert TrackingClient().tracking_uri == f"sqlite:///{tmp_path / 'runyard.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow-env.db'}")
    assert TrackingClient().tracking_uri.endswith("mlflow-env.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")  # a tracking server: used
    assert TrackingClient().tracking_uri == "http://mlflow.example:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "databricks")  # neither a database nor a server: ignored
    assert TrackingClient().tracking_uri == f"sqlite:///{tmp_path / 'runyard.db'}"
    monkeypatch.setenv("RUNYARD_TRACKING_URI", str(tmp_path / "env.db"))
    assert TrackingClient().tracking_uri.endswith("/env.db")
    runyard.set_tracking_uri(str(tmp_path / "chosen.db"))
    assert (
        TrackingClient().tracking_uri == runyard.get_tracking_uri() == f"sqlite:///{tmp_path / 'chosen.db'}"
    )
    assert TrackingClient(str(tmp_path / "explicit.db")).tracking_uri.endswith("/explicit.db")

    with runyard.start_run() as run:
        runyard.log_param("lr", 0.1)
    # A client made after set_tracking_uri reads what the fluent API wrote, as MlflowClient() does.
    assert TrackingClient().get_run(run.info.run_id).data.params == {"lr": "0.1"}
    assert not (tmp_path / "runyard.db").exists() and not (tmp_path / "env.db").exists()


def test_reading_never_creates_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    client = TrackingClient()
    reads = [
        client.list_experiments,
        lambda: client.search_runs(["0"]),
        lambda: client.get_run("0" * 32),
        lambda: client.search_experiments(),
    ]
    for read in reads:
        with pytest.raises(StoreError, match="No runyard store at .*runyard.db: create one"):
            read()
    # The create-if-absent idiom of MLflow scripts works on a new file, and the lookup creates nothing.
    assert client.get_experiment_by_name("first") is None
    assert runyard.get_experiment_by_name("first") is None
    assert list(tmp_path.iterdir()) == []
    experiment_id = client.create_experiment("first")  # the first write creates the store
    assert (tmp_path / "runyard.db").is_file()
    assert [e.experiment_id for e in client.list_experiments()] == [experiment_id]

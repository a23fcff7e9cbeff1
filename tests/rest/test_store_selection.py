"""Which store a tracking URI opens, what `import runyard` costs, and a server of another runyard version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from remote_servers import ServerProcess
from runyard.config import default_tracking_uri, normalize_tracking_uri
from runyard.tracking.client import TrackingClient


@pytest.mark.parametrize("uri", ["http://tracking.example:5000", "https://tracking.example"])
def test_server_urls_are_kept_and_open_the_http_store(uri: str) -> None:
    assert normalize_tracking_uri(uri) == uri
    assert type(TrackingClient(uri).store).__name__ == "RestStore"


def test_mlflow_tracking_uri_naming_a_server_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNYARD_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert default_tracking_uri() == "http://127.0.0.1:5000"
    monkeypatch.setenv("RUNYARD_TRACKING_URI", "sqlite:///x.db")
    assert default_tracking_uri() == "sqlite:///x.db"  # runyard's setting wins


def test_choosing_a_server_loads_no_http_client_until_used(tmp_path: Path) -> None:
    code = (
        "import runyard, sys, json\n"
        "runyard.set_tracking_uri('http://127.0.0.1:9')\n"
        "from runyard.tracking.client import TrackingClient\n"
        "TrackingClient()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'sqlalchemy'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_runyard_server_of_another_api_version_is_a_clear_error(
    runyard_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.rest import store as rest_store

    monkeypatch.setattr(rest_store, "CLIENT_API_VERSION", 99)
    client = TrackingClient(runyard_server.url)
    with pytest.raises(rest_store.ServerVersionMismatch, match="install the same runyard version"):
        client.list_experiments()


def test_the_fluent_api_logs_to_a_runyard_server(runyard_server: ServerProcess) -> None:
    import runyard

    runyard.set_tracking_uri(runyard_server.url)
    try:
        runyard.set_experiment("/fluent/over-http")
        with runyard.start_run(run_name="fluent", log_system_info=False) as run:
            runyard.log_params({"lr": 0.1})
            for step in range(2_500):
                runyard.log_metric("loss", 1.0 / (step + 1), step=step)
        client = TrackingClient(runyard_server.url)
        logged = client.get_run(run.info.run_id)
        assert logged.info.status == "FINISHED" and logged.data.params == {"lr": "0.1"}
        assert len(client.get_metric_history(run.info.run_id, "loss")) == 2_500
    finally:
        runyard.set_tracking_uri(None)

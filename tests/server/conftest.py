"""Server fixtures: a real `runyard server` subprocess on a free 127.0.0.1 port, stopped after its module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from server_helpers import ServerProcess, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One SQLite-backed server for the test module."""
    running = start_server(tmp_path_factory.mktemp("server"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def mlflow_uri(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """MLFLOW_TRACKING_URI pointed at the module's server (the stock client's usual setup).

    mlflow.set_tracking_uri also writes os.environ: both are undone after the test, so that later
    tests' subprocesses never inherit the URL of a server that is gone.
    """
    import os

    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    mlflow.set_tracking_uri(server.url)
    try:
        yield server.url
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
        os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    """A plain HTTP client on the server (for requests the stock client would never send)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client

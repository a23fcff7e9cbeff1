"""Store contract fixtures: the same tests on SqlStore, a runyard server and a stock MLflow server.

Each server starts once per test session; tests isolate themselves by unique experiment names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from remote_servers import ServerProcess, start_mlflow_server, start_server
from runyard.tracking.client import TrackingClient

STORES = ("sql", "runyard", "mlflow")


@pytest.fixture(scope="session")
def runyard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One `runyard server` for the session."""
    running = start_server(tmp_path_factory.mktemp("runyard-server"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One stock `mlflow server` for the session."""
    running = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Which store the contract test runs on."""
    return str(request.param)


@pytest.fixture
def remote(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> TrackingClient:
    """A TrackingClient on the store of store_kind (servers: http URIs, so RestStore)."""
    if store_kind == "sql":
        return TrackingClient(f"sqlite:///{tmp_path / 'runyard.db'}", artifact_root=str(tmp_path / "art"))
    server: ServerProcess = request.getfixturevalue(f"{store_kind}_server")
    return TrackingClient(server.url)


@pytest.fixture
def experiment(remote: TrackingClient) -> str:
    """A fresh experiment (unique name: the servers are shared by the session)."""
    return remote.create_experiment(f"/contract/{uuid.uuid4().hex[:10]}")

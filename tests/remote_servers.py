"""Tracking servers for remote-store tests: `runyard server` and a stock `mlflow server` subprocess.

Each starts on a free 127.0.0.1 port with its own SQLite database and waits (bounded) for /health.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from server.server_helpers import ServerProcess, free_port, start_server, wait_until_healthy

START_TIMEOUT_S = 240.0  # MLflow imports a lot: on a loaded CI machine it starts slowly

__all__ = ["ServerProcess", "start_mlflow_server", "start_server"]


def start_mlflow_server(directory: Path) -> ServerProcess:
    """Start `mlflow server` (artifacts served through its proxy); skip the test if mlflow is missing."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        pytest.skip("mlflow is not installed (pip install 'runyard[test]')")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    uri = f"sqlite:///{directory / 'mlflow.db'}"
    artifacts = directory / "mlartifacts"
    log_path = directory / "mlflow-server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNYARD_TRACKING"))}
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        uri,
        "--artifacts-destination",
        str(artifacts),
        "--workers",
        "1",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=directory)
    server = ServerProcess(f"http://127.0.0.1:{port}", uri, artifacts, process, log_path)
    return wait_until_healthy(server, "mlflow server", START_TIMEOUT_S)

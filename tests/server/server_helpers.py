"""Helpers of the server tests: start a real `runyard server` subprocess on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerProcess:
    """A running server: its URL, store URI, artifact root, process and log file."""

    url: str
    store_uri: str
    artifacts: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a bounded wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(
    directory: Path,
    store_uri: str | None = None,
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
) -> ServerProcess:
    """Start `runyard server` (on a free port, or this one) and wait (bounded) until /health answers."""
    directory.mkdir(parents=True, exist_ok=True)
    uri = store_uri or f"sqlite:///{directory / 'runyard.db'}"
    artifacts = directory / "artifacts"
    port = port or free_port()
    log_path = directory / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNYARD_TRACKING"))}
    env.update(extra_env or {})
    command = [
        sys.executable,
        "-m",
        "runyard.cli",
        "server",
        "--store",
        uri,
        "--artifacts-destination",
        str(artifacts),
        "--port",
        str(port),
        *extra_args,
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=directory)
    server = ServerProcess(f"http://127.0.0.1:{port}", uri, artifacts, process, log_path)
    return wait_until_healthy(server, "runyard server", START_TIMEOUT_S)


def wait_until_healthy(server: ServerProcess, name: str, timeout: float) -> ServerProcess:
    """Poll /health until it answers 200 (bounded); stop the server and raise with its log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not answer within {timeout} s:\n{server.log()}")

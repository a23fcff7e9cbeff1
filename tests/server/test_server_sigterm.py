"""A server stopped with SIGTERM (systemd, Kubernetes, Ctrl-C) while clients write: every answered write is
stored, the grouped writes in flight are finished first, and the server exits cleanly."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
from runyard import TrackingClient
from server_helpers import start_server

WRITERS = 4
BATCH = 200


def test_sigterm_while_clients_write_keeps_every_answered_point(tmp_path: Path) -> None:
    server = start_server(tmp_path / "sigterm")
    api = f"{server.url}/api/2.0/mlflow"
    experiment_id = httpx.post(f"{api}/experiments/create", json={"name": "stopping"}).json()["experiment_id"]
    answered: dict[str, int] = {}
    refused: list[str] = []
    lock = threading.Lock()

    def write(index: int) -> None:
        with httpx.Client(timeout=30) as client:
            run_id = client.post(f"{api}/runs/create", json={"experiment_id": experiment_id}).json()["run"][
                "info"
            ]["run_id"]
            with lock:
                answered[run_id] = 0
            step = 0
            while True:
                metrics = [
                    {"key": "loss", "value": 1.0 / (s + 1), "timestamp": 1, "step": s}
                    for s in range(step, step + BATCH)
                ]
                body = {"run_id": run_id, "metrics": metrics}
                try:
                    response = client.post(f"{api}/runs/log-batch", json=body)
                except httpx.HTTPError:
                    return  # the server has gone: this batch was never answered
                if response.status_code != 200:
                    with lock:
                        refused.append(f"{response.status_code} {response.text}")
                    return
                step += BATCH
                with lock:
                    answered[run_id] = step

    threads = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # let every writer get a few batches answered
        with lock:
            if len(answered) == WRITERS and min(answered.values()) >= 3 * BATCH:
                break
        time.sleep(0.05)
    server.process.terminate()  # SIGTERM while requests are in flight
    code = server.process.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=30)

    log = server.log()
    assert code in (0, -signal.SIGTERM), log  # uvicorn shuts down, then ends by the signal it caught
    assert "Traceback" not in log, log
    assert not [text for text in refused if not text.startswith("503")], refused
    client = TrackingClient(server.store_uri, must_exist=True)
    for run_id, steps in answered.items():
        stored = client.get_run(run_id).data.metric_summaries["loss"].count
        assert stored >= steps, f"run {run_id}: {steps} points answered, {stored} stored"
        assert stored % BATCH == 0, "a batch was half written"

"""Many clients at once: every point arrives; no "database is locked" ever reaches a client."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from runyard import TrackingClient
from server_helpers import ServerProcess, start_server

CLIENTS = 8
BATCHES = 20
BATCH = 250
SINGLES = 30

# One client process: the requests MLflow's client sends (log-batch, then single log-metric calls),
# over plain HTTP so that eight processes start in a blink (importing mlflow takes seconds each).
CLIENT = textwrap.dedent(
    """
    import sys
    import httpx

    url, experiment_id, index, batches, batch, singles = sys.argv[1:7]
    batches, batch, singles = int(batches), int(batch), int(singles)
    api = url + "/api/2.0/mlflow"

    def call(path, body):
        response = client.post(api + path, json=body)
        if response.status_code != 200:
            sys.exit(f"{path}: {response.status_code} {response.text}")
        return response.json()

    with httpx.Client(timeout=120) as client:
        run = call("/runs/create", {"experiment_id": experiment_id, "run_name": f"client-{index}"})
        run_id = run["run"]["info"]["run_id"]
        for b in range(batches):
            metrics = [
                {"key": "loss", "value": float(s), "timestamp": 1_700_000_000_000 + s, "step": s}
                for s in range(b * batch, (b + 1) * batch)
            ]
            call("/runs/log-batch", {"run_id": run_id, "metrics": metrics})
        for s in range(singles):
            point = {"run_id": run_id, "key": "single", "value": s, "timestamp": 1, "step": s}
            call("/runs/log-metric", point)
        call("/runs/log-parameter", {"run_id": run_id, "key": "index", "value": index})
        call("/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": 1_800_000_000_000})
    print(run_id)
    """
)


def _log_from_processes(server: ServerProcess, tmp_path: Path, experiment_name: str) -> list[str]:
    import httpx

    created = httpx.post(f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": experiment_name})
    experiment_id = created.json()["experiment_id"]
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                server.url,
                experiment_id,
                str(i),
                str(BATCHES),
                str(BATCH),
                str(SINGLES),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(CLIENTS)
    ]
    run_ids = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        assert "locked" not in err
        run_ids.append(out.strip().splitlines()[-1])
    return run_ids


def _assert_every_point_arrived(store_uri: str, run_ids: list[str]) -> None:
    local = TrackingClient(store_uri, must_exist=True)
    for run_id in run_ids:
        run = local.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert run.data.metric_summaries["loss"].count == BATCHES * BATCH
        assert run.data.metric_summaries["single"].count == SINGLES
        steps = [m.step for m in local.get_metric_history(run_id, "loss")]
        assert steps == list(range(BATCHES * BATCH))


def test_eight_clients_into_a_sqlite_server(server: ServerProcess, tmp_path: Path) -> None:
    run_ids = _log_from_processes(server, tmp_path, "/concurrency/sqlite")
    assert len(set(run_ids)) == CLIENTS
    _assert_every_point_arrived(server.store_uri, run_ids)
    assert "locked" not in server.log()


def test_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runyard.cli", "server", "--store", str(tmp_path / "r.db"), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PostgreSQL" in result.stderr and "--workers" in result.stderr
    assert not (tmp_path / "r.db").exists()


@pytest.mark.postgres
def test_two_workers_on_postgresql(postgres_database_url: str | None, tmp_path: Path) -> None:
    if postgres_database_url is None:
        pytest.skip("set RUNYARD_TEST_POSTGRES_URL to run the PostgreSQL server test")
    import uuid
    from urllib.parse import quote

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_database_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    uri = f"{postgres_database_url}?options={quote(f'-csearch_path={schema}')}"
    two_workers = start_server(tmp_path / "pg", store_uri=uri, extra_args=("--workers", "2"))
    try:
        run_ids = _log_from_processes(two_workers, tmp_path, "/concurrency/postgresql")
        _assert_every_point_arrived(uri, run_ids)
    finally:
        two_workers.stop()
        from runyard.store import db as runyard_db

        for database in list(runyard_db._databases.values()):
            if database.uri == uri:
                database.dispose()


def test_an_answered_write_survives_kill_9(tmp_path: Path) -> None:
    import httpx

    killed = start_server(tmp_path / "kill")
    try:
        api = f"{killed.url}/api/2.0/mlflow"
        experiment_id = httpx.post(f"{api}/experiments/create", json={"name": "durable"}).json()[
            "experiment_id"
        ]
        run_id = httpx.post(f"{api}/runs/create", json={"experiment_id": experiment_id}).json()["run"][
            "info"
        ]["run_id"]
        metrics = [{"key": "loss", "value": float(s), "timestamp": 1, "step": s} for s in range(1000)]
        assert httpx.post(f"{api}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).json() == {}
        killed.process.kill()  # SIGKILL right after the answer: no shutdown, no flush
        killed.process.wait(timeout=30)
    finally:
        killed.stop()
    assert (
        TrackingClient(killed.store_uri, must_exist=True).get_run(run_id).data.metric_summaries["loss"].count
        == 1000
    )

"""Several processes writing one store at once: every point arrives, schema creation is race-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runyard import TrackingClient

WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import runyard

    go_file, worker, points = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    deadline = time.time() + 60
    while not os.path.exists(go_file) and time.time() < deadline:  # start together
        time.sleep(0.002)
    runyard.set_experiment("shared")
    with runyard.start_run(run_name=f"worker-{worker}", log_system_info=False) as run:
        runyard.log_params({"worker": worker, "points": points})
        for step in range(points):
            runyard.log_metric("loss", float(step), step=step)
            runyard.log_metric("shared_key", float(worker))
            if step % 500 == 0:
                runyard.set_tag("progress", str(step))
    print(json.dumps({"run_id": run.info.run_id, "worker": worker}))
    """
)


def _launch(tmp_path: Path, uri: str, workers: int, points: int, name: str) -> list[dict[str, object]]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    go_file = tmp_path / f"go-{name}"
    env = dict(os.environ, RUNYARD_TRACKING_URI=uri, RUNYARD_ARTIFACT_ROOT=str(tmp_path / "artifacts"))
    env["RUNYARD_FLUSH_INTERVAL"] = "0.02"  # many small transactions, interleaved between processes
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(go_file), str(index), str(points)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(workers)
    ]
    time.sleep(0.3)  # let the interpreters come up; they spin on the go file (not an assertion)
    go_file.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _check_all_points(uri: str, results: list[dict[str, object]], points: int) -> None:
    client = TrackingClient(uri)
    experiment = client.get_experiment_by_name("shared")
    assert experiment is not None
    assert len(client.list_experiments()) == 1  # nobody created a second "shared"
    assert client.count_runs([experiment.experiment_id])[experiment.experiment_id] == len(results)
    for result in results:
        run = client.get_run(str(result["run_id"]))
        assert run.info.status == "FINISHED"
        assert run.info.experiment_id == experiment.experiment_id
        assert run.data.params == {"points": str(points), "worker": str(result["worker"])}
        history = client.get_metric_history(run.info.run_id, "loss")
        assert [m.step for m in history] == list(range(points))
        assert run.data.metric_summaries["loss"].count == points
        assert run.data.metric_summaries["shared_key"].count == points
        assert run.data.metrics["shared_key"] == float(str(result["worker"]))


def test_four_processes_log_into_one_store(tracking_uri: str, tmp_path: Path) -> None:
    TrackingClient(tracking_uri).create_experiment("shared")  # an existing store
    results = _launch(tmp_path, tracking_uri, workers=4, points=1000, name="existing")
    _check_all_points(tracking_uri, results, 1000)


def test_four_processes_start_on_a_brand_new_store(tracking_uri: str, tmp_path: Path) -> None:
    if tracking_uri.startswith("sqlite"):
        assert not Path(tracking_uri[len("sqlite:///") :]).exists()
    results = _launch(tmp_path, tracking_uri, workers=4, points=500, name="new")
    _check_all_points(tracking_uri, results, 500)
    if tracking_uri.startswith("sqlite"):
        import sqlite3

        from runyard.schema import CURRENT_SCHEMA_VERSION

        with sqlite3.connect(tracking_uri[len("sqlite:///") :]) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            version = connection.execute("SELECT version FROM schema_version").fetchall()
            assert version == [(CURRENT_SCHEMA_VERSION,)]


@pytest.mark.parametrize("round_number", [1])
def test_brand_new_sqlite_store_race_repeated(tmp_path: Path, round_number: int) -> None:
    uri = f"sqlite:///{tmp_path / f'fresh-{round_number}.db'}"
    results = _launch(tmp_path, uri, workers=4, points=50, name=f"round-{round_number}")
    _check_all_points(uri, results, 50)


def test_reader_sees_consistent_summaries_while_writers_run(sqlite_uri: str, tmp_path: Path) -> None:
    """A reader polling during the writes never sees a summary count that disagrees with history."""
    TrackingClient(sqlite_uri).create_experiment("shared")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    go_file = tmp_path / "go"
    go_file.touch()
    env = dict(os.environ, RUNYARD_TRACKING_URI=sqlite_uri, RUNYARD_ARTIFACT_ROOT=str(tmp_path / "a"))
    env["RUNYARD_FLUSH_INTERVAL"] = "0.02"
    process = subprocess.Popen(
        [sys.executable, str(script), str(go_file), "0", "20000"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = TrackingClient(sqlite_uri)
    checks = 0
    try:
        while process.poll() is None:
            runs = reader.search_runs(reader.get_experiment_by_name("shared").experiment_id)  # type: ignore[union-attr]
            for run in runs:
                summary = run.data.metric_summaries.get("loss")
                if summary is None:
                    continue
                with reader.store.db.connect() as conn:  # one snapshot for both reads
                    from sqlalchemy import text

                    pk = reader.store.run_pk(run.info.run_id)
                    points = conn.execute(
                        text("SELECT count(*) FROM metrics WHERE run_pk = :pk AND key = 'loss'"), {"pk": pk}
                    ).scalar_one()
                    count = conn.execute(
                        text("SELECT count FROM metric_summaries WHERE run_pk = :pk AND key = 'loss'"),
                        {"pk": pk},
                    ).scalar_one()
                assert points == count
                checks += 1
            time.sleep(0.01)
    finally:
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert checks > 0


def test_concurrent_writers_of_the_same_params_and_tags(tracking_uri: str) -> None:
    """Ranks of a distributed job logging the same params and tags into one run at once."""
    # Regression (PostgreSQL): both writers saw the key missing and inserted: duplicate key error.
    import threading

    setup = TrackingClient(tracking_uri)
    run_id = setup.create_run(setup.create_experiment("ranks")).info.run_id
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def rank(index: int) -> None:
        client = TrackingClient(tracking_uri)
        barrier.wait()
        try:
            for i in range(150):
                client.log_params(run_id, {f"p{i}": "same", "world_size": 4})
                client.set_tags(run_id, {f"t{i}": f"rank-{index}", "shared": "v"})
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=rank, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    data = setup.get_run(run_id).data
    assert len(data.params) == 151 and set(data.params.values()) == {"same", "4"}
    assert all(data.tags[f"t{i}"].startswith("rank-") for i in range(150))

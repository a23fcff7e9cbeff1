"""TUI test fixtures: a small seeded store with a fixed clock, and an app factory on it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from runyard import TrackingClient

NOW_MS = 1_790_000_000_000  # the fixed clock of every TUI test (2026-09-21)
MINUTE = 60_000


def build_store(client: TrackingClient, now_ms: int = NOW_MS) -> dict[str, str]:
    """Experiments /vision/resnet (a sweep with children, failed, running and lost runs) and /nlp/bert."""
    ids: dict[str, str] = {}
    vision = client.create_experiment("/vision/resnet", tags={"runyard.experimentType": "SCRIPT"})
    nlp = client.create_experiment("/nlp/bert")
    ids["vision"], ids["nlp"] = vision, nlp
    specs = [
        # name, minutes ago, user, status, lr, optimizer, accuracy, loss
        ("baseline", 300, "alice", "FINISHED", "0.1", "sgd", 0.81, 0.52),
        ("wide-resnet", 240, "bob", "FINISHED", "0.01", "adam", 0.93, 0.21),
        ("deep-resnet", 200, "alice", "FAILED", "0.01", "adam", 0.42, 1.9),
        ("tuned", 120, "alice", "FINISHED", "0.003", "adam", 0.95, 0.17),
        ("live", 30, "carol", "RUNNING", "0.001", "adamw", 0.88, 0.3),
        ("stalled", 90, "bob", "RUNNING", "0.05", "sgd", 0.6, 0.9),
    ]
    for name, ago, user, status, lr, optimizer, accuracy, loss in specs:
        start = now_ms - ago * MINUTE
        run = client.create_run(
            vision,
            start_time=start,
            run_name=name,
            user_id=user,
            source_type="SCRIPT",
            source_name="train.py",
            source_version="3f2a9c1d0e",
        )
        run_id = run.info.run_id
        ids[name] = run_id
        client.log_batch(run_id, params={"lr": lr, "optimizer": optimizer}, tags={"team": "cv"})
        for step, fraction in enumerate((0.5, 0.8, 1.0)):
            client.log_metric(
                run_id, "accuracy", accuracy * fraction, timestamp=start + step * 1000, step=step
            )
            client.log_metric(run_id, "loss", loss / fraction, timestamp=start + step * 1000, step=step)
        if status != "RUNNING":
            client.set_terminated(run_id, status, end_time=start + 25 * MINUTE)
    client.store.heartbeat([ids["live"]], timestamp=now_ms - 10_000)
    client.store.heartbeat([ids["stalled"]], timestamp=now_ms - 60 * MINUTE)
    sweep = client.create_run(vision, start_time=now_ms - 60 * MINUTE, run_name="sweep", user_id="alice")
    ids["sweep"] = sweep.info.run_id
    for index in range(3):
        child = client.create_run(
            vision,
            start_time=now_ms - 59 * MINUTE + index,
            run_name=f"trial-{index}",
            user_id="alice",
            parent_run_id=sweep.info.run_id,
        )
        ids[f"trial-{index}"] = child.info.run_id
        client.log_batch(child.info.run_id, params={"lr": f"0.0{index + 1}"})
        client.log_metric(child.info.run_id, "accuracy", 0.7 + index / 10, timestamp=now_ms, step=0)
        client.set_terminated(child.info.run_id, "FINISHED", end_time=now_ms - 50 * MINUTE)
    client.set_terminated(sweep.info.run_id, "FINISHED", end_time=now_ms - 50 * MINUTE)
    for name, ago in (("bert-base", 2 * 24 * 60), ("bert-large", 26 * 60)):
        run = client.create_run(nlp, start_time=now_ms - ago * MINUTE, run_name=name, user_id="dave")
        ids[name] = run.info.run_id
        client.log_metric(run.info.run_id, "f1", 0.8, timestamp=now_ms - ago * MINUTE, step=0)
        client.set_terminated(run.info.run_id, "FINISHED", end_time=now_ms - ago * MINUTE + 90 * MINUTE)
    return ids


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The seeded store, built once per session; tests get a copy."""
    directory = tmp_path_factory.mktemp("template")
    client = TrackingClient(
        f"sqlite:///{directory / 'runyard.db'}", artifact_root=str(directory / "artifacts")
    )
    return directory / "runyard.db", build_store(client)


@pytest.fixture
def store(
    tmp_path: Path, store_template: tuple[Path, dict[str, str]]
) -> tuple[TrackingClient, dict[str, str]]:
    """A private copy of the seeded SQLite store and the ids of what it holds."""
    source_path, ids = store_template
    target = tmp_path / "runyard.db"
    with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    client = TrackingClient(f"sqlite:///{target}", artifact_root=str(tmp_path / "artifacts"))
    return client, dict(ids)


def make_app(client: TrackingClient, settings_path: Path | None = None, **settings: object) -> object:
    """A RunyardApp on the client with the fixed clock (settings saved to settings_path when given)."""
    from runyard.tui.app import RunyardApp
    from runyard.tui.settings import Settings

    if settings_path is not None:
        loaded = Settings.load(client.tracking_uri, settings_path, clock=lambda: NOW_MS, **settings)
    else:
        loaded = Settings(store_uri=client.tracking_uri, clock=lambda: NOW_MS, **settings)  # type: ignore[arg-type]
    return RunyardApp(client=client, settings=loaded)


async def settle(pilot: object, rounds: int = 3) -> None:
    """Let workers finish and their messages be handled (no sleeping)."""
    app = pilot.app  # type: ignore[attr-defined]
    for _ in range(rounds):
        await pilot.pause()  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (anyio's pytest plugin runs the async tests)."""
    return "asyncio"

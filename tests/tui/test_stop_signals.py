"""SIGTERM/SIGHUP while a write runs in a worker: the write finishes, then the app exits with 128 + signal."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from helpers import make_app, settle
from runyard import TrackingClient
from runyard.tui import stop_signals

pytestmark = pytest.mark.anyio

Store = tuple[TrackingClient, dict[str, str]]


async def test_a_write_in_flight_finishes_before_the_app_exits(store: Store) -> None:
    client, runs = store
    started = threading.Event()

    def slow_tag() -> None:  # a tag edit whose store call is slow (a busy database, a far server)
        started.set()
        time.sleep(0.5)
        client.set_tag(runs["baseline"], "reviewed", "yes")

    app = make_app(client)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.run_worker(slow_tag, thread=True)
        while not started.is_set():
            await pilot.pause(0.01)
        await stop_signals.stop(app, signal.SIGTERM)
        assert not [worker for worker in app.workers if worker.is_running]
    assert client.get_run(runs["baseline"]).data.tags.get("reviewed") == "yes"
    assert app.return_code == 128 + signal.SIGTERM


async def test_a_stuck_worker_does_not_hold_the_exit_forever(store: Store) -> None:
    client, _ = store
    release = threading.Event()
    app = make_app(client)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.run_worker(lambda: release.wait(30), thread=True)  # a network call that never answers
        await stop_signals.stop(app, signal.SIGHUP, drain_seconds=0.2)
        release.set()
    assert app.return_code == 128 + signal.SIGHUP

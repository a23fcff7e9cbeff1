"""SIGTERM and SIGHUP end the app as `q` does, not as a crash: writes in flight finish first.

Without this, SIGTERM (systemd, `kill`, a scheduler) or SIGHUP (an SSH session that drops) killed the
process on the spot: a tag edit, rename or purge running in a worker could be cut off mid-call, and the
terminal was left in the app's alternate screen. Now the app waits for its running workers (at most
`DRAIN_SECONDS`), saves its state, restores the terminal and exits with status 128 + the signal's number
(143 for SIGTERM, 129 for SIGHUP), what a shell shows for a process ended by that signal.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from textual.app import App
from textual.worker import Worker, WorkerCancelled, WorkerFailed

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
DRAIN_SECONDS = 10.0


def install(app: App[Any]) -> None:
    """Route the stop signals to stop(app) while the app runs (a real terminal only: not under Pilot)."""
    loop = asyncio.get_running_loop()

    def on_signal(number: int) -> None:
        asyncio.ensure_future(stop(app, number))

    for number in STOP_SIGNALS:
        try:
            loop.add_signal_handler(number, on_signal, number)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal here
            continue


def uninstall() -> None:
    """Give the stop signals back to their default action (the app is closing)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    for number in STOP_SIGNALS:
        try:
            loop.remove_signal_handler(number)
        except (NotImplementedError, RuntimeError, ValueError):
            continue


async def stop(app: App[Any], number: int, drain_seconds: float = DRAIN_SECONDS) -> None:
    """Let the running workers finish (bounded), then exit with 128 + number."""
    running = [worker for worker in app.workers if worker.is_running]
    if running:
        try:
            await asyncio.wait_for(asyncio.gather(*(_finished(worker) for worker in running)), drain_seconds)
        except TimeoutError:
            pass  # a worker stuck on a dead network: leave rather than hang the shutdown
    app.exit(return_code=128 + number)


async def _finished(worker: Worker[Any]) -> None:
    """Wait for a worker however it ends (a search replaced by a newer one ends cancelled)."""
    try:
        await worker.wait()
    except (WorkerCancelled, WorkerFailed):
        pass

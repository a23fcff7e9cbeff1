"""SIGTERM ends the process's active runs as KILLED (flushed first), then does what it did before.

Schedulers and preemption send SIGTERM. Without a handler the process dies at once: buffered points are
lost and the run stays RUNNING until its heartbeat goes stale. The handler, installed by the first
start_run from the main thread, ends this process's runs as KILLED and writes their buffered metrics,
then hands the signal on: to the handler that was there before (which it wraps), or to the default
action (the process ends by SIGTERM, exit status 143 in a shell). A process that ignores SIGTERM keeps
ignoring it; a forked child that owns no run passes the signal straight on.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

GRACE_SECONDS = 20.0
_installed_in: int | None = None


def install_sigterm_handler(end_runs: Callable[[], bool]) -> None:
    """Wrap SIGTERM's handler once per process; `end_runs` ends this process's runs (False: it owns none)."""
    global _installed_in
    if _installed_in == os.getpid() or threading.current_thread() is not threading.main_thread():
        return
    try:
        previous: Any = signal.getsignal(signal.SIGTERM)
    except (ValueError, OSError):  # pragma: no cover - platforms without SIGTERM
        return
    if previous is signal.SIG_IGN or previous is None:
        return  # the process ignores SIGTERM (or another runtime owns it): leave it be
    _installed_in = os.getpid()

    def _on_sigterm(signum: int, frame: FrameType | None) -> None:
        # From another thread, bounded: the main thread may hold a lock the flush needs (it was
        # interrupted inside runyard), and schedulers send SIGKILL some seconds after SIGTERM.
        ending = threading.Thread(target=end_runs, name="runyard-sigterm", daemon=True)
        ending.start()
        try:
            ending.join(GRACE_SECONDS)
        finally:
            if callable(previous):
                previous(signum, frame)
            else:  # the default action: end the process by the same signal
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # pragma: no cover - not the main thread of the main interpreter
        _installed_in = None

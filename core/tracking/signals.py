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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

GRACE_SECONDS = 20.0
_installed_in: int | None = None

# The signals a user's handler may catch to stop a program (faults such as SIGSEGV are never deferred).
_DEFERRED = frozenset(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")
    if hasattr(signal, name)
)
_can_defer = hasattr(signal, "pthread_sigmask")


@contextmanager
def signals_deferred() -> Iterator[None]:
    """On the main thread, hold Python's signal handlers back until the block ends (elsewhere: a no-op).

    Handlers run only on the main thread, between two bytecodes: one that raises (sys.exit in a
    SIGTERM handler, KeyboardInterrupt) may land anywhere in the block. Blocked at the OS level, the
    signal stays pending and its handler runs as soon as the block ends. Costs two system calls.
    A signal sent to the process goes to a thread that does not block it: runyard's own threads block
    these signals for good (`block_in_this_thread`), so while only they run beside the main thread it
    waits for the block to end; a thread of the program's own may still take it and let the main thread
    run the handler early (the interrupted batch is then written again at exit: a duplicate, not a loss).
    """
    if not _can_defer or threading.current_thread() is not threading.main_thread():
        yield
        return
    # Read the mask first, block inside the try: a handler already due when the block begins runs
    # right after the blocking call, and its exception must not leave the main thread blocked for good
    # (every process it starts would inherit the mask, and Ctrl-C would no longer reach them).
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def block_in_this_thread() -> None:
    """For runyard's background threads: never take the signals a handler on the main thread waits for."""
    if _can_defer:
        signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)


def _blocking(work: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        block_in_this_thread()
        work()

    return run


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
        ending = threading.Thread(target=_blocking(end_runs), name="runyard-sigterm", daemon=True)
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

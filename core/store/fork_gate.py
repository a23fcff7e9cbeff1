"""The gate every database transaction of runyard passes; a fork waits until no other thread is inside.

A child forked while another thread of the parent is inside SQLite (in a transaction, opening or
closing a connection) inherits SQLite's file locks and mutexes as that thread left them, held by a
thread the child does not have: the child's first database call then blocks until the busy timeout
("database is locked") or forever. So every transaction enters this gate (a count of open transactions
and a condition). Before a fork the forking thread closes the gate and waits until no other thread is
inside; transactions that start meanwhile wait at the gate; after the fork the gate reopens in the
parent and in the child. A thread already inside the gate may enter again (nested scopes never
deadlock), and the forking thread's own open transactions do not hold up its fork.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# How long a fork waits for other threads' transactions beyond the SQLite busy timeout (a
# transaction may wait that long for another process's lock, then still has its work to do).
_FORK_WAIT_MARGIN_SECONDS = 10.0


class ForkGate:
    """Counts open database transactions per thread; closed by the forking thread around os.fork()."""

    def __init__(self) -> None:
        # Reentrant: a signal handler may interrupt this thread inside enter() or leave() and start a
        # transaction of its own.
        self._condition = threading.Condition(threading.RLock())
        # thread id -> its open transactions; one dict store per change, so that an exception raised
        # by a signal handler (KeyboardInterrupt) between two statements cannot leave a count behind
        self._depths: dict[int, int] = {}
        self._closers: dict[int, int] = {}  # thread id -> forks it is preparing

    def depth_here(self) -> int:
        """How many transactions the calling thread has open (0 when none)."""
        return self._depths.get(threading.get_ident(), 0)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the gate for the duration of one database transaction (waits while a fork is prepared)."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def enter(self) -> None:
        """Count the calling thread in; wait first while another thread prepares a fork.

        No lock when no fork is being prepared (the common case): a signal handler may interrupt this
        thread here and flush, waiting for the writer thread, which then must be able to leave the
        gate. The count is written first and the closers read after, and close() does the opposite,
        so that (the GIL orders the two) either the fork sees this thread inside or this thread sees
        the fork and backs out to wait.
        """
        me = threading.get_ident()
        depth = self._depths.get(me, 0)
        self._depths[me] = depth + 1
        if depth > 0 or not self._closers or me in self._closers:
            return
        self._set_depth(me, depth)  # a fork is being prepared: back out and wait for it
        with self._condition:
            self._condition.notify_all()  # the fork may have seen this thread inside: look again
            while self._closers and me not in self._closers:
                self._condition.wait()
            self._depths[me] = self._depths.get(me, 0) + 1

    def leave(self) -> None:
        """Count the calling thread out (and let a waiting fork go on when nobody is left inside)."""
        me = threading.get_ident()
        self._set_depth(me, self._depths.get(me, 0) - 1)
        if self._closers:
            with self._condition:
                self._condition.notify_all()

    def _set_depth(self, thread: int, depth: int) -> None:
        if depth > 0:
            self._depths[thread] = depth
        else:
            self._depths.pop(thread, None)

    def close(self, timeout: float) -> bool:
        """Stop new transactions and wait up to timeout seconds until other threads' ones ended."""
        me = threading.get_ident()
        deadline = time.monotonic() + timeout
        with self._condition:
            self._closers[me] = self._closers.get(me, 0) + 1
            while any(thread != me for thread in tuple(self._depths)):  # a copy: others change it unlocked
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True

    def reopen(self) -> None:
        """Let transactions start again (the parent, after its fork)."""
        me = threading.get_ident()
        with self._condition:
            count = self._closers.pop(me, 0) - 1
            if count > 0:
                self._closers[me] = count
            self._condition.notify_all()

    def reset_in_child(self) -> None:
        """A forked child: a fresh lock, and only the forking thread's counts (the others are gone)."""
        me = threading.get_ident()
        self._condition = threading.Condition(threading.RLock())
        self._depths = {me: self._depths[me]} if me in self._depths else {}
        self._closers = {}


GATE = ForkGate()


def in_transaction() -> bool:
    """True when the calling thread is inside a runyard database transaction (say, a signal handler's)."""
    return GATE.depth_here() > 0


def fork_wait_seconds() -> float:
    """How long a fork (or an exit flush) waits for other threads' transactions: busy timeout + 10 s."""
    from runyard.config import DEFAULT_SQLITE_BUSY_TIMEOUT_MS, sqlite_busy_timeout_ms

    try:
        busy_ms = sqlite_busy_timeout_ms()
    except ValueError:  # a bad setting is reported where a store is opened, not inside fork
        busy_ms = DEFAULT_SQLITE_BUSY_TIMEOUT_MS
    return busy_ms / 1000 + _FORK_WAIT_MARGIN_SECONDS


def _before_fork() -> None:
    GATE.close(fork_wait_seconds())


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=GATE.reopen, after_in_child=GATE.reset_in_child)

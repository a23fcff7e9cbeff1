"""Keep what a run's process prints: stdout and stderr are teed into the store while still shown as before.

At file-descriptor level (so output of C extensions and subprocesses is caught too): fd 1 and 2 are
pointed at a pty when they were a terminal (libraries keep their colours and progress bars) or at a
pipe otherwise; a reader thread per stream copies everything to the original fd at once and hands the
text on. A separate thread writes the text to the store every flush interval, so the terminal never
waits on the store. Under pytest and in Jupyter only sys.stdout and sys.stderr are wrapped (their own
capture owns the fds). `stop()` (at end_run, at exit, on SIGTERM) restores the fds and writes the rest.
Output is lost on SIGKILL for at most one flush interval (RUNYARD_FLUSH_INTERVAL, at least 1 s here).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from runyard import clock
from runyard.config import console_max_chars, flush_interval_seconds
from runyard.tracking.console_text import StreamText
from runyard.tracking.signals import block_in_this_thread

CAPTURE_ENV = "RUNYARD_CAPTURE_OUTPUT"
_READ_SIZE = 65_536
_JOIN_SECONDS = 2.0


class ConsoleStore(Protocol):
    """What capture needs of a store."""

    def append_console(
        self, run_id: str, chunks: list[tuple[int, str, str]], max_chars: int | None = None
    ) -> None:
        """Append (timestamp_ms, stream, text) chunks to a run's console output."""


def wanted(capture_output: bool | None) -> bool:
    """start_run's capture_output, else RUNYARD_CAPTURE_OUTPUT (default on; 0/false/no/off turn it off)."""
    if capture_output is not None:
        return bool(capture_output)
    return os.environ.get(CAPTURE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def sys_level_only() -> bool:
    """True under pytest and in Jupyter: only sys.stdout/sys.stderr are wrapped, the fds stay theirs."""
    return "pytest" in sys.modules or "ipykernel" in sys.modules


class ConsoleCapture:
    """Captures this process's stdout and stderr into one run until stop()."""

    def __init__(self, run_id: str, store: ConsoleStore, flush_interval: float | None = None) -> None:
        self.run_id = run_id
        self.store = store
        # Never more often than once a second: output needs no faster store writes than people read.
        interval = flush_interval if flush_interval is not None else max(flush_interval_seconds(), 1.0)
        self.flush_interval = interval
        self.max_chars = console_max_chars()
        self.owner_pid = os.getpid()
        self._pending: deque[tuple[int, str, str]] = deque()
        self._pending_chars = 0
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._tees: list[_FdTee | _SysTee] = []
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ConsoleCapture:
        """Begin capturing (fd level, or sys level under pytest/Jupyter)."""
        streams: list[tuple[str, int, str]] = [("stdout", 1, "stdout"), ("stderr", 2, "stderr")]
        for name, fd, attribute in streams:
            text = StreamText()
            on_bytes = _feeder(text, name, self._add)
            tee: _FdTee | _SysTee | None = None
            if not sys_level_only() and _fd_usable(fd):
                tee = _FdTee(fd, attribute, on_bytes, text, name, self._add)
            elif getattr(sys, attribute, None) is not None:
                tee = _SysTee(attribute, text, name, self._add)
            if tee is not None:
                try:
                    tee.start()
                except OSError:
                    continue  # no pty or pipe available: this stream is simply not captured
                self._tees.append(tee)
        self._thread = threading.Thread(target=self._loop, name="runyard-console", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Restore stdout/stderr and write what is left to the store (safe at exit and from a handler)."""
        if self._stopped or self.owner_pid != os.getpid():
            return
        self._stopped = True
        for tee in reversed(self._tees):
            with contextlib.suppress(Exception):
                tee.stop()
        self._wake.set()
        self._write_pending(final=True)

    def flush(self) -> None:
        """Write the complete lines captured so far to the store now."""
        if not self._stopped and self.owner_pid == os.getpid():
            self._write_pending(final=False)

    # -- storing -----------------------------------------------------------------------------
    def _add(self, stream: str, text: str) -> None:
        if not text or self.owner_pid != os.getpid():  # a forked child's prints are not its run's
            return
        self._pending.append((clock.now_ms(), stream, text))
        self._pending_chars += len(text)
        while self._pending_chars > self.max_chars and len(self._pending) > 1:  # the store is behind
            _ts, _stream, old = self._pending.popleft()
            self._pending_chars -= len(old)

    def _loop(self) -> None:
        block_in_this_thread()
        while not self._stopped:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if not self._stopped:
                self._write_pending(final=False)

    def _write_pending(self, final: bool) -> None:
        if not self._write_lock.acquire(timeout=_JOIN_SECONDS * 5 if final else -1):
            return
        try:
            chunks = _merge([self._pending.popleft() for _ in range(len(self._pending))])
            if not chunks:
                return
            self._pending_chars -= sum(len(text) for _ts, _stream, text in chunks)
            try:
                self.store.append_console(self.run_id, chunks, self.max_chars)
            except Exception:  # noqa: BLE001 - kept and retried next interval (dropped at the very end)
                if not final:
                    self._pending.extendleft(reversed(chunks))
                    self._pending_chars += sum(len(text) for _ts, _stream, text in chunks)
        finally:
            self._write_lock.release()


def _merge(chunks: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """Neighbouring chunks of the same stream joined into one (stamped with the first one's time)."""
    merged: list[tuple[int, str, str]] = []
    for timestamp, stream, text in chunks:
        if merged and merged[-1][1] == stream:
            first, _stream, before = merged[-1]
            merged[-1] = (first, stream, before + text)
        else:
            merged.append((timestamp, stream, text))
    return merged


def _feeder(text: StreamText, stream: str, add: Callable[[str, str], None]) -> Callable[[bytes], None]:
    def feed(data: bytes) -> None:
        add(stream, text.feed_bytes(data))

    return feed


def _fd_usable(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _flush_sys_stream(attribute: str) -> None:
    stream = getattr(sys, attribute, None)
    if stream is not None:
        with contextlib.suppress(Exception):  # closed, or a reentrant flush inside a signal handler
            stream.flush()


class _FdTee:
    """Points one fd at a pty (terminal) or pipe and copies what arrives to the original fd."""

    def __init__(
        self,
        fd: int,
        attribute: str,
        on_bytes: Callable[[bytes], None],
        text: StreamText,
        stream: str,
        add: Callable[[str, str], None],
    ) -> None:
        self.fd = fd
        self.attribute = attribute
        self.on_bytes = on_bytes
        self.text = text
        self.stream = stream
        self.add = add
        self.saved = -1
        self.read_fd = -1
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        _flush_sys_stream(self.attribute)
        self.saved = os.dup(self.fd)
        try:
            read_fd, write_fd = _open_channel(self.saved)
        except OSError:
            os.close(self.saved)
            raise
        self.read_fd = read_fd
        os.dup2(write_fd, self.fd)
        os.close(write_fd)  # fd now holds the only copy: restoring it ends the reader's input
        self.thread = threading.Thread(target=self._pump, name=f"runyard-console-{self.stream}", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        block_in_this_thread()
        showing = True
        while True:
            try:
                data = os.read(self.read_fd, _READ_SIZE)
            except InterruptedError:
                continue
            except OSError:  # EIO: the pty's last writer closed it
                break
            if not data:
                break
            if showing:
                showing = _write_all(self.saved, data)
            with contextlib.suppress(Exception):
                self.on_bytes(data)

    def stop(self) -> None:
        _flush_sys_stream(self.attribute)
        os.dup2(self.saved, self.fd)
        thread = self.thread
        if thread is not None:
            thread.join(_JOIN_SECONDS)
            if thread.is_alive():
                return  # a subprocess still holds the stream: the reader goes on copying to the terminal
        self.add(self.stream, self.text.finish())
        os.close(self.read_fd)
        os.close(self.saved)


def _open_channel(original: int) -> tuple[int, int]:
    """(read end, write end): a pty shaped like the terminal when original is one, else a pipe."""
    if os.isatty(original):
        try:
            import pty
            import termios

            master, slave = pty.openpty()
            attributes = termios.tcgetattr(slave)
            attributes[1] &= ~termios.OPOST  # bytes pass unchanged; the real terminal does the \n -> \r\n
            termios.tcsetattr(slave, termios.TCSANOW, attributes)
            _copy_window_size(original, slave)
            return master, slave
        except (ImportError, OSError):
            pass
    return os.pipe()


def _copy_window_size(source: int, target: int) -> None:
    with contextlib.suppress(Exception):
        import fcntl
        import termios

        size = fcntl.ioctl(source, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)


def _write_all(fd: int, data: bytes) -> bool:
    """Write every byte to fd; False when it is gone (a closed pipe), so copying stops quietly."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError:
            return False
        view = view[written:]
    return True


class _SysTee(io.TextIOBase):
    """Wraps sys.stdout or sys.stderr: writes go to the wrapped stream and to the capture."""

    def __init__(
        self, attribute: str, text: StreamText, stream: str, add: Callable[[str, str], None]
    ) -> None:
        super().__init__()
        self.attribute = attribute
        self.text = text
        self.stream = stream
        self.add = add
        self.wrapped: TextIO = getattr(sys, attribute)
        self.active = False

    def start(self) -> None:
        setattr(sys, self.attribute, self)
        self.active = True

    def stop(self) -> None:
        self.active = False
        if getattr(sys, self.attribute, None) is self:
            setattr(sys, self.attribute, self.wrapped)
        self.add(self.stream, self.text.finish())

    def write(self, s: str) -> int:
        written = self.wrapped.write(s)
        if self.active:
            with contextlib.suppress(Exception):
                self.add(self.stream, self.text.feed_text(s))
        return written

    def flush(self) -> None:
        self.wrapped.flush()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def fileno(self) -> int:
        return self.wrapped.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.wrapped, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

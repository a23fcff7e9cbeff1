"""Thread workers' one way to post results: every `@work(thread=True)` in the TUI goes through here.

Every store call runs in a thread worker that posts a message; a result of a cancelled worker
(a newer search replaced it) is dropped. Any exception in a worker, not only the core's errors,
becomes a message the screen shows (`error_text`), so that no screen waits forever on a worker
that died. A query error goes under the search box and focuses it; any other load error becomes a
notification. Also: parent names for a page of runs, and the
"loading…" hint that shows only for slow queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from runyard import InvalidQuery, Run, RunyardError, TrackingClient
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from .messages import ActionFailed


def cancelled() -> bool:
    """In a thread worker: True once a newer worker of its group replaced it (stop work, post nothing)."""
    return get_current_worker().is_cancelled


def post_unless_cancelled(node: MessagePump, message: Message) -> None:
    """Post a thread worker's result unless the worker was cancelled (a newer one replaced it)."""
    if not cancelled():
        node.post_message(message)


T = TypeVar("T")


def post_outcome(
    node: MessagePump,
    work: Callable[[], T],
    done: Callable[[T], Message],
    failed: Callable[[str], Message],
    even_if_cancelled: bool = False,
) -> None:
    """In a thread worker: post done(work()), or failed(error text) on any exception.

    A cancelled worker's outcome is dropped (a newer read replaced it), unless even_if_cancelled: a
    change made to the store is always reported.
    """
    post = node.post_message if even_if_cancelled else partial(post_unless_cancelled, node)
    try:
        result = work()
    except Exception as error:  # any failure is shown: never a stuck screen
        post(failed(error_text(error)))
        return
    post(done(result))


def post_search(
    node: MessagePump,
    work: Callable[[], T],
    done: Callable[[T], Message],
    failed: Callable[[str, bool], Message],
) -> None:
    """post_outcome for a search: failed(error text, True when the query itself is wrong)."""
    try:
        result = work()
    except Exception as error:  # any failure is shown: never a stuck "loading…"
        post_unless_cancelled(node, failed(error_text(error), isinstance(error, InvalidQuery)))
        return
    post_unless_cancelled(node, done(result))


def error_text(error: BaseException) -> str:
    """One line for the user: the core's own message, or an unexpected error's type and first line."""
    if isinstance(error, RunyardError):
        return str(error)
    lines = str(error).strip().splitlines()
    detail = f": {lines[0]}" if lines else ""
    return f"Unexpected error, {type(error).__name__}{detail} (nothing was changed; try again)"


def action_failed(error: BaseException) -> Message:
    """An ActionFailed notification for a failed store call."""
    return ActionFailed(error_text(error))


def post_result(
    node: MessagePump,
    read: Callable[[], Message],
    on_error: Callable[[Exception], Message | None] = lambda _error: None,
    even_if_cancelled: bool = False,
) -> None:
    """In a thread worker: post the message read() builds from the store, or on_error's on any exception.

    When on_error gives nothing for an exception that is not a core error, a notification says what failed.
    """
    try:
        message = read()
    except Exception as error:  # any failure is shown: never a stuck screen
        failed = on_error(error)
        if failed is None and not isinstance(error, RunyardError):
            failed = action_failed(error)
        if failed is not None:
            node.post_message(failed)
        return
    if even_if_cancelled:
        node.post_message(message)
    else:
        post_unless_cancelled(node, message)


def set_search_error(screen: Screen[Any], selector: str, text: str) -> None:
    """Show text under the search box ('' hides the line)."""
    error = screen.query_one(selector, Static)
    error.update(text)
    error.display = bool(text)


def report_load_error(
    screen: Screen[Any], selector: str, search_box: Widget, error: str, query_error: bool
) -> None:
    """A query error goes under the search box (the typed text stays); other errors to a notification."""
    if query_error:
        set_search_error(screen, selector, error)
        search_box.focus()
    else:
        screen.notify(error, severity="error", timeout=8)


def missing_parent_names(
    client: TrackingClient, runs: Sequence[Run], skip_loaded: bool = True
) -> dict[str, str]:
    """Names of the parents of these runs (those not among them when skip_loaded); one query, {} for none."""
    loaded = {run.info.run_id for run in runs} if skip_loaded else set()
    missing = {run.info.parent_run_id for run in runs if run.info.parent_run_id} - loaded
    return client.run_names(sorted(missing)) if missing else {}


class LoadingHint:
    """A 'loading…' hint that shows only when a query takes longer than a moment (then stop() hides it)."""

    def __init__(self, delay: float = 0.1) -> None:
        self.delay = delay
        self._timer: Timer | None = None

    def start(self, node: MessagePump, show: Callable[[], object]) -> None:
        """Call show after the delay unless stop() comes first (a running countdown starts again)."""
        self.stop()
        self._timer = node.set_timer(self.delay, show)

    def stop(self) -> None:
        """Cancel the countdown."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

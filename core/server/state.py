"""What every handler shares: the store, the tracking client on it, the write group, the artifact root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore
    from runyard.tracking.client import TrackingClient

    from .access import AccessControl
    from .writes import WriteGroup

T = TypeVar("T")


@dataclass
class ServerState:
    """The store a server process serves and how it writes to it."""

    client: TrackingClient
    writes: WriteGroup
    artifacts_destination: Path
    access: AccessControl | None = None  # None: the server runs without --auth

    @property
    def store(self) -> SqlStore:
        """The SQL store behind the client."""
        return self.client.store

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call in the thread pool (the event loop never waits on the database)."""
        return await run_in_threadpool(function, *args, **kwargs)

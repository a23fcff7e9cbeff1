"""Replay the outboxes on this machine: what logging processes left unsent goes to its server, once.

Each batch carries its batch id, so a runyard server stores a batch once even when it was stored
before and only its answer was lost. A stock MLflow server ignores the id: there a replay relies on
MLflow dropping exact duplicate metric points. Outboxes whose process still runs are left to it.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runyard.config import mask_uri

from .outbox import Outbox, iter_outboxes
from .sender import send_batch
from .transport import Credentials, Transport, split_credentials

ATTEMPTS = 5  # per batch, with backoff, before the server counts as away
FIRST_WAIT_SECONDS = 0.25


@dataclass
class SyncedOutbox:
    """What became of one outbox: points sent, points the server refused (and why), or why it waits."""

    run_id: str
    server_url: str
    sent: int = 0
    refused: int = 0
    refusals: list[str] = field(default_factory=list)
    waiting: int = 0  # points left in the outbox
    skipped: str = ""  # why it was not replayed (its process still logs, the server is away)
    removed: bool = False


def sync_outboxes(
    store: str | None = None,
    directory: Path | None = None,
    report: Callable[[SyncedOutbox], None] | None = None,
) -> list[SyncedOutbox]:
    """Replay every outbox (only those of the server `store` names, when given); report each as it ends."""
    only_url, store_credentials = split_credentials(store) if store else (None, None)
    transports: dict[str, Transport] = {}
    away: dict[str, str] = {}  # server url -> why it counts as away for the rest of this sync
    results = []
    try:
        for outbox in iter_outboxes(directory):
            result = _sync_one(outbox, only_url, store_credentials, transports, away)
            if result is None:
                continue
            results.append(result)
            if report is not None:
                report(result)
    finally:
        for transport in transports.values():
            transport.close()
    return results


def _sync_one(
    outbox: Outbox,
    only_url: str | None,
    credentials: Credentials | None,
    transports: dict[str, Transport],
    away: dict[str, str],
) -> SyncedOutbox | None:
    try:
        try:
            meta = outbox.meta()
            url = meta["server_url"]
            result = SyncedOutbox(meta["run_id"], url)
        except (sqlite3.Error, KeyError) as error:
            result = SyncedOutbox(outbox.path.name.split(".")[0], "")
            result.skipped = f"cannot read {outbox.path} ({error}): move it away or delete it"
            return result
        if only_url is not None and url != only_url:
            return None
        if outbox.owner_alive():
            result.waiting = outbox.pending_points()
            result.skipped = f"its process {meta.get('pid')} still logs and sends it"
            return result
        if url in away:
            result.waiting = outbox.pending_points()
            result.skipped = away[url]
            return result
        transport = transports.get(url)
        if transport is None:
            transport = transports[url] = Transport(url, credentials if only_url else None)
        _replay(outbox, transport, result, away)
        result.waiting = outbox.pending_points()
        if result.waiting == 0:
            result.removed = outbox.remove_if_empty()
        return result
    finally:
        outbox.close()


def _replay(outbox: Outbox, transport: Transport, result: SyncedOutbox, away: dict[str, str]) -> None:
    after = 0
    while True:
        page = outbox.batches(after=after, limit=50)
        if not page:
            return
        for seq, batch in page:
            after = seq
            outcome, message = _send_with_retries(
                transport, result.run_id, batch.batch_id, batch.points, batch.body
            )
            if outcome == "retry":
                away[result.server_url] = (
                    f"the tracking server {mask_uri(result.server_url)} is still away ({message})"
                )
                result.skipped = away[result.server_url]
                return
            outbox.remove(batch.batch_id)
            if outcome == "ok":
                result.sent += batch.points
            else:
                result.refused += batch.points
                result.refusals.append(message)


def _send_with_retries(
    transport: Transport, run_id: str, batch_id: str, points: int, body: bytes
) -> tuple[str, str]:
    outcome, message = "retry", ""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(FIRST_WAIT_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random() / 2))
        outcome, message = send_batch(transport, run_id, batch_id, points, body)
        if outcome != "retry":
            break
    return outcome, message

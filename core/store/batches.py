"""Batch ids of client writes: a replayed batch (same run, same id) is recognised and not written twice."""

from __future__ import annotations

import re
from typing import Any

from runyard import clock
from runyard.exceptions import InvalidInput
from runyard.store.models import RunBatchRow
from sqlalchemy.engine import Connection

run_batches_t = RunBatchRow.__table__

MAX_BATCH_ID_LENGTH = 64
_BATCH_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def validate_batch_id(batch_id: str) -> str:
    """The batch id, or InvalidInput saying what a batch id may hold."""
    if not _BATCH_ID.fullmatch(batch_id):
        raise InvalidInput(
            f"Invalid batch id {batch_id[:80]!r}: use 1 to {MAX_BATCH_ID_LENGTH} letters, digits, "
            "'.', '_', ':' or '-' (a uuid4 hex works)."
        )
    return batch_id


def claim_batch(conn: Connection, insert: Any, run_pk: int, batch_id: str) -> bool:
    """Inside the caller's transaction: record (run, batch id); False when it was recorded before.

    `insert` is the backend's INSERT construct for run_batches (ON CONFLICT DO NOTHING support), so
    that two transactions racing with the same batch cannot both claim it.
    """
    statement = insert.on_conflict_do_nothing(
        index_elements=[run_batches_t.c.run_pk, run_batches_t.c.batch_id]
    ).returning(run_batches_t.c.run_pk)
    # RETURNING, not rowcount: the PostgreSQL driver's rowcount is -1 here.
    row = conn.execute(
        statement, {"run_pk": run_pk, "batch_id": batch_id, "received_time": clock.now_ms()}
    ).first()
    return row is not None

"""Captured console output of runs: append chunks in order, keep the newest within a size cap, read them back.

Chunks are numbered per run (`seq`) as they arrive. When a run's stored text exceeds the cap, the oldest
chunks are deleted and one note chunk (stream "runyard") says so in their place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from runyard import clock
from runyard.entities import ConsoleChunk
from runyard.store.models import ConsoleChunkRow
from sqlalchemy import and_, delete, func, insert, select

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# (timestamp_ms, stream, text)
ChunkTuple = tuple[int, str, str]

NOTE_STREAM = "runyard"
STREAMS = ("stdout", "stderr", NOTE_STREAM)
_table = ConsoleChunkRow.__table__


def dropped_note(max_chars: int) -> str:
    """The text of the note that stands for dropped output."""
    megabytes = max_chars / 1_000_000
    shown = f"{megabytes:g}"
    return (
        f"[runyard: earlier output dropped; a run keeps its last {shown} MB of console output "
        "(RUNYARD_CONSOLE_MAX_MB)]\n"
    )


def append_chunks(conn: Connection, run_pk: int, chunks: Sequence[ChunkTuple], max_chars: int | None) -> None:
    """Append chunks after the run's last one; then drop the oldest beyond max_chars (with a note)."""
    if not chunks:
        return
    last = conn.execute(select(func.max(_table.c.seq)).where(_table.c.run_pk == run_pk)).scalar()
    seq = 0 if last is None else int(last) + 1
    rows = []
    for timestamp, stream, text in chunks:
        if not text:
            continue
        rows.append(
            {"run_pk": run_pk, "seq": seq, "timestamp": int(timestamp), "stream": stream, "text": text}
        )
        seq += 1
    if rows:
        conn.execute(insert(_table), rows)
    if max_chars is not None:
        _trim(conn, run_pk, max_chars)


def _trim(conn: Connection, run_pk: int, max_chars: int) -> None:
    """Delete the oldest chunks until the run's output fits in max_chars; a note takes their place."""
    of_run = _table.c.run_pk == run_pk
    total = conn.execute(
        select(func.coalesce(func.sum(func.length(_table.c.text)), 0)).where(of_run)
    ).scalar()
    if int(total or 0) <= max_chars:
        return
    note = dropped_note(max_chars)
    excess = int(total or 0) - max_chars + len(note)
    rows = conn.execute(
        select(_table.c.seq, func.length(_table.c.text), _table.c.stream).where(of_run).order_by(_table.c.seq)
    ).all()
    dropped: list[int] = []
    freed = 0
    for seq, length, _stream in rows[:-1]:  # the newest chunk always stays
        if freed >= excess:
            break
        dropped.append(int(seq))
        freed += int(length)
    if not dropped:
        return
    for start in range(0, len(dropped), 900):
        part = dropped[start : start + 900]
        conn.execute(delete(_table).where(and_(of_run, _table.c.seq.in_(part))))
    conn.execute(
        insert(_table),
        [
            {
                "run_pk": run_pk,
                "seq": dropped[-1],
                "timestamp": clock.now_ms(),
                "stream": NOTE_STREAM,
                "text": note,
            }
        ],
    )


def read_chunks(
    conn: Connection, run_pk: int, after_seq: int | None, limit: int | None, newest: bool
) -> list[ConsoleChunk]:
    """Chunks in order: after after_seq; with limit, the first (or with newest, the last) limit of them."""
    query = select(_table.c.seq, _table.c.timestamp, _table.c.stream, _table.c.text).where(
        _table.c.run_pk == run_pk
    )
    if after_seq is not None:
        query = query.where(_table.c.seq > int(after_seq))
    query = query.order_by(_table.c.seq.desc() if newest else _table.c.seq)
    if limit is not None:
        query = query.limit(int(limit))
    found = [
        ConsoleChunk(int(seq), int(ts), str(stream), str(text))
        for seq, ts, stream, text in conn.execute(query)
    ]
    return found[::-1] if newest else found

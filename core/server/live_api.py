"""runyard endpoints for live training over HTTP: console output, the last points per key, store settings.

What `runyard watch`, the watch screen, the console section and console capture call on a remote
store (`/api/2.0/runyard/...`): plain translations to the Store operations, with MLflow's JSON
conventions (NaN and infinities as strings, int64 as numbers).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..exceptions import InvalidInput
from ..rest import protocol as p
from .http import request_fields
from .runyard_api import _flag, _run_ids
from .state import ServerState

JsonDict = dict[str, Any]
MAX_CHUNKS = 1_000  # per append request


async def append_console(state: ServerState, request: Request) -> JsonDict:
    """POST console/append {run_id, chunks: [{timestamp, stream, text}], max_chars?}."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    items = p.get_objects(body, "chunks")
    if len(items) > MAX_CHUNKS:
        raise InvalidInput(
            f"At most {MAX_CHUNKS} console chunks per request, got {len(items)}: send several."
        )
    chunks = []
    for item in items:
        timestamp = p.get_int64(item, "timestamp", required=True)
        assert timestamp is not None
        chunks.append((timestamp, p.require_string(item, "stream"), p.get_string(item, "text") or ""))
    await state.call(state.store.append_console, run_id, chunks, p.get_int64(body, "max_chars"))
    return {}


async def get_console(state: ServerState, request: Request) -> JsonDict:
    """GET console/get ?run_id&after_seq&limit&newest -> {chunks: [{seq, timestamp, stream, text}]}."""
    body = await request_fields(request)
    newest = _flag(body, "newest")
    chunks = await state.call(
        state.store.get_console,
        p.run_id_of(body),
        p.get_int64(body, "after_seq"),
        p.get_int64(body, "limit"),
        newest,
    )
    return {
        "chunks": [
            {"seq": c.seq, "timestamp": c.timestamp, "stream": c.stream, "text": c.text} for c in chunks
        ]
    }


async def recent_metrics(state: ServerState, request: Request) -> JsonDict:
    """POST metrics/recent {run_ids, keys?} -> {recent: {run_id: {key: [[step, timestamp, value]]}}}."""
    body = await request_fields(request, repeated=("run_ids", "keys"))
    keys = p.get_string_list(body, "keys") or None
    recent = await state.call(state.store.recent_metrics, _run_ids(body), keys)
    return {
        "recent": {
            run_id: {
                key: [[m.step, m.timestamp, p.encode_double(m.value)] for m in points]
                for key, points in by_key.items()
            }
            for run_id, by_key in recent.items()
        }
    }


async def get_settings(state: ServerState, request: Request) -> JsonDict:
    """GET settings/get ?prefix -> {settings: {key: value}} (alert thresholds: prefix alerts.)."""
    body = await request_fields(request)
    return {"settings": await state.call(state.store.get_store_settings, p.get_string(body, "prefix") or "")}


async def set_setting(state: ServerState, request: Request) -> JsonDict:
    """POST settings/set {key, value?}: set a store setting (no value: back to its default)."""
    body = await request_fields(request)
    await state.call(
        state.store.set_store_setting, p.require_string(body, "key"), p.get_string(body, "value")
    )
    return {}

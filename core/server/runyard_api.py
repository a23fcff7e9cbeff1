"""runyard's own endpoints under /api/2.0/runyard/: what the terminal app needs and MLflow's API lacks.

Version and clock, runs with min/max/count and liveness, experiment overview, key scan, runs signature
for live refresh, downsampled histories, lifecycle with descendants and dry runs, folder rename and
gc. Each handler is a thin translation to the Store interface (the rules are the core's); LOST is
judged by this server's clock.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..entities import RunStatus
from ..exceptions import InvalidInput
from ..rest import protocol as p
from ..rest.decode import run_extension_json
from ..rest.run_rows import LAYOUT, LAYOUTS, runs_to_rows
from . import bulk
from .access import readable_filter
from .http import JsonResponse, request_fields
from .state import ServerState

JsonDict = dict[str, Any]
API_VERSION = 1
"""Bumped when a runyard endpoint changes incompatibly; clients refuse a server with another one."""
MAX_RUN_IDS = 10_000


def _run_json(run: Any) -> JsonDict:
    payload = p.run_json(run)
    payload["runyard"] = run_extension_json(run)
    return payload


def _run_ids(body: p.Body) -> list[str]:
    run_ids = p.get_string_list(body, "run_ids", required=True)
    if len(run_ids) > MAX_RUN_IDS:
        raise InvalidInput(f"At most {MAX_RUN_IDS} run_ids per request, got {len(run_ids)}: send several.")
    return run_ids


def _flag(body: p.Body, name: str) -> bool:
    value = body.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


async def version(state: ServerState, request: Request) -> JsonDict:
    """GET version -> {version, api_version, server_time_ms}: clients check compatibility and clock skew."""
    from .. import __version__
    from ..clock import now_ms

    return {"version": __version__, "api_version": API_VERSION, "server_time_ms": now_ms()}


async def search_runs(state: ServerState, request: Request) -> JsonDict | Response:
    """POST runs/search: MLflow's runs/search body, runs answered with runyard's extension.

    `"layout": "rows"` answers the same runs as compact rows over one key table (rest/run_rows.py);
    `"with_signature": true` adds the runs signature of the experiments, read before the page. The
    reads and the encoding happen in one worker thread: one hand-over between threads, not four.
    """
    body = await request_fields(request, repeated=("experiment_ids", "order_by"))
    max_results = p.get_max_results(body, p.SEARCH_MAX_RESULTS_DEFAULT, p.SEARCH_MAX_RESULTS_LIMIT)
    experiment_ids = p.get_string_list(body, "experiment_ids")
    layout = p.get_enum(body, "layout", LAYOUTS, "runs")
    readable = readable_filter(request)
    if readable is not None:  # with --auth: only what the caller may read, silently
        experiment_ids = [e for e in experiment_ids if e in readable]
        if not experiment_ids:
            return runs_to_rows([]) if layout == LAYOUT else {"runs": []}
    view_type = p.get_enum(body, "run_view_type", p.RUN_VIEW_TYPES, "ACTIVE_ONLY")
    with_signature = _flag(body, "with_signature")
    search = (
        experiment_ids,
        p.get_string(body, "filter") or "",
        view_type,
        max_results,
        p.get_string_list(body, "order_by") or None,
        p.get_string(body, "page_token") or None,
    )

    def answer() -> Response:
        signature = state.client.runs_signature(experiment_ids, view_type) if with_signature else None
        page = state.client.search_runs(*search)
        payload = runs_to_rows(page) if layout == LAYOUT else {"runs": [_run_json(run) for run in page]}
        if page.token:
            payload["next_page_token"] = page.token
        if signature is not None:
            payload["signature"] = list(signature)
        return JsonResponse(payload)  # encoded here, off the event loop

    return await state.call(answer)


async def get_runs(state: ServerState, request: Request) -> JsonDict:
    """POST runs/get {run_ids} -> {runs} in the order given, unknown ids skipped."""
    body = await request_fields(request, repeated=("run_ids",))
    runs = await state.call(state.client.get_runs, _run_ids(body))
    return {"runs": [_run_json(run) for run in runs]}


async def update_run(state: ServerState, request: Request) -> JsonDict:
    """POST runs/update {run_id, status?, end_time?, run_name?, clear_end_time?}."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    await state.call(
        state.store.update_run,
        run_id,
        status=p.get_enum(body, "status", RunStatus.ALL, "") or None,
        end_time=p.get_int64(body, "end_time"),
        run_name=p.get_string(body, "run_name") or None,
        clear_end_time=_flag(body, "clear_end_time"),
    )
    return {}


async def heartbeat(state: ServerState, request: Request) -> JsonDict:
    """POST runs/heartbeat {run_ids, timestamp?}: the writers' sign of life."""
    body = await request_fields(request, repeated=("run_ids",))
    await state.call(state.store.heartbeat, _run_ids(body), p.get_int64(body, "timestamp"))
    return {}


async def overview(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/overview {experiment_ids} -> counts of active runs (LOST by the server's clock)."""
    body = await request_fields(request, repeated=("experiment_ids",))
    result = await state.call(state.client.experiment_overview, p.get_string_list(body, "experiment_ids"))
    return {
        "total_runs": result.total_runs,
        "running": result.running,
        "lost": result.lost,
        "failed": result.failed,
        "last_activity": result.last_activity,
        "runs_per_user": result.runs_per_user,
    }


async def count_runs(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/count-runs {experiment_ids} -> {counts: {experiment_id: active runs}}."""
    body = await request_fields(request, repeated=("experiment_ids",))
    counts = await state.call(state.client.count_runs, p.get_string_list(body, "experiment_ids"))
    return {"counts": counts}


async def run_keys(state: ServerState, request: Request) -> JsonDict:
    """POST runs/keys {experiment_ids, run_view_type} -> {params, metrics, tags} (distinct, sorted)."""
    body = await request_fields(request, repeated=("experiment_ids",))
    keys = await state.call(
        state.client.run_keys,
        p.get_string_list(body, "experiment_ids"),
        p.get_enum(body, "run_view_type", p.RUN_VIEW_TYPES, "ACTIVE_ONLY"),
    )
    return {"params": keys.params, "metrics": keys.metrics, "tags": keys.tags}


async def runs_signature(state: ServerState, request: Request) -> JsonDict:
    """POST runs/signature {experiment_ids, run_view_type} -> {signature: [count, highest]}."""
    body = await request_fields(request, repeated=("experiment_ids",))
    signature = await state.call(
        state.client.runs_signature,
        p.get_string_list(body, "experiment_ids"),
        p.get_enum(body, "run_view_type", p.RUN_VIEW_TYPES, "ACTIVE_ONLY"),
    )
    return {"signature": list(signature)}


async def descendants(state: ServerState, request: Request) -> JsonDict:
    """POST runs/descendants {run_ids} -> {run_ids}: active runs below them."""
    body = await request_fields(request, repeated=("run_ids",))
    return {"run_ids": await state.call(state.client.descendant_run_ids, _run_ids(body))}


async def downsampled_history(state: ServerState, request: Request) -> JsonDict:
    """GET metrics/get-history-downsampled ?run_id&metric_key&max_points&x_axis&since_step -> buckets."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    key = p.require_string(body, "metric_key")
    max_points = p.get_max_results(body, 1000, 100_000, name="max_points")
    x_axis = p.get_enum(body, "x_axis", ("step", "time"), "step")
    history = await state.call(
        state.client.get_metric_history_downsampled,
        run_id,
        key,
        max_points,
        x_axis,
        p.get_int64(body, "since_step"),
    )
    return {
        "key": history.key,
        "x_axis": history.x_axis,
        "steps": history.steps,
        "timestamps": history.timestamps,
        "values": [p.encode_double(v) for v in history.values],
        "mins": [p.encode_double(v) for v in history.mins],
        "maxs": [p.encode_double(v) for v in history.maxs],
        "counts": history.counts,
        "source": history.source,
    }


async def delete_runs(state: ServerState, request: Request) -> JsonDict:
    """POST runs/delete {run_ids, descendants?, dry_run?} -> {run_ids} moved (or that would move) to trash."""
    body = await request_fields(request, repeated=("run_ids",))
    ids = await state.call(
        state.client.delete_run, _run_ids(body), _flag(body, "descendants"), _flag(body, "dry_run")
    )
    return {"run_ids": ids}


async def restore_runs(state: ServerState, request: Request) -> JsonDict:
    """POST runs/restore {run_ids, descendants?, dry_run?} -> {run_ids} restored."""
    body = await request_fields(request, repeated=("run_ids",))
    ids = await state.call(
        state.client.restore_run, _run_ids(body), _flag(body, "descendants"), _flag(body, "dry_run")
    )
    return {"run_ids": ids}


async def delete_runs_before(state: ServerState, request: Request) -> JsonDict:
    """POST runs/delete-before {experiment_id, max_timestamp_millis, max_runs, dry_run?} -> {count}."""
    body = await request_fields(request)
    return {"count": await bulk.delete_before(state, body, _flag(body, "dry_run"))}


async def restore_runs_since(state: ServerState, request: Request) -> JsonDict:
    """POST runs/restore-since {experiment_id, min_timestamp_millis, max_runs, dry_run?} -> {count}."""
    body = await request_fields(request)
    return {"count": await bulk.restore_since(state, body, _flag(body, "dry_run"))}


async def rename_folder(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/rename-folder {old_prefix, new_prefix} -> {renamed: {old name: new name}}."""
    body = await request_fields(request)
    renamed = await state.call(
        state.client.rename_experiment_folder,
        p.require_string(body, "old_prefix"),
        p.require_string(body, "new_prefix"),
    )
    return {"renamed": renamed}


async def gc(state: ServerState, request: Request) -> JsonDict:
    """POST gc {older_than?, run_ids?, experiment_ids?, dry_run?} -> {run_ids, experiment_ids} purged."""
    body = await request_fields(request, repeated=("run_ids", "experiment_ids"))
    result = await state.call(
        state.client.gc,
        p.get_string(body, "older_than") or None,
        p.get_string_list(body, "run_ids") or None,
        p.get_string_list(body, "experiment_ids") or None,
        _flag(body, "dry_run"),
    )
    return {"run_ids": result.run_ids, "experiment_ids": result.experiment_ids, "dry_run": result.dry_run}

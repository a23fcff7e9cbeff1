"""Databricks' bulk endpoints: delete-runs and restore-runs of one experiment by time (core/lifecycle.py)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..rest import protocol as p
from .http import request_fields
from .state import ServerState

MAX_BULK_RUNS = 10_000


def _max_runs(body: p.Body) -> int:
    return p.get_max_results(body, MAX_BULK_RUNS, MAX_BULK_RUNS, name="max_runs")


async def delete_before(state: ServerState, body: p.Body, dry_run: bool = False) -> int:
    """Trash the experiment's runs started before max_timestamp_millis (at most max_runs); how many."""
    experiment_id = p.require_string(body, "experiment_id")
    cutoff = p.get_int64(body, "max_timestamp_millis", required=True)
    return int(await state.call(state.client.delete_runs, experiment_id, cutoff, _max_runs(body), dry_run))


async def restore_since(state: ServerState, body: p.Body, dry_run: bool = False) -> int:
    """Restore the experiment's runs deleted since min_timestamp_millis (at most max_runs); how many."""
    experiment_id = p.require_string(body, "experiment_id")
    since = p.get_int64(body, "min_timestamp_millis", required=True)
    return int(await state.call(state.client.restore_runs, experiment_id, since, _max_runs(body), dry_run))


async def delete_runs(state: ServerState, request: Request) -> dict[str, Any]:
    """POST databricks/runs/delete-runs {experiment_id, max_timestamp_millis, max_runs?} -> {runs_deleted}."""
    return {"runs_deleted": await delete_before(state, await request_fields(request))}


async def restore_runs(state: ServerState, request: Request) -> dict[str, Any]:
    """POST databricks/runs/restore-runs {experiment_id, min_timestamp_millis, max_runs?}."""
    return {"runs_restored": await restore_since(state, await request_fields(request))}

"""Handlers of MLflow's tracking endpoints: experiments, runs, metric histories, artifact listing.

Each handler reads the request fields (rest.protocol), calls the core (TrackingClient, SqlStore,
lifecycle, search) in the thread pool or through the write group, and answers a JSON object. The
rules (validation, lifecycle, search semantics) are the core's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import methodcaller
from typing import Any

from runyard.tracking import context as ctx
from starlette.requests import Request
from starlette.responses import Response

from ..entities import LoggedModelMetric, Metric, Run, RunStatus, SourceType
from ..exceptions import ExperimentNotFound, InvalidInput
from ..rest import protocol as p
from .access import grant_creator, readable_filter
from .http import JsonResponse, request_fields
from .state import ServerState

JsonDict = dict[str, Any]
DEFAULT_EXPERIMENT_ID = "0"
_model_id_of = methodcaller("get", "model_id")
# MLflow's mlflow.source.type values -> runyard's source types.
_SOURCE_TYPES = {
    "NOTEBOOK": SourceType.NOTEBOOK,
    "JOB": SourceType.JOB,
    "PROJECT": SourceType.JOB,
    "LOCAL": SourceType.LOCAL,
}


def _page(items: list[Any], offset: int, max_results: int) -> tuple[list[Any], str | None]:
    page = items[offset : offset + max_results]
    more = offset + max_results < len(items)
    return page, (p.encode_offset_token(offset + max_results) if more else None)


def _with_token(payload: JsonDict, token: str | None) -> JsonDict:
    if token:
        payload["next_page_token"] = token
    return payload


# ----------------------------------------------------------------------------- experiments
async def create_experiment(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/create {name, artifact_location?, tags?} -> {experiment_id}."""
    body = await request_fields(request)
    name = p.require_string(body, "name")
    location = p.get_string(body, "artifact_location") or None
    tags = {p.runyard_tag_key(k): v for k, v in p.get_key_values(body, "tags", "tag")}
    if location is not None and location.startswith("mlflow-artifacts:"):
        location = None  # the server's own proxy: the store's artifact root
    experiment_id = await state.call(state.client.create_experiment, name, location, tags or None)
    await grant_creator(state, request, experiment_id)
    return {"experiment_id": experiment_id}


async def get_experiment(state: ServerState, request: Request) -> JsonDict:
    """GET experiments/get ?experiment_id -> {experiment}."""
    body = await request_fields(request)
    experiment = await state.call(state.client.get_experiment, p.require_string(body, "experiment_id"))
    return {"experiment": p.experiment_json(experiment)}


async def get_experiment_by_name(state: ServerState, request: Request) -> JsonDict:
    """GET experiments/get-by-name ?experiment_name -> {experiment}."""
    body = await request_fields(request)
    name = p.require_string(body, "experiment_name")
    experiment = await state.call(state.client.get_experiment_by_name, name)
    if experiment is None:
        raise ExperimentNotFound(f"Could not find experiment with name '{name}'.")
    return {"experiment": p.experiment_json(experiment)}


async def search_experiments(state: ServerState, request: Request) -> JsonDict:
    """POST/GET experiments/search {max_results, page_token, filter, order_by, view_type}."""
    body = await request_fields(request, repeated=("order_by",))
    max_results = p.get_max_results(body, p.SEARCH_MAX_RESULTS_DEFAULT, p.SEARCH_MAX_RESULTS_LIMIT)
    offset = p.decode_offset_token(p.get_string(body, "page_token"))
    view_type = p.get_enum(body, "view_type", p.RUN_VIEW_TYPES, "ACTIVE_ONLY")
    experiments = await state.call(
        state.client.search_experiments,
        p.get_string(body, "filter") or "",
        view_type,
        p.get_string_list(body, "order_by") or None,
        None,
    )
    readable = readable_filter(request)
    if readable is not None:
        experiments = [e for e in experiments if e.experiment_id in readable]
    page, token = _page(experiments, offset, max_results)
    payload: JsonDict = {"experiments": [p.experiment_json(e) for e in page]} if page else {}
    return _with_token(payload, token)


async def update_experiment(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/update {experiment_id, new_name}."""
    body = await request_fields(request)
    experiment_id = p.require_string(body, "experiment_id")
    new_name = p.get_string(body, "new_name")
    if new_name:
        await state.call(state.client.rename_experiment, experiment_id, new_name)
    else:
        await state.call(state.client.get_experiment, experiment_id)
    return {}


async def delete_experiment(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/delete {experiment_id}."""
    body = await request_fields(request)
    await state.call(state.client.delete_experiment, p.require_string(body, "experiment_id"))
    return {}


async def restore_experiment(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/restore {experiment_id}."""
    body = await request_fields(request)
    await state.call(state.client.restore_experiment, p.require_string(body, "experiment_id"))
    return {}


async def set_experiment_tag(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/set-experiment-tag {experiment_id, key, value}."""
    body = await request_fields(request)
    experiment_id = p.require_string(body, "experiment_id")
    key = p.runyard_tag_key(p.require_string(body, "key"))
    value = p.get_string(body, "value", default="")
    await state.call(state.client.set_experiment_tag, experiment_id, key, value)
    return {}


async def delete_experiment_tag(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/delete-experiment-tag {experiment_id, key}."""
    body = await request_fields(request)
    experiment_id = p.require_string(body, "experiment_id")
    key = p.runyard_tag_key(p.require_string(body, "key"))
    await state.call(state.client.delete_experiment_tag, experiment_id, key)
    return {}


# ----------------------------------------------------------------------------- runs
def _source_of(tags: dict[str, str]) -> dict[str, Any]:
    """The run's source columns from MLflow's system tags (already renamed runyard.*)."""
    source: dict[str, Any] = {}
    source_type = _SOURCE_TYPES.get(tags.get(ctx.SOURCE_TYPE, "").upper())
    if source_type is not None:
        source["source_type"] = source_type
    if tags.get(ctx.SOURCE_NAME):
        source["source_name"] = tags[ctx.SOURCE_NAME]
    if tags.get(ctx.GIT_COMMIT):
        source["source_version"] = tags[ctx.GIT_COMMIT]
    if tags.get("runyard.project.entryPoint"):
        source["entry_point"] = tags["runyard.project.entryPoint"]
    return source


async def create_run(state: ServerState, request: Request) -> JsonDict:
    """POST runs/create {experiment_id, user_id, run_name, start_time, tags} -> {run}."""
    body = await request_fields(request)
    experiment_id = p.get_string(body, "experiment_id") or DEFAULT_EXPERIMENT_ID
    tags = {p.runyard_tag_key(k): v for k, v in p.get_key_values(body, "tags", "tag")}
    if body.get(p.SENDS_HEARTBEATS_FIELD) is not True:
        # No runyard heartbeat will come: the run's writes are its signs of life (the longer LOST timeout).
        tags[ctx.HEARTBEAT_SOURCE] = ctx.HEARTBEAT_FROM_WRITES
    user_id = p.get_string(body, "user_id") or tags.get(ctx.USER) or "unknown"
    run_name = p.get_string(body, "run_name") or None
    start_time = p.get_int64(body, "start_time")
    source = _source_of(tags)
    # A grouped write: concurrent creations share a transaction (and never wait on SQLite's lock).
    run = await state.writes.run(
        None,
        lambda conn: state.store.create_run(
            experiment_id,
            run_name,
            user_id,
            start_time=start_time,
            tags=tags,
            parent_run_id=tags.get(ctx.PARENT_RUN_ID) or None,
            conn=conn,
            **source,
        ),
    )
    return {"run": p.run_json(run)}


async def get_run(state: ServerState, request: Request) -> JsonDict:
    """GET runs/get ?run_id (or run_uuid) -> {run}."""
    body = await request_fields(request)
    run = await state.call(state.client.get_run, p.run_id_of(body))
    return {"run": p.run_json(run)}


async def update_run(state: ServerState, request: Request) -> JsonDict:
    """POST runs/update {run_id, status?, end_time?, run_name?} -> {run_info}."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    status = p.get_enum(body, "status", RunStatus.ALL, "") or None
    end_time = p.get_int64(body, "end_time")
    run_name = p.get_string(body, "run_name") or None

    def update() -> Run:
        state.store.update_run(run_id, status=status, end_time=end_time, run_name=run_name)
        return state.client.get_run(run_id)

    run = await state.call(update)
    return {"run_info": p.run_info_json(run.info)}


async def delete_run(state: ServerState, request: Request) -> JsonDict:
    """POST runs/delete {run_id}: this run only, as MLflow (runyard's own client also trashes children)."""
    body = await request_fields(request)
    await state.call(state.client.delete_run, p.run_id_of(body), False)
    return {}


async def restore_run(state: ServerState, request: Request) -> JsonDict:
    """POST runs/restore {run_id}: this run only, as MLflow."""
    body = await request_fields(request)
    await state.call(state.client.restore_run, p.run_id_of(body), False)
    return {}


async def search_runs(state: ServerState, request: Request) -> JsonDict:
    """POST runs/search: runyard's whole search language (OR, NOT, parentheses, MIN/MAX/LATEST)."""
    body = await request_fields(request, repeated=("experiment_ids", "order_by"))
    max_results = p.get_max_results(body, p.SEARCH_MAX_RESULTS_DEFAULT, p.SEARCH_MAX_RESULTS_LIMIT)
    experiment_ids = p.get_string_list(body, "experiment_ids")
    readable = readable_filter(request)
    if readable is not None:
        experiment_ids = [e for e in experiment_ids if e in readable]
        if not experiment_ids:
            return {}  # nothing the caller may read: the same answer as no runs at all
    page = await state.call(
        state.client.search_runs,
        experiment_ids,
        p.get_string(body, "filter") or "",
        p.get_enum(body, "run_view_type", p.RUN_VIEW_TYPES, "ACTIVE_ONLY"),
        max_results,
        p.get_string_list(body, "order_by") or None,
        p.get_string(body, "page_token") or None,
    )
    payload: JsonDict = {"runs": [p.run_json(run) for run in page]} if page else {}
    return _with_token(payload, page.token)


# ----------------------------------------------------------------------------- logging (grouped writes)
async def log_metric(state: ServerState, request: Request) -> JsonDict:
    """POST runs/log-metric {run_id, key, value, timestamp, step}."""
    from runyard.clock import now_ms

    body = await request_fields(request)
    run_id = p.run_id_of(body)
    p.require_string(body, "key")
    points = p.get_points({"metrics": [body]}, now_ms())
    model_points = await _model_points(state, run_id, [body], points)
    await _log_batch(state, run_id, points, [], [], _batch_id(request))
    await _log_model_metrics(state, model_points)
    return {}


async def log_param(state: ServerState, request: Request) -> JsonDict:
    """POST runs/log-parameter {run_id, key, value}: write-once (the same value again is fine)."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    key = p.require_string(body, "key")
    value = p.get_key_values({"params": [{"key": key, "value": body.get("value")}]}, "params", "param")
    await _log_batch(state, run_id, [], value, [])
    return {}


async def set_tag(state: ServerState, request: Request) -> JsonDict:
    """POST runs/set-tag {run_id, key, value}; mlflow.runName renames the run, as in MLflow."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    key = p.runyard_tag_key(p.require_string(body, "key"))
    value = p.get_key_values({"tags": [{"key": key, "value": body.get("value")}]}, "tags", "tag")[0][1]
    if key == ctx.RUN_NAME:
        await state.call(state.store.update_run, run_id, run_name=value)
        return {}
    await _log_batch(state, run_id, [], [], [(key, value)])
    return {}


async def delete_tag(state: ServerState, request: Request) -> JsonDict:
    """POST runs/delete-tag {run_id, key}."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    key = p.runyard_tag_key(p.require_string(body, "key"))
    await state.writes.run(run_id, lambda conn: state.store.delete_tag(run_id, key, conn=conn))
    return {}


async def log_batch(state: ServerState, request: Request) -> JsonDict:
    """POST runs/log-batch {run_id, metrics, params, tags}: all or nothing, MLflow's size limits."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    from runyard.clock import now_ms

    metrics = p.get_points(body, now_ms())
    params = p.get_key_values(body, "params", "param")
    tags = [(p.runyard_tag_key(k), v) for k, v in p.get_key_values(body, "tags", "tag")]
    p.check_batch_limits(len(metrics), len(params), len(tags))
    model_points = await _model_points(state, run_id, p.get_objects(body, "metrics"), metrics)
    await _log_batch(state, run_id, metrics, params, tags, _batch_id(request))
    await _log_model_metrics(state, model_points)
    return {}


async def _model_points(
    state: ServerState,
    run_id: str,
    items: Sequence[Mapping[str, Any]],
    points: Sequence[tuple[str, float, int, int]],
) -> dict[str, list[LoggedModelMetric]]:
    """Points that name a model_id, by model; an unknown model fails the request before any write."""
    by_model: dict[str, list[LoggedModelMetric]] = {}
    if not any(map(_model_id_of, items)):  # the usual batch: one C-level pass, no per-point Python
        return by_model
    for item, (key, value, timestamp, step) in zip(items, points, strict=True):
        model_id = item.get("model_id")
        if model_id:
            by_model.setdefault(str(model_id), []).append(
                LoggedModelMetric(
                    key,
                    value,
                    timestamp,
                    step,
                    run_id,
                    p.get_string(item, "dataset_name") or None,
                    p.get_string(item, "dataset_digest") or None,
                )
            )
    for model_id in by_model:
        await state.call(state.store.get_logged_model, model_id)
    return by_model


async def _log_model_metrics(state: ServerState, by_model: dict[str, list[LoggedModelMetric]]) -> None:
    """Those points also become the logged models' metrics, as in MLflow's store."""
    for model_id, model_points in by_model.items():
        await state.call(state.store.log_logged_model_metrics, model_id, model_points)


def _batch_id(request: Request) -> str | None:
    """The client's batch id (a replay of a stored batch is answered without writing), if it sent one."""
    from runyard.store.batches import validate_batch_id

    batch_id = request.headers.get(p.BATCH_ID_HEADER)
    return None if batch_id is None else validate_batch_id(batch_id.strip())


async def _log_batch(
    state: ServerState,
    run_id: str,
    points: list[tuple[str, float, int, int]],
    params: list[tuple[str, str]],
    tags: list[tuple[str, str]],
    batch_id: str | None = None,
) -> None:
    from runyard.tracking.client import key_values

    from ..entities import Param, RunTag

    clean_params = key_values([Param(k, v) for k, v in params], "param")
    clean_tags = key_values([RunTag(k, v) for k, v in tags], "tag")
    if clean_tags.get(ctx.RUN_NAME) is not None:
        raise InvalidInput("Rename a run with runs/update (run_name) or set-tag, not inside log-batch.")
    await state.writes.run(
        run_id,
        lambda conn: state.store.log_batch(
            run_id, points, clean_params, clean_tags, conn=conn, batch_id=batch_id
        ),
    )


async def log_inputs(state: ServerState, request: Request) -> JsonDict:
    """POST runs/log-inputs {run_id, datasets, models}: once per (run, dataset, context)."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    datasets = p.get_dataset_inputs(body)
    models = p.get_model_inputs(body)
    await state.call(state.client.log_inputs, run_id, datasets, models)
    return {}


# ----------------------------------------------------------------------------- metric histories
def _history_rows(state: ServerState, run_id: str, key: str) -> list[tuple[float | None, int, int]]:
    """Every (value, timestamp, step) of a run's metric, by step then time (unknown run: 404)."""
    from runyard.store.metrics import history_rows

    pk = state.store.run_pk(run_id)
    with state.store.db.connect() as conn:
        return history_rows(conn, pk, key)


def _history_page(
    state: ServerState, run_id: str, key: str, offset: int, limit: int
) -> list[tuple[float | None, int, int]]:
    """limit rows of the history from offset, in _history_rows' order (unknown run: 404)."""
    from runyard.store.metrics import history_rows_page

    pk = state.store.run_pk(run_id)
    with state.store.db.connect() as conn:
        return history_rows_page(conn, pk, key, offset, limit)


async def get_metric_history(state: ServerState, request: Request) -> Response:
    """GET metrics/get-history ?run_id&metric_key&max_results&page_token (paged, by step then time)."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    key = p.require_string(body, "metric_key")
    max_results = p.get_int64(body, "max_results")
    if max_results is not None and max_results < 1:
        raise InvalidInput(f"max_results must be a positive integer, got {max_results}.")
    offset = p.decode_offset_token(p.get_string(body, "page_token"))
    if max_results is None:
        page, token = (await state.call(_history_rows, state, run_id, key))[offset:], None
    else:  # one more row than asked tells whether another page follows
        rows = await state.call(_history_page, state, run_id, key, offset, max_results + 1)
        page = rows[:max_results]
        token = p.encode_offset_token(offset + max_results) if len(rows) > max_results else None
    if not page:
        return JsonResponse(_with_token({}, token))
    items = await state.call(p.metrics_json_items, key, page)
    tail = b"]" if token is None else b'],"next_page_token":' + p.dumps(token)
    return Response(b'{"metrics":[' + items + tail + b"}", media_type="application/json")


async def get_metric_history_bulk_interval(state: ServerState, request: Request) -> JsonDict:
    """GET metrics/get-history-bulk-interval ?run_ids&metric_key&start_step&end_step&max_results."""
    body = await request_fields(request, repeated=("run_ids",))
    run_ids = p.get_string_list(body, "run_ids", required=True)
    if len(run_ids) > p.MAX_RUNS_GET_METRIC_HISTORY_BULK:
        raise InvalidInput(
            f"GetMetricHistoryBulkInterval request must specify at most "
            f"{p.MAX_RUNS_GET_METRIC_HISTORY_BULK} run_ids. Received {len(run_ids)} run_ids."
        )
    key = p.require_string(body, "metric_key")
    max_results = p.get_max_results(body, p.MAX_RESULTS_PER_RUN, p.MAX_RESULTS_PER_RUN)
    start, end = p.get_int64(body, "start_step"), p.get_int64(body, "end_step")

    def read() -> dict[str, list[Metric]]:
        return {run_id: state.client.get_metric_history(run_id, key) for run_id in dict.fromkeys(run_ids)}

    histories = await state.call(read)
    sampled = p.sample_interval(histories, start, end, max_results)
    return {"metrics": [p.metric_json(m, run_id) for run_id, m in sampled]} if sampled else {}


async def list_artifacts(state: ServerState, request: Request) -> JsonDict:
    """GET artifacts/list ?run_id&path -> {root_uri, files}."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    path = p.get_string(body, "path") or None
    run = await state.call(state.client.get_run, run_id)
    from runyard.tracking.artifacts import ArtifactRepository

    files = await state.call(ArtifactRepository(run.info.artifact_uri).list, path)
    payload: JsonDict = {"root_uri": p.artifact_uri_of(run.info.experiment_id, run.info.run_id)}
    if files:
        payload["files"] = [p.file_info_json(f) for f in files]
    return payload

"""Handlers of MLflow 3's logged-model endpoints, run outputs and the older runs/log-model record.

`mlflow.<flavor>.log_model` creates a logged model, links it to the run (runs/outputs), uploads the
files to the model's artifact_uri through the artifact proxy and reads the model back by id
(`models:/<model_id>`). The store keeps a run's model files among the run's artifacts, so the
artifact_uri answered is the run's `mlflow-artifacts:/<experiment>/<run>/artifacts/<name>`; a model
without a run lives under the experiment's `models/<model_id>/artifacts`, as in MLflow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.requests import Request

from ..entities import MODEL_HISTORY, LoggedModel, LoggedModelOutput
from ..exceptions import InvalidInput, RunNotFound
from ..rest import logged_models as lm
from ..rest import protocol as p
from .http import request_fields
from .state import ServerState

JsonDict = dict[str, Any]
SEARCH_MAX_RESULTS_DEFAULT = 100  # MLflow's default page of logged models
SEARCH_MAX_RESULTS_LIMIT = 1000


def _model_id(request: Request) -> str:
    return str(request.path_params["model_id"])


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def public_artifact_uri(state: ServerState, model: LoggedModel) -> str:
    """The artifact URI clients use for a model: through the server's proxy when the files are ours."""
    from runyard.tracking.artifacts import local_path_of

    location = local_path_of(model.artifact_location)
    if model.source_run_id:
        try:
            run = state.client.get_run(model.source_run_id)
        except RunNotFound:
            run = None
        if run is not None:
            inside = _relative(location, local_path_of(run.info.artifact_uri))
            if inside is not None:
                root = p.artifact_uri_of(run.info.experiment_id, run.info.run_id)
                return f"{root}/{inside}" if inside != "." else root
    inside = _relative(location, state.artifacts_destination)
    if inside is not None and inside != ".":
        return f"mlflow-artifacts:/{inside}"
    return model.artifact_location


def _answer(state: ServerState, model: LoggedModel) -> JsonDict:
    return {"model": lm.logged_model_json(model, public_artifact_uri(state, model))}


async def create_logged_model(state: ServerState, request: Request) -> JsonDict:
    """POST logged-models {experiment_id, name?, model_type?, source_run_id?, params?, tags?} -> {model}."""
    body = await request_fields(request)
    experiment_id = p.require_string(body, "experiment_id")
    params = dict(p.get_key_values(body, "params", "param"))
    tags = dict(p.get_key_values(body, "tags", "tag"))

    def create() -> JsonDict:
        model = state.client.create_logged_model(
            experiment_id,
            p.get_string(body, "name") or None,
            p.get_string(body, "source_run_id") or None,
            tags or None,
            params or None,
            p.get_string(body, "model_type") or None,
        )
        return _answer(state, model)

    return await state.call(create)


async def get_logged_model(state: ServerState, request: Request) -> JsonDict:
    """GET logged-models/<model_id> ?allow_deleted -> {model}."""
    body = await request_fields(request)
    allow_deleted = str(body.get("allow_deleted", "false")).lower() == "true"
    model_id = _model_id(request)
    return await state.call(
        lambda: _answer(state, state.client.get_logged_model(model_id, allow_deleted=allow_deleted))
    )


async def finalize_logged_model(state: ServerState, request: Request) -> JsonDict:
    """PATCH logged-models/<model_id> {status} -> {model} (READY once the files are uploaded)."""
    body = await request_fields(request)
    status = lm.get_status(body)
    model_id = _model_id(request)
    return await state.call(lambda: _answer(state, state.client.finalize_logged_model(model_id, status)))


async def delete_logged_model(state: ServerState, request: Request) -> JsonDict:
    """DELETE logged-models/<model_id>: to the trash (gone from get and search)."""
    await state.call(state.client.delete_logged_model, _model_id(request))
    return {}


async def set_logged_model_tags(state: ServerState, request: Request) -> JsonDict:
    """PATCH logged-models/<model_id>/tags {tags}: set or replace."""
    body = await request_fields(request)
    tags = dict(p.get_key_values(body, "tags", "tag"))
    await state.call(state.client.set_logged_model_tags, _model_id(request), tags)
    return {}


async def delete_logged_model_tag(state: ServerState, request: Request) -> JsonDict:
    """DELETE logged-models/<model_id>/tags/<tag_key>."""
    key = str(request.path_params["tag_key"])
    await state.call(state.client.delete_logged_model_tag, _model_id(request), key)
    return {}


async def log_logged_model_params(state: ServerState, request: Request) -> JsonDict:
    """POST logged-models/<model_id>/params {params}: write-once, as a run's params."""
    body = await request_fields(request)
    params = dict(p.get_key_values(body, "params", "param"))
    await state.call(state.client.log_logged_model_params, _model_id(request), params)
    return {}


async def search_logged_models(state: ServerState, request: Request) -> JsonDict:
    """POST logged-models/search {experiment_ids, filter?, order_by?, max_results?, page_token?}."""
    body = await request_fields(request, repeated=("experiment_ids",))
    experiment_ids = p.get_string_list(body, "experiment_ids", required=True)
    if p.get_objects(body, "datasets"):
        raise InvalidInput(
            "Searching logged models by dataset is not supported by this server: filter on "
            "metrics without `datasets`."
        )
    max_results = p.get_max_results(body, SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_LIMIT)

    def search() -> JsonDict:
        page = state.client.store.search_logged_models(
            experiment_ids,
            p.get_string(body, "filter") or None,
            max_results,
            lm.get_order_by(body) or None,
            p.get_string(body, "page_token") or None,
        )
        payload: JsonDict = {}
        if page:
            payload["models"] = [_answer(state, model)["model"] for model in page]
        if page.token:
            payload["next_page_token"] = page.token
        return payload

    return await state.call(search)


async def list_logged_model_artifacts(state: ServerState, request: Request) -> JsonDict:
    """GET logged-models/<model_id>/artifacts/directories ?artifact_directory_path -> {root_uri, files}."""
    from runyard.tracking.artifacts import ArtifactRepository

    body = await request_fields(request)
    path = p.get_string(body, "artifact_directory_path") or None
    model_id = _model_id(request)

    def listing() -> JsonDict:
        model = state.client.get_logged_model(model_id)
        files = ArtifactRepository(model.artifact_location).list(path)
        payload: JsonDict = {"root_uri": public_artifact_uri(state, model)}
        if files:
            payload["files"] = [p.file_info_json(f) for f in files]
        return payload

    return await state.call(listing)


async def log_outputs(state: ServerState, request: Request) -> JsonDict:
    """POST runs/outputs {run_id, models: [{model_id, step}]}: the models a run produced."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    models = [
        LoggedModelOutput(p.require_string(item, "model_id"), p.get_int64(item, "step") or 0)
        for item in p.get_objects(body, "models")
    ]
    if not models:
        raise p.missing("models")
    await state.call(state.client.log_outputs, run_id, models)
    return {}


async def record_logged_model(state: ServerState, request: Request) -> JsonDict:
    """POST runs/log-model {run_id, model_json}: appended to the run's list of logged models."""
    body = await request_fields(request)
    run_id = p.run_id_of(body)
    raw = p.require_string(body, "model_json")
    try:
        entry = json.loads(raw)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        raise InvalidInput("model_json must be a JSON object describing the model (an MLmodel as JSON).")
    flavors = entry.get("flavors")
    flavors = flavors if isinstance(flavors, dict) else {}
    entry.setdefault("name", str(entry.get("artifact_path") or "model").rstrip("/").rsplit("/", 1)[-1])
    entry.setdefault("flavor", next((f for f in flavors if f != "python_function"), "python_function"))

    def append() -> None:
        history = json.loads(state.client.get_run(run_id).data.tags.get(MODEL_HISTORY) or "[]")
        history.append(entry)
        state.store.set_tags(run_id, {MODEL_HISTORY: json.dumps(history)})

    await state.call(append)
    return {}

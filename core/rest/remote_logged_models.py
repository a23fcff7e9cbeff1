"""RestStore's logged-model operations: MLflow 3's /logged-models API and runs/outputs, on either server.

The same calls and field names as MLflow's own REST store, so they work against a runyard server and a
stock MLflow (>= 3) server. A model's artifact_location is the URI the server answers (on a runyard
server `mlflow-artifacts:/<experiment>/<run>/artifacts/<name>`, inside the run's artifacts); its files
are read and written through the artifact proxy. A server without this API (MLflow 2) lists no models
and refuses the rest with a message that says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..entities import LoggedModel, PagedList
from ..exceptions import InvalidInput, LoggedModelNotFound
from . import logged_models as lm
from .protocol import MLFLOW_API as MLFLOW
from .transport import RemoteNotFound

if TYPE_CHECKING:
    from ..entities import LoggedModelMetric, LoggedModelOutput
    from .artifacts import RemoteArtifacts
    from .transport import Transport

MODELS = f"{MLFLOW}/logged-models"
PARAMS_PER_REQUEST = 100  # MLflow's client sends a model's params in batches of this size
METRICS_PER_REQUEST = 1000  # runs/log-batch's limit
NO_MODEL_API = (
    "The tracking server {where} has no logged-model API (it needs MLflow 3 or runyard): log the model "
    "as run artifacts with runyard.log_model, which works on any server."
)


class RemoteLoggedModels:
    """The Store's logged-model operations for RestStore (a mixin on its requests)."""

    if TYPE_CHECKING:
        tracking_uri: str
        transport: Transport

        def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

        def _run_call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def _model_call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, model_id: str = ""
    ) -> dict[str, Any]:
        """A logged-model request: an unknown model is LoggedModelNotFound, a missing API says so."""
        try:
            return self._call(method, path, body)
        except RemoteNotFound as error:
            if error.error_code == "ENDPOINT_NOT_FOUND":
                raise InvalidInput(NO_MODEL_API.format(where=self.tracking_uri)) from None
            raise LoggedModelNotFound(
                str(error) or f"Logged model {model_id!r} not found on {self.tracking_uri}."
            ) from None

    def _model_path(self, model_id: str, suffix: str = "") -> str:
        if not isinstance(model_id, str) or not model_id.strip() or "/" in model_id:
            raise LoggedModelNotFound(f"Logged model {model_id!r} not found: give an id such as m-1a2b...")
        return f"{MODELS}/{quote(model_id, safe='')}{suffix}"

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models a run produced (runs/outputs)."""
        body = {"run_id": run_id, "models": [{"model_id": m.model_id, "step": m.step} for m in models]}
        self._run_call(f"{MLFLOW}/runs/outputs", body)

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING model; its files go to the artifact_location the server answers."""
        body: dict[str, Any] = {"experiment_id": str(experiment_id)}
        for key, value in (("name", name), ("source_run_id", source_run_id), ("model_type", model_type)):
            if value:
                body[key] = value
        if tags:
            body["tags"] = [{"key": k, "value": str(v)} for k, v in tags.items()]
        items = [{"key": k, "value": str(v)} for k, v in (params or {}).items()]
        if items:
            body["params"] = items[:PARAMS_PER_REQUEST]
        try:
            answer = self._call("POST", MODELS, body)
        except RemoteNotFound as error:
            if error.error_code == "ENDPOINT_NOT_FOUND":
                raise InvalidInput(NO_MODEL_API.format(where=self.tracking_uri)) from None
            raise
        model = lm.logged_model_from_json(answer["model"])
        if len(items) > PARAMS_PER_REQUEST:
            self._send_params(model.model_id, items[PARAMS_PER_REQUEST:])
            model = self.get_logged_model(model.model_id)
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The model with its tags, params and metrics (LoggedModelNotFound when missing)."""
        body = {"allow_deleted": "true"} if allow_deleted else None
        answer = self._model_call("GET", self._model_path(model_id), body, model_id)
        return lm.logged_model_from_json(answer["model"])

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        """Set the model's status (READY once its files are uploaded, FAILED otherwise); returns it."""
        wire = lm.STATUS_NAMES.get(status)
        if wire is None:
            raise InvalidInput(
                f"Invalid logged model status {status!r}: use one of {', '.join(lm.STATUS_NAMES)}."
            )
        body = {"model_id": model_id, "status": wire}
        answer = self._model_call("PATCH", self._model_path(model_id), body, model_id)
        return lm.logged_model_from_json(answer["model"])

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, object]) -> None:
        """Set or replace tags of a model."""
        body = {"model_id": model_id, "tags": [{"key": k, "value": str(v)} for k, v in tags.items()]}
        self._model_call("PATCH", self._model_path(model_id, "/tags"), body, model_id)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag of a model."""
        path = self._model_path(model_id, f"/tags/{quote(key, safe='')}")
        self._model_call("DELETE", path, None, model_id)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, object]) -> None:
        """Write params of a model (write-once), in MLflow's batches."""
        self._send_params(model_id, [{"key": k, "value": str(v)} for k, v in params.items()])

    def _send_params(self, model_id: str, items: list[dict[str, str]]) -> None:
        path = self._model_path(model_id, "/params")
        for start in range(0, len(items), PARAMS_PER_REQUEST):
            body = {"model_id": model_id, "params": items[start : start + PARAMS_PER_REQUEST]}
            self._model_call("POST", path, body, model_id)

    def log_logged_model_metrics(self, model_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        """Metric points of a model: MLflow's API takes them in runs/log-batch, so the run gets them too."""
        from .protocol import encode_double

        by_run: dict[str, list[dict[str, Any]]] = {}
        source_run: str | None = None
        for metric in metrics:
            run_id = metric.run_id
            if not run_id:
                if source_run is None:
                    source_run = self.get_logged_model(model_id).source_run_id or ""
                run_id = source_run
            if not run_id:
                raise InvalidInput(
                    f"Metric {metric.key!r} of logged model {model_id} names no run: a tracking server "
                    "records a model's metrics through the run that measured them (give run_id)."
                )
            item: dict[str, Any] = {
                "key": metric.key,
                "value": encode_double(float(metric.value)),
                "timestamp": metric.timestamp,
                "step": metric.step,
                "model_id": model_id,
            }
            if metric.dataset_name:
                item["dataset_name"] = metric.dataset_name
            if metric.dataset_digest:
                item["dataset_digest"] = metric.dataset_digest
            by_run.setdefault(run_id, []).append(item)
        for run_id, items in by_run.items():
            for start in range(0, len(items), METRICS_PER_REQUEST):
                body = {"run_id": run_id, "metrics": items[start : start + METRICS_PER_REQUEST]}
                self._run_call(f"{MLFLOW}/runs/log-batch", body)

    def logged_model_artifacts(self, model_id: str) -> RemoteArtifacts:
        """The model's files through the server's artifact proxy (downloads go to the artifact cache)."""
        from .artifacts import MLFLOW_ARTIFACTS_SCHEME, RemoteArtifacts

        model = self.get_logged_model(model_id)
        if not model.artifact_location.startswith(MLFLOW_ARTIFACTS_SCHEME):
            raise InvalidInput(
                f"The files of logged model {model_id} are at {model.artifact_location}, which the "
                f"tracking server {self.tracking_uri} does not serve through its artifact proxy."
            )
        return RemoteArtifacts(self.transport, model.experiment_id, model_id, model.artifact_location)

    def delete_logged_model(self, model_id: str) -> None:
        """Move a model to the trash (gone from get and search)."""
        self._model_call("DELETE", self._model_path(model_id), {"model_id": model_id}, model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of active models of the experiments matching the filter; `.token` continues.

        A server without the logged-model API (MLflow 2) has none: an empty page.
        """
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "max_results": int(max_results),
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = lm.order_by_json(order_by)
        if page_token:
            body["page_token"] = page_token
        try:
            answer = self._call("POST", f"{MODELS}/search", body)
        except RemoteNotFound as error:
            if error.error_code == "ENDPOINT_NOT_FOUND":
                return PagedList([], None)
            raise
        models = [lm.logged_model_from_json(item) for item in answer.get("models") or ()]
        return PagedList(models, answer.get("next_page_token") or None)

"""The server's one route table: method, path, handler, required permission and how the experiment is found.

Access control enforces `permission` on the experiment that `finds` names, and its matrix test is
generated from this table, so a route cannot exist without a rule. Permissions, weakest first:

- public: anyone, even without credentials (health, version)
- read / edit / manage: that permission on the experiment found; with `finds="none"` any signed-in user
- admin: administrators only

`finds` says where the experiment comes from: `experiment_id`, `experiment_name` or `run_id` (a
request field), `model_id` (the logged model named in the path: its experiment), `artifact_path` (the
first component of an artifact path: `<experiment>/<run>/...`), `resource_id` (MLflow 3's permission
routes), `filtered` (a search: results are filtered to readable experiments), `username` (the caller
themself, or an admin), `experiment_prefix` (every experiment whose name starts with the request's
`old_prefix`: a folder), or `none`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from ..rest.protocol import MLFLOW_API as MLFLOW
from ..rest.protocol import RUNYARD_API as RUNYARD
from . import (
    artifacts,
    auth_admin_api,
    auth_api,
    bulk,
    dumps_api,
    live_api,
    logged_models,
    runyard_api,
    tracking,
)
from .state import ServerState

Handler = Callable[[ServerState, Request], Awaitable[Any]]
PERMISSIONS = ("public", "read", "edit", "manage", "admin")
FINDERS = (
    "none",
    "experiment_id",
    "experiment_name",
    "run_id",
    "model_id",
    "artifact_path",
    "resource_id",
    "filtered",
    "username",
    "experiment_prefix",
)
# Older R clients call the same endpoints under /preview/.
ALIASES = {MLFLOW: ("/api/2.0/preview/mlflow",)}
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@dataclass(frozen=True)
class RouteRule:
    """One endpoint: who may call it and on which experiment."""

    method: str
    path: str
    handler: Handler
    permission: str
    finds: str = "none"

    def __post_init__(self) -> None:
        if self.permission not in PERMISSIONS:
            raise ValueError(f"{self.method} {self.path}: unknown permission {self.permission!r}")
        if self.finds not in FINDERS:
            raise ValueError(f"{self.method} {self.path}: unknown experiment finder {self.finds!r}")

    def paths(self) -> list[str]:
        """The path and its aliases."""
        for prefix, aliases in ALIASES.items():
            if self.path.startswith(prefix + "/"):
                return [self.path] + [alias + self.path[len(prefix) :] for alias in aliases]
        return [self.path]


def _rule(method: str, path: str, handler: Handler, permission: str, finds: str = "none") -> RouteRule:
    return RouteRule(method, path, handler, permission, finds)


async def health(state: ServerState, request: Request) -> PlainTextResponse:
    """GET /health: OK while the process serves requests."""
    return PlainTextResponse("OK")


async def version(state: ServerState, request: Request) -> PlainTextResponse:
    """GET /version: runyard's version as plain text (MLflow clients gate features on it)."""
    from .. import __version__

    return PlainTextResponse(__version__)


t, a, b, u, lm, y, lv = tracking, artifacts, bulk, auth_api, logged_models, runyard_api, live_api
aa = auth_admin_api
E, R, M = f"{MLFLOW}/experiments", f"{MLFLOW}/runs", f"{MLFLOW}/logged-models"
USERS, USERS_V3 = f"{MLFLOW}/users", "/api/3.0/mlflow/users"

ROUTES: tuple[RouteRule, ...] = (
    _rule("GET", "/health", health, "public"),
    _rule("GET", "/version", version, "public"),
    # experiments
    _rule("POST", f"{E}/create", t.create_experiment, "read"),  # any signed-in user; creator gets MANAGE
    _rule("GET", f"{E}/get", t.get_experiment, "read", "experiment_id"),
    _rule("GET", f"{E}/get-by-name", t.get_experiment_by_name, "read", "experiment_name"),
    _rule("POST", f"{E}/search", t.search_experiments, "read", "filtered"),
    _rule("GET", f"{E}/search", t.search_experiments, "read", "filtered"),
    _rule("POST", f"{E}/update", t.update_experiment, "edit", "experiment_id"),
    _rule("POST", f"{E}/delete", t.delete_experiment, "manage", "experiment_id"),
    _rule("POST", f"{E}/restore", t.restore_experiment, "manage", "experiment_id"),
    _rule("POST", f"{E}/set-experiment-tag", t.set_experiment_tag, "edit", "experiment_id"),
    _rule("POST", f"{E}/delete-experiment-tag", t.delete_experiment_tag, "edit", "experiment_id"),
    # runs
    _rule("POST", f"{R}/create", t.create_run, "edit", "experiment_id"),
    _rule("GET", f"{R}/get", t.get_run, "read", "run_id"),
    _rule("POST", f"{R}/update", t.update_run, "edit", "run_id"),
    _rule("POST", f"{R}/delete", t.delete_run, "manage", "run_id"),
    _rule("POST", f"{R}/restore", t.restore_run, "manage", "run_id"),
    _rule("POST", f"{R}/search", t.search_runs, "read", "filtered"),
    _rule("POST", f"{R}/log-metric", t.log_metric, "edit", "run_id"),
    _rule("POST", f"{R}/log-parameter", t.log_param, "edit", "run_id"),
    _rule("POST", f"{R}/set-tag", t.set_tag, "edit", "run_id"),
    _rule("POST", f"{R}/delete-tag", t.delete_tag, "edit", "run_id"),
    _rule("POST", f"{R}/log-batch", t.log_batch, "edit", "run_id"),
    _rule("POST", f"{R}/log-inputs", t.log_inputs, "edit", "run_id"),
    _rule("POST", f"{R}/outputs", lm.log_outputs, "edit", "run_id"),
    _rule("POST", f"{R}/log-model", lm.record_logged_model, "edit", "run_id"),
    # logged models (MLflow 3): the files are run artifacts, reached through the artifact proxy
    _rule("POST", M, lm.create_logged_model, "edit", "experiment_id"),
    _rule("POST", f"{M}/search", lm.search_logged_models, "read", "filtered"),
    _rule("GET", f"{M}/{{model_id}}", lm.get_logged_model, "read", "model_id"),
    _rule("PATCH", f"{M}/{{model_id}}", lm.finalize_logged_model, "edit", "model_id"),
    _rule("DELETE", f"{M}/{{model_id}}", lm.delete_logged_model, "manage", "model_id"),
    _rule("PATCH", f"{M}/{{model_id}}/tags", lm.set_logged_model_tags, "edit", "model_id"),
    _rule(
        "DELETE", f"{M}/{{model_id}}/tags/{{tag_key:path}}", lm.delete_logged_model_tag, "edit", "model_id"
    ),
    _rule("POST", f"{M}/{{model_id}}/params", lm.log_logged_model_params, "edit", "model_id"),
    _rule(
        "GET",
        f"{M}/{{model_id}}/artifacts/directories",
        lm.list_logged_model_artifacts,
        "read",
        "model_id",
    ),
    # metric histories and artifact listing
    _rule("GET", f"{MLFLOW}/metrics/get-history", t.get_metric_history, "read", "run_id"),
    _rule(
        "GET",
        f"{MLFLOW}/metrics/get-history-bulk-interval",
        t.get_metric_history_bulk_interval,
        "read",
        "run_id",  # every run of run_ids
    ),
    _rule("GET", f"{MLFLOW}/artifacts/list", t.list_artifacts, "read", "run_id"),
    # Databricks' bulk lifecycle endpoints
    _rule("POST", f"{MLFLOW}/databricks/runs/delete-runs", b.delete_runs, "manage", "experiment_id"),
    _rule("POST", f"{MLFLOW}/databricks/runs/restore-runs", b.restore_runs, "manage", "experiment_id"),
    # the artifact proxy
    _rule("GET", ARTIFACTS, a.list_directory, "read", "artifact_path"),  # ?path=
    _rule("GET", f"{ARTIFACTS}/{{path:path}}", a.download, "read", "artifact_path"),
    _rule("PUT", f"{ARTIFACTS}/{{path:path}}", a.upload, "edit", "artifact_path"),
    _rule("DELETE", f"{ARTIFACTS}/{{path:path}}", a.delete, "manage", "artifact_path"),
    # MLflow's auth API: users
    _rule("POST", f"{USERS}/create", u.create_user, "admin"),
    _rule("GET", f"{USERS}/get", u.get_user, "admin", "username"),
    _rule("GET", f"{USERS}/list", u.list_users, "admin"),
    _rule("PATCH", f"{USERS}/update-password", u.update_password, "admin", "username"),
    _rule("PATCH", f"{USERS}/update-admin", u.update_admin, "admin"),
    _rule("DELETE", f"{USERS}/delete", u.delete_user, "admin"),
    # ... experiment permissions, MLflow 2.x
    _rule("POST", f"{E}/permissions/create", u.create_experiment_permission, "manage", "experiment_id"),
    _rule("GET", f"{E}/permissions/get", u.get_experiment_permission, "manage", "experiment_id"),
    _rule("PATCH", f"{E}/permissions/update", u.update_experiment_permission, "manage", "experiment_id"),
    _rule("DELETE", f"{E}/permissions/delete", u.delete_experiment_permission, "manage", "experiment_id"),
    # ... and MLflow 3.x (resource_type "experiment")
    _rule("POST", f"{USERS_V3}/permissions/grant", u.grant_permission, "manage", "resource_id"),
    _rule("POST", f"{USERS_V3}/permissions/revoke", u.revoke_permission, "manage", "resource_id"),
    _rule("GET", f"{USERS_V3}/permissions/get", u.get_permission, "manage", "resource_id"),
    _rule("GET", f"{USERS_V3}/permissions/list", u.list_permissions, "admin", "username"),
    # ... and runyard's own, for `runyard users|permissions|tokens --store http://...` (tokens: the
    # caller's own unless an administrator, checked by the handlers)
    _rule("GET", f"{RUNYARD}/auth/whoami", aa.whoami, "read"),
    _rule("GET", f"{RUNYARD}/users/audit", aa.audit, "admin"),
    _rule("GET", f"{RUNYARD}/permissions/list", aa.list_permissions, "admin"),
    _rule("POST", f"{RUNYARD}/permissions/set-default", aa.set_default_permission, "admin"),
    _rule(
        "GET",
        f"{RUNYARD}/experiments/permissions/list",
        aa.list_experiment_permissions,
        "manage",
        "experiment_id",
    ),
    _rule("POST", f"{RUNYARD}/tokens/create", aa.create_token, "read"),
    _rule("GET", f"{RUNYARD}/tokens/list", aa.list_tokens, "read"),
    _rule("POST", f"{RUNYARD}/tokens/revoke", aa.revoke_token, "read"),
    # runyard's own endpoints (what the terminal app needs beyond MLflow's API): the finders run_id and
    # experiment_id mean every run of run_ids and every experiment of experiment_ids
    _rule("GET", f"{RUNYARD}/version", y.version, "public"),
    _rule("POST", f"{RUNYARD}/runs/search", y.search_runs, "read", "filtered"),
    _rule("POST", f"{RUNYARD}/runs/get", y.get_runs, "read", "run_id"),
    _rule("POST", f"{RUNYARD}/runs/update", y.update_run, "edit", "run_id"),
    _rule("POST", f"{RUNYARD}/runs/heartbeat", y.heartbeat, "edit", "run_id"),
    _rule("POST", f"{RUNYARD}/runs/keys", y.run_keys, "read", "experiment_id"),
    _rule("POST", f"{RUNYARD}/runs/signature", y.runs_signature, "read", "experiment_id"),
    _rule("POST", f"{RUNYARD}/runs/descendants", y.descendants, "read", "run_id"),
    _rule("POST", f"{RUNYARD}/runs/delete", y.delete_runs, "manage", "run_id"),
    _rule("POST", f"{RUNYARD}/runs/restore", y.restore_runs, "manage", "run_id"),
    _rule("POST", f"{RUNYARD}/runs/delete-before", y.delete_runs_before, "manage", "experiment_id"),
    _rule("POST", f"{RUNYARD}/runs/restore-since", y.restore_runs_since, "manage", "experiment_id"),
    _rule("POST", f"{RUNYARD}/experiments/overview", y.overview, "read", "experiment_id"),
    _rule("POST", f"{RUNYARD}/experiments/count-runs", y.count_runs, "read", "experiment_id"),
    _rule("POST", f"{RUNYARD}/experiments/rename-folder", y.rename_folder, "manage", "experiment_prefix"),
    _rule("GET", f"{RUNYARD}/metrics/get-history-downsampled", y.downsampled_history, "read", "run_id"),
    _rule("POST", f"{RUNYARD}/gc", y.gc, "admin"),
    # ... and for live training: console output, the last points per key, store settings (alerts)
    _rule("POST", f"{RUNYARD}/console/append", lv.append_console, "edit", "run_id"),
    _rule("GET", f"{RUNYARD}/console/get", lv.get_console, "read", "run_id"),
    _rule("POST", f"{RUNYARD}/metrics/recent", lv.recent_metrics, "read", "run_id"),
    _rule("GET", f"{RUNYARD}/settings/get", lv.get_settings, "read"),
    _rule("POST", f"{RUNYARD}/settings/set", lv.set_setting, "admin"),
    # ... and `runyard import` / `copy` into a server: runs keep their ids, users, times and trash state
    _rule("POST", f"{RUNYARD}/dumps/import", dumps_api.import_dump, "admin"),
)

"""The access matrix, generated from the route table: every route x every role -> allowed or refused.

A route added to the table without a request here fails `test_every_route_has_a_matrix_request`, and
the rule's permission decides what each role must get. A refused request must leave every table row
and every artifact file as it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from auth_helpers import PASSWORD, ROLES, AuthApp, fingerprint, make_auth_app
from runyard.access import allows
from runyard.server.routes import ARTIFACTS, ROUTES, RouteRule
from runyard.store import auth
from starlette.testclient import TestClient

_counter = itertools.count()


@dataclass
class Target:
    """The experiment, run, artifact and victim user one route's requests act on."""

    experiment_id: str
    experiment_name: str
    run_id: str
    artifact: str
    victim: str
    model_id: str = ""
    role: str = ""


Request = tuple[dict[str, Any] | None, bytes | None]  # (fields, raw body)
M = "/api/2.0/mlflow"
U3 = "/api/3.0/mlflow/users/permissions"


def _e(t: Target) -> dict[str, Any]:
    return {"experiment_id": t.experiment_id}


def _r(t: Target) -> dict[str, Any]:
    return {"run_id": t.run_id}


LM = f"{M}/logged-models"
Y = "/api/2.0/runyard"
FAR_FUTURE_MS = 4_000_000_000_000


def _es(t: Target) -> dict[str, Any]:
    return {"experiment_ids": [t.experiment_id]}


def _rs(t: Target) -> dict[str, Any]:
    return {"run_ids": [t.run_id]}


REQUESTS: dict[tuple[str, str], Callable[[Target], Request]] = {
    ("GET", f"{Y}/version"): lambda t: (None, None),
    ("POST", f"{Y}/runs/search"): lambda t: (_es(t), None),
    ("POST", f"{Y}/runs/get"): lambda t: (_rs(t), None),
    ("POST", f"{Y}/runs/update"): lambda t: ({**_r(t), "run_name": f"renamed-by-{t.role}"}, None),
    ("POST", f"{Y}/runs/heartbeat"): lambda t: (_rs(t), None),
    ("POST", f"{Y}/runs/keys"): lambda t: (_es(t), None),
    ("POST", f"{Y}/runs/signature"): lambda t: (_es(t), None),
    ("POST", f"{Y}/runs/descendants"): lambda t: (_rs(t), None),
    ("POST", f"{Y}/runs/delete"): lambda t: (_rs(t), None),
    ("POST", f"{Y}/runs/restore"): lambda t: (_rs(t), None),
    ("POST", f"{Y}/runs/delete-before"): lambda t: (
        {**_e(t), "max_timestamp_millis": FAR_FUTURE_MS, "max_runs": 10},
        None,
    ),
    ("POST", f"{Y}/runs/restore-since"): lambda t: (
        {**_e(t), "min_timestamp_millis": 0, "max_runs": 10},
        None,
    ),
    ("POST", f"{Y}/experiments/overview"): lambda t: (_es(t), None),
    ("POST", f"{Y}/experiments/count-runs"): lambda t: (_es(t), None),
    ("POST", f"{Y}/experiments/rename-folder"): lambda t: (
        {"old_prefix": t.experiment_name, "new_prefix": f"{t.experiment_name}-moved-by-{t.role}"},
        None,
    ),
    ("GET", f"{Y}/metrics/get-history-downsampled"): lambda t: ({**_r(t), "metric_key": "loss"}, None),
    ("POST", f"{Y}/gc"): lambda t: ({**_rs(t), "dry_run": True}, None),
    ("POST", f"{Y}/console/append"): lambda t: (
        {**_r(t), "chunks": [{"timestamp": 1, "stream": "stdout", "text": f"by {t.role}"}]},
        None,
    ),
    ("GET", f"{Y}/console/get"): lambda t: (_r(t), None),
    ("POST", f"{Y}/metrics/recent"): lambda t: (_rs(t), None),
    ("GET", f"{Y}/settings/get"): lambda t: ({"prefix": "alerts."}, None),
    ("POST", f"{Y}/settings/set"): lambda t: ({"key": "alerts.stalled_factor", "value": "12"}, None),
    ("POST", f"{Y}/dumps/import"): lambda t: (None, b"not a dump"),
    ("POST", f"{M}/runs/outputs"): lambda t: (
        {**_r(t), "models": [{"model_id": t.model_id, "step": 1}]},
        None,
    ),
    ("POST", f"{M}/runs/log-model"): lambda t: (
        {**_r(t), "model_json": '{"artifact_path": "m", "flavors": {}}'},
        None,
    ),
    ("POST", f"{M}/experiments/delete-experiment-tag"): lambda t: ({**_e(t), "key": "team"}, None),
    ("POST", LM): lambda t: ({**_e(t), "name": f"made-by-{t.role}"}, None),
    ("POST", f"{LM}/search"): lambda t: ({"experiment_ids": [t.experiment_id]}, None),
    ("GET", f"{LM}/{{model_id}}"): lambda t: (None, None),
    ("PATCH", f"{LM}/{{model_id}}"): lambda t: (
        {"model_id": t.model_id, "status": "LOGGED_MODEL_READY"},
        None,
    ),
    ("DELETE", f"{LM}/{{model_id}}"): lambda t: (None, None),
    ("PATCH", f"{LM}/{{model_id}}/tags"): lambda t: ({"tags": [{"key": "k", "value": t.role}]}, None),
    ("DELETE", f"{LM}/{{model_id}}/tags/{{tag_key:path}}"): lambda t: (None, None),
    ("POST", f"{LM}/{{model_id}}/params"): lambda t: (
        {"params": [{"key": f"p-{t.role}", "value": "1"}]},
        None,
    ),
    ("GET", f"{LM}/{{model_id}}/artifacts/directories"): lambda t: (None, None),
    ("GET", "/health"): lambda t: (None, None),
    ("GET", "/version"): lambda t: (None, None),
    ("POST", f"{M}/experiments/create"): lambda t: ({"name": f"created-by-{t.role}-{next(_counter)}"}, None),
    ("GET", f"{M}/experiments/get"): lambda t: (_e(t), None),
    ("GET", f"{M}/experiments/get-by-name"): lambda t: ({"experiment_name": t.experiment_name}, None),
    ("POST", f"{M}/experiments/search"): lambda t: ({"max_results": 10}, None),
    ("GET", f"{M}/experiments/search"): lambda t: ({"max_results": 10}, None),
    ("POST", f"{M}/experiments/update"): lambda t: ({**_e(t), "new_name": f"renamed-{t.role}"}, None),
    ("POST", f"{M}/experiments/delete"): lambda t: (_e(t), None),
    ("POST", f"{M}/experiments/restore"): lambda t: (_e(t), None),
    ("POST", f"{M}/experiments/set-experiment-tag"): lambda t: ({**_e(t), "key": "k", "value": t.role}, None),
    ("POST", f"{M}/runs/create"): lambda t: (_e(t), None),
    ("GET", f"{M}/runs/get"): lambda t: (_r(t), None),
    ("POST", f"{M}/runs/update"): lambda t: ({**_r(t), "run_name": t.role}, None),
    ("POST", f"{M}/runs/delete"): lambda t: (_r(t), None),
    ("POST", f"{M}/runs/restore"): lambda t: (_r(t), None),
    ("POST", f"{M}/runs/search"): lambda t: ({"experiment_ids": [t.experiment_id]}, None),
    ("POST", f"{M}/runs/log-metric"): lambda t: (
        {**_r(t), "key": "m", "value": 1.0, "timestamp": 1, "step": 0},
        None,
    ),
    ("POST", f"{M}/runs/log-parameter"): lambda t: ({**_r(t), "key": f"p-{t.role}", "value": "v"}, None),
    ("POST", f"{M}/runs/set-tag"): lambda t: ({**_r(t), "key": "k", "value": t.role}, None),
    ("POST", f"{M}/runs/delete-tag"): lambda t: ({**_r(t), "key": "seeded"}, None),
    ("POST", f"{M}/runs/log-batch"): lambda t: (
        {**_r(t), "metrics": [{"key": "m", "value": 2.0, "timestamp": 2, "step": 1}]},
        None,
    ),
    ("POST", f"{M}/runs/log-inputs"): lambda t: ({**_r(t), "datasets": []}, None),
    ("GET", f"{M}/metrics/get-history"): lambda t: ({**_r(t), "metric_key": "m"}, None),
    ("GET", f"{M}/metrics/get-history-bulk-interval"): lambda t: (
        {"run_ids": t.run_id, "metric_key": "m"},
        None,
    ),
    ("GET", f"{M}/artifacts/list"): lambda t: (_r(t), None),
    ("POST", f"{M}/databricks/runs/delete-runs"): lambda t: ({**_e(t), "max_timestamp_millis": 0}, None),
    ("POST", f"{M}/databricks/runs/restore-runs"): lambda t: ({**_e(t), "min_timestamp_millis": 0}, None),
    ("GET", ARTIFACTS): lambda t: ({"path": t.artifact.rsplit("/", 1)[0]}, None),
    ("GET", f"{ARTIFACTS}/{{path:path}}"): lambda t: (None, None),
    ("PUT", f"{ARTIFACTS}/{{path:path}}"): lambda t: (None, f"written by {t.role}".encode()),
    ("DELETE", f"{ARTIFACTS}/{{path:path}}"): lambda t: (None, None),
    ("POST", f"{M}/users/create"): lambda t: (
        {"username": f"new-{t.role}-{next(_counter)}", "password": "x"},
        None,
    ),
    ("GET", f"{M}/users/get"): lambda t: ({"username": t.victim}, None),
    ("GET", f"{M}/users/list"): lambda t: (None, None),
    ("PATCH", f"{M}/users/update-password"): lambda t: ({"username": t.victim, "password": "new"}, None),
    ("PATCH", f"{M}/users/update-admin"): lambda t: ({"username": t.victim, "is_admin": False}, None),
    ("DELETE", f"{M}/users/delete"): lambda t: ({"username": t.victim}, None),
    ("POST", f"{M}/experiments/permissions/create"): lambda t: (
        {**_e(t), "username": t.victim, "permission": "READ"},
        None,
    ),
    ("GET", f"{M}/experiments/permissions/get"): lambda t: ({**_e(t), "username": t.victim}, None),
    ("PATCH", f"{M}/experiments/permissions/update"): lambda t: (
        {**_e(t), "username": t.victim, "permission": "EDIT"},
        None,
    ),
    ("DELETE", f"{M}/experiments/permissions/delete"): lambda t: ({**_e(t), "username": t.victim}, None),
    ("POST", f"{U3}/grant"): lambda t: (
        {
            "username": t.victim,
            "resource_type": "experiment",
            "resource_id": t.experiment_id,
            "permission": "READ",
        },
        None,
    ),
    ("POST", f"{U3}/revoke"): lambda t: (
        {"username": t.victim, "resource_type": "experiment", "resource_id": t.experiment_id},
        None,
    ),
    ("GET", f"{U3}/get"): lambda t: (
        {"username": t.victim, "resource_type": "experiment", "resource_id": t.experiment_id},
        None,
    ),
    ("GET", f"{U3}/list"): lambda t: ({"username": t.victim}, None),
    ("GET", f"{Y}/auth/whoami"): lambda t: (None, None),
    ("GET", f"{Y}/users/audit"): lambda t: ({"limit": 5}, None),
    ("GET", f"{Y}/permissions/list"): lambda t: ({"username": t.victim}, None),
    ("POST", f"{Y}/permissions/set-default"): lambda t: ({"permission": "READ"}, None),
    ("GET", f"{Y}/experiments/permissions/list"): lambda t: (_e(t), None),
    ("POST", f"{Y}/tokens/create"): lambda t: ({"name": f"made-by-{t.role}"}, None),  # the caller's own
    ("GET", f"{Y}/tokens/list"): lambda t: (None, None),  # the caller's own
    ("POST", f"{Y}/tokens/revoke"): lambda t: ({"token_id": "no-such-token"}, None),
}
# What each route needs, in MLflow's meaning (READ views, EDIT logs and renames, MANAGE deletes, restores
# and changes permissions; user administration is for admins): the table must say the same.
POLICY: dict[tuple[str, str], str] = {
    ("GET", f"{Y}/version"): "public",
    ("POST", f"{Y}/runs/search"): "read",
    ("POST", f"{Y}/runs/get"): "read",
    ("POST", f"{Y}/runs/update"): "edit",
    ("POST", f"{Y}/runs/heartbeat"): "edit",
    ("POST", f"{Y}/runs/keys"): "read",
    ("POST", f"{Y}/runs/signature"): "read",
    ("POST", f"{Y}/runs/descendants"): "read",
    ("POST", f"{Y}/runs/delete"): "manage",
    ("POST", f"{Y}/runs/restore"): "manage",
    ("POST", f"{Y}/runs/delete-before"): "manage",
    ("POST", f"{Y}/runs/restore-since"): "manage",
    ("POST", f"{Y}/experiments/overview"): "read",
    ("POST", f"{Y}/experiments/count-runs"): "read",
    ("POST", f"{Y}/experiments/rename-folder"): "manage",
    ("GET", f"{Y}/metrics/get-history-downsampled"): "read",
    ("POST", f"{Y}/gc"): "admin",
    ("POST", f"{Y}/console/append"): "edit",
    ("GET", f"{Y}/console/get"): "read",
    ("POST", f"{Y}/metrics/recent"): "read",
    ("GET", f"{Y}/settings/get"): "read",
    ("POST", f"{Y}/settings/set"): "admin",
    ("POST", f"{Y}/dumps/import"): "admin",
    ("POST", f"{M}/runs/outputs"): "edit",
    ("POST", f"{M}/runs/log-model"): "edit",
    ("POST", f"{M}/experiments/delete-experiment-tag"): "edit",
    ("POST", LM): "edit",
    ("POST", f"{LM}/search"): "read",
    ("GET", f"{LM}/{{model_id}}"): "read",
    ("PATCH", f"{LM}/{{model_id}}"): "edit",
    ("DELETE", f"{LM}/{{model_id}}"): "manage",
    ("PATCH", f"{LM}/{{model_id}}/tags"): "edit",
    ("DELETE", f"{LM}/{{model_id}}/tags/{{tag_key:path}}"): "edit",
    ("POST", f"{LM}/{{model_id}}/params"): "edit",
    ("GET", f"{LM}/{{model_id}}/artifacts/directories"): "read",
    ("GET", "/health"): "public",
    ("GET", "/version"): "public",
    ("POST", f"{M}/experiments/create"): "read",
    ("GET", f"{M}/experiments/get"): "read",
    ("GET", f"{M}/experiments/get-by-name"): "read",
    ("POST", f"{M}/experiments/search"): "read",
    ("GET", f"{M}/experiments/search"): "read",
    ("POST", f"{M}/experiments/update"): "edit",
    ("POST", f"{M}/experiments/delete"): "manage",
    ("POST", f"{M}/experiments/restore"): "manage",
    ("POST", f"{M}/experiments/set-experiment-tag"): "edit",
    ("POST", f"{M}/runs/create"): "edit",
    ("GET", f"{M}/runs/get"): "read",
    ("POST", f"{M}/runs/update"): "edit",
    ("POST", f"{M}/runs/delete"): "manage",
    ("POST", f"{M}/runs/restore"): "manage",
    ("POST", f"{M}/runs/search"): "read",
    ("POST", f"{M}/runs/log-metric"): "edit",
    ("POST", f"{M}/runs/log-parameter"): "edit",
    ("POST", f"{M}/runs/set-tag"): "edit",
    ("POST", f"{M}/runs/delete-tag"): "edit",
    ("POST", f"{M}/runs/log-batch"): "edit",
    ("POST", f"{M}/runs/log-inputs"): "edit",
    ("GET", f"{M}/metrics/get-history"): "read",
    ("GET", f"{M}/metrics/get-history-bulk-interval"): "read",
    ("GET", f"{M}/artifacts/list"): "read",
    ("POST", f"{M}/databricks/runs/delete-runs"): "manage",
    ("POST", f"{M}/databricks/runs/restore-runs"): "manage",
    ("GET", f"{M}-artifacts/artifacts"): "read",
    ("GET", f"{M}-artifacts/artifacts/{{path:path}}"): "read",
    ("PUT", f"{M}-artifacts/artifacts/{{path:path}}"): "edit",
    ("DELETE", f"{M}-artifacts/artifacts/{{path:path}}"): "manage",
    ("POST", f"{M}/users/create"): "admin",
    ("GET", f"{M}/users/get"): "admin",
    ("GET", f"{M}/users/list"): "admin",
    ("PATCH", f"{M}/users/update-password"): "admin",
    ("PATCH", f"{M}/users/update-admin"): "admin",
    ("DELETE", f"{M}/users/delete"): "admin",
    ("POST", f"{M}/experiments/permissions/create"): "manage",
    ("GET", f"{M}/experiments/permissions/get"): "manage",
    ("PATCH", f"{M}/experiments/permissions/update"): "manage",
    ("DELETE", f"{M}/experiments/permissions/delete"): "manage",
    ("POST", f"{U3}/grant"): "manage",
    ("POST", f"{U3}/revoke"): "manage",
    ("GET", f"{U3}/get"): "manage",
    ("GET", f"{U3}/list"): "admin",
    ("GET", f"{Y}/auth/whoami"): "read",
    ("GET", f"{Y}/users/audit"): "admin",
    ("GET", f"{Y}/permissions/list"): "admin",
    ("POST", f"{Y}/permissions/set-default"): "admin",
    ("GET", f"{Y}/experiments/permissions/list"): "manage",
    ("POST", f"{Y}/tokens/create"): "read",
    ("GET", f"{Y}/tokens/list"): "read",
    ("POST", f"{Y}/tokens/revoke"): "read",
}
NEEDED = {"read": "READ", "edit": "EDIT", "manage": "MANAGE"}


def expected_allowed(rule: RouteRule, permission: str | None, is_admin: bool, anonymous: bool) -> bool:
    """What the rule says a role may do (the victim of user routes is never the caller)."""
    if rule.permission == "public":
        return True
    if anonymous:
        return False
    if is_admin:
        return True
    if rule.permission == "admin":
        return False
    if rule.finds in ("none", "filtered"):
        return True
    return permission is not None and allows(permission, NEEDED[rule.permission])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthApp, TestClient]]:
    served = make_auth_app(tmp_path_factory.mktemp("matrix"))
    with TestClient(served.app) as client:
        yield served, client


def _target(served: AuthApp, client: TestClient, name: str) -> Target:
    store = served.store
    experiment_id = store.create_experiment(name)
    run = store.create_run(experiment_id, "seeded", "admin", tags={"seeded": "yes"})
    artifact = f"{experiment_id}/{run.info.run_id}/artifacts/file.txt"
    response = client.put(f"{ARTIFACTS}/{artifact}", content=b"seed", auth=("admin", PASSWORD))
    assert response.status_code == 200, response.text
    victim = f"victim-{name}"
    auth.add_user(store, victim, "not-a-real-hash")
    for username, permission, _is_admin in ROLES:
        if permission is not None:
            auth.set_permission(store, experiment_id, username, permission)
    store.set_experiment_tag(experiment_id, "team", "vision")
    model = store.create_logged_model(
        experiment_id, "seeded-model", source_run_id=run.info.run_id, tags={"k": "v"}
    )
    return Target(experiment_id, name, run.info.run_id, artifact, victim, model.model_id)


def test_every_route_has_a_matrix_request_and_the_intended_permission() -> None:
    assert {(rule.method, rule.path) for rule in ROUTES} == set(REQUESTS)
    assert {(rule.method, rule.path): rule.permission for rule in ROUTES} == POLICY


@pytest.mark.parametrize("rule", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_each_role_gets_what_the_rule_says(served: tuple[AuthApp, TestClient], rule: RouteRule) -> None:
    app, client = served
    target = _target(app, client, f"exp-{next(_counter)}")
    path = rule.path.replace("{path:path}", target.artifact).replace("{model_id}", target.model_id)
    path = path.replace("{tag_key:path}", "k")
    for username, permission, is_admin in ROLES:  # weakest first: refusals run on an untouched target
        anonymous = username == "anonymous"
        target.role = username
        fields, raw = REQUESTS[(rule.method, rule.path)](target)
        before = fingerprint(app.database, app.artifacts)
        response = client.request(
            rule.method,
            path,
            params=fields if rule.method == "GET" else None,
            json=fields if rule.method != "GET" and fields is not None else None,
            content=raw,
            auth=None if anonymous else (username, PASSWORD),
        )
        where = f"{rule.method} {rule.path} as {username}: {response.status_code} {response.text[:200]}"
        if expected_allowed(rule, permission, is_admin, anonymous):
            assert response.status_code not in (401, 403) and response.status_code < 500, where
        else:
            assert response.status_code == (401 if anonymous else 403), where
            code = response.json()["error_code"]
            assert code == ("UNAUTHENTICATED" if anonymous else "PERMISSION_DENIED"), where
            if anonymous:
                assert response.headers["WWW-Authenticate"].startswith("Basic"), where
            assert fingerprint(app.database, app.artifacts) == before, f"refused but changed: {where}"

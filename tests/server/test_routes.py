"""The route table: every rule has a permission, every path (and alias) is served, nothing else is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from runyard.server.app import create_app
from runyard.server.routes import PERMISSIONS, ROUTES, RouteRule
from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    directory = tmp_path_factory.mktemp("routes")
    app = create_app(f"sqlite:///{directory / 'runyard.db'}", directory / "artifacts")
    with TestClient(app) as client:
        yield client


def test_every_rule_names_a_permission_and_the_r_alias_exists() -> None:
    assert all(rule.permission in PERMISSIONS for rule in ROUTES)
    paths = {path for rule in ROUTES for path in rule.paths()}
    assert "/api/2.0/preview/mlflow/runs/log-batch" in paths
    with pytest.raises(ValueError, match="permission"):
        RouteRule("GET", "/x", ROUTES[0].handler, "everyone")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (rule.method, path.replace("{path:path}", "0/x/artifacts/f.txt"))
        for rule in ROUTES
        for path in rule.paths()
    ],
)
def test_every_route_is_served(app_client: TestClient, method: str, path: str) -> None:
    response = app_client.request(method, path, content=b"{}" if method in ("POST", "PUT") else None)
    if response.status_code >= 400:
        assert response.json()["error_code"] != "ENDPOINT_NOT_FOUND", (method, path, response.text)
        assert response.status_code < 500, (method, path, response.text)


def test_unknown_paths_answer_endpoint_not_found(app_client: TestClient) -> None:
    for method, path in [("GET", "/api/2.0/mlflow/nope"), ("POST", "/api/2.0/mlflow/model-versions/create")]:
        response = app_client.request(method, path)
        assert response.status_code == 404
        assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_static_paths_answer_as_the_router_does(app_client: TestClient) -> None:
    """Paths without parameters are served from a dict (StaticRoutes); the rest still by Starlette."""
    create = "/api/2.0/mlflow/runs/create"
    run = app_client.post(create, json={"experiment_id": "0", "run_name": "fast"}).json()["run"]
    assert run["info"]["run_name"] == "fast"
    run_id = run["info"]["run_id"]
    alias = "/api/2.0/preview/mlflow/runs/log-metric"
    point = {"run_id": run_id, "key": "m", "value": 1.5, "timestamp": 1, "step": 0}
    assert app_client.post(alias, json=point).json() == {}
    got = app_client.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()
    assert got["run"]["data"]["metrics"][0]["value"] == 1.5
    for method, path in [("GET", create), ("DELETE", "/health")]:  # a wrong method: not found
        response = app_client.request(method, path)
        assert response.status_code == 404 and response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert app_client.head("/health").status_code == 200  # HEAD of a GET route: Starlette's rule
    refused = app_client.post(create, content=b"[1]")
    assert refused.status_code == 400 and refused.json()["error_code"] == "MALFORMED_REQUEST"

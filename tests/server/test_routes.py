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

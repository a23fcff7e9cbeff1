"""Access control in process: logins (KDF runs, cache, lockout), creators, searches, artifact paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_helpers import PASSWORD, AuthApp, make_auth_app
from runyard import passwords
from runyard.passwords import hash_password
from runyard.server.routes import ARTIFACTS
from runyard.store import auth
from starlette.testclient import TestClient

M = "/api/2.0/mlflow"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[AuthApp, TestClient]]:
    served = make_auth_app(tmp_path)
    with TestClient(served.app) as client:
        yield served, client


@pytest.fixture
def kdf_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every run of the password KDF's verification (a counting wrapper)."""
    runs: list[str] = []
    real = passwords.verify_password

    def counting(password: str, stored_hash: str) -> bool:
        runs.append(stored_hash)
        return real(password, stored_hash)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return runs


def _search(client: TestClient, user: str, password: str = PASSWORD) -> int:
    return client.post(f"{M}/experiments/search", json={}, auth=(user, password)).status_code


def test_the_kdf_runs_once_for_an_unknown_user_and_once_for_a_wrong_password(
    served: tuple[AuthApp, TestClient], kdf_runs: list[str]
) -> None:
    _app, client = served
    assert _search(client, "no-such-user") == 401
    assert len(kdf_runs) == 1
    assert _search(client, "reader", "wrong") == 401
    assert len(kdf_runs) == 2
    assert _search(client, "reader") == 200
    assert _search(client, "reader") == 200  # cached: no KDF on the next request
    assert len(kdf_runs) == 3


def test_a_password_change_ends_the_cached_login(served: tuple[AuthApp, TestClient]) -> None:
    app, client = served
    assert _search(client, "editor") == 200
    auth.set_password_hash(app.store, "editor", hash_password("new secret"))
    assert _search(client, "editor") == 401
    assert _search(client, "editor", "new secret") == 200
    auth.remove_user(app.store, "editor")
    assert _search(client, "editor", "new secret") == 401


def test_failed_logins_lock_out_with_401_and_retry_after_never_429(
    served: tuple[AuthApp, TestClient], kdf_runs: list[str]
) -> None:
    _app, client = served
    for _ in range(10):
        assert _search(client, "manager", "guess") == 401
    response = client.post(f"{M}/experiments/search", json={}, auth=("manager", PASSWORD))
    assert response.status_code == 401
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["message"].startswith("too many failed logins; try again in ")
    assert len(kdf_runs) == 10  # a locked-out attempt costs no KDF run, even with the right password
    assert "guess" not in response.text and PASSWORD not in response.text


def test_missing_and_malformed_credentials_answer_401_with_www_authenticate(
    served: tuple[AuthApp, TestClient],
) -> None:
    _app, client = served
    for headers in ({}, {"Authorization": "Basic !!!"}, {"Authorization": "Digest x"}):
        response = client.post(f"{M}/experiments/search", json={}, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert client.get("/health").status_code == 200


def test_bearer_tokens_work_until_revoked_or_expired(served: tuple[AuthApp, TestClient]) -> None:
    app, client = served
    token, value = auth.create_token(app.store, "reader", "ci")
    bearer = {"Authorization": f"Bearer {value}"}
    assert client.post(f"{M}/experiments/search", json={}, headers=bearer).status_code == 200
    auth.revoke_token(app.store, token.id)
    assert client.post(f"{M}/experiments/search", json={}, headers=bearer).status_code == 401
    _expired, old = auth.create_token(app.store, "reader", expires_ms=-1000)
    headers = {"Authorization": f"Bearer {old}"}
    assert client.post(f"{M}/experiments/search", json={}, headers=headers).status_code == 401


def test_the_creator_of_an_experiment_may_manage_it(served: tuple[AuthApp, TestClient]) -> None:
    app, client = served
    created = client.post(f"{M}/experiments/create", json={"name": "mine"}, auth=("reader", PASSWORD))
    experiment_id = created.json()["experiment_id"]
    assert auth.get_permission(app.store, experiment_id, "reader") == "MANAGE"
    deleted = client.post(
        f"{M}/experiments/delete", json={"experiment_id": experiment_id}, auth=("reader", PASSWORD)
    )
    assert deleted.status_code == 200
    other = client.post(
        f"{M}/experiments/restore", json={"experiment_id": experiment_id}, auth=("editor", PASSWORD)
    )
    assert other.status_code == 403


def test_searches_leave_out_unreadable_experiments_and_their_runs(served: tuple[AuthApp, TestClient]) -> None:
    app, client = served
    store = app.store
    shared, secret = store.create_experiment("shared"), store.create_experiment("secret")
    for experiment_id in (shared, secret):
        for _ in range(3):
            store.create_run(experiment_id, None, "admin")
    auth.set_default_permission(store, "NO_PERMISSIONS")
    auth.set_permission(store, shared, "reader", "READ")
    as_reader = ("reader", PASSWORD)

    runs = client.post(f"{M}/runs/search", json={"experiment_ids": [shared, secret]}, auth=as_reader).json()
    assert {run["info"]["experiment_id"] for run in runs["runs"]} == {shared}
    assert len(runs["runs"]) == 3 and "next_page_token" not in runs
    page = client.post(
        f"{M}/runs/search", json={"experiment_ids": [shared, secret], "max_results": 3}, auth=as_reader
    ).json()
    assert "next_page_token" not in page  # no page hints at the hidden runs
    assert client.post(f"{M}/runs/search", json={"experiment_ids": [secret]}, auth=as_reader).json() == {}
    experiments = client.post(f"{M}/experiments/search", json={}, auth=as_reader).json()["experiments"]
    assert [e["name"] for e in experiments] == ["shared"]
    everything = client.post(f"{M}/experiments/search", json={}, auth=("admin", PASSWORD)).json()
    assert {"shared", "secret"} <= {e["name"] for e in everything["experiments"]}

    direct = client.get(f"{M}/experiments/get", params={"experiment_id": secret}, auth=as_reader)
    assert direct.status_code == 403 and direct.json()["error_code"] == "PERMISSION_DENIED"

    # runyard's own search (what the terminal app on a server calls) leaves them out the same way
    ours = client.post(
        "/api/2.0/runyard/runs/search", json={"experiment_ids": [shared, secret]}, auth=as_reader
    )
    assert {run["info"]["experiment_id"] for run in ours.json()["runs"]} == {shared}
    alone = client.post("/api/2.0/runyard/runs/search", json={"experiment_ids": [secret]}, auth=as_reader)
    assert alone.json() == {"runs": []}
    overview = client.post(
        "/api/2.0/runyard/experiments/overview", json={"experiment_ids": [secret]}, auth=as_reader
    )
    assert overview.status_code == 403  # counts are read too: no count leaks the hidden runs


def test_an_artifact_path_is_checked_against_its_runs_experiment(served: tuple[AuthApp, TestClient]) -> None:
    app, client = served
    store = app.store
    mine, theirs = store.create_experiment("mine"), store.create_experiment("theirs")
    auth.set_permission(store, mine, "editor", "EDIT")
    auth.set_permission(store, theirs, "editor", "NO_PERMISSIONS")
    their_run = store.create_run(theirs, None, "admin").info.run_id
    put = client.put(
        f"{ARTIFACTS}/{theirs}/{their_run}/artifacts/f.txt", content=b"x", auth=("admin", PASSWORD)
    )
    assert put.status_code == 200
    as_editor = ("editor", PASSWORD)
    forged = f"{ARTIFACTS}/{mine}/{their_run}/artifacts/f.txt"  # my experiment's id, their run
    assert client.get(forged, auth=as_editor).status_code == 403
    assert client.put(forged, content=b"y", auth=as_editor).status_code == 403
    assert client.get(ARTIFACTS, auth=as_editor).status_code == 403  # the root lists every experiment
    assert client.get(ARTIFACTS, auth=("admin", PASSWORD)).status_code == 200


def test_users_may_read_themselves_and_change_their_own_password_with_the_current_one(
    served: tuple[AuthApp, TestClient],
) -> None:
    _app, client = served
    me = ("reader", PASSWORD)
    assert (
        client.get(f"{M}/users/get", params={"username": "reader"}, auth=me).json()["user"]["username"]
        == "reader"
    )
    assert client.get(f"{M}/users/get", params={"username": "editor"}, auth=me).status_code == 403
    body = {"username": "reader", "password": "next secret"}
    refused = client.patch(f"{M}/users/update-password", json=body, auth=me)
    assert refused.status_code == 400 and "Current password" in refused.json()["message"]
    changed = client.patch(f"{M}/users/update-password", json={**body, "current_password": PASSWORD}, auth=me)
    assert changed.status_code == 200
    assert _search(client, "reader", "next secret") == 200
    user = client.get(f"{M}/users/get", params={"username": "reader"}, auth=("reader", "next secret")).text
    assert "hash" not in user and "secret" not in user


def test_mlflow_2_experiment_permission_routes(served: tuple[AuthApp, TestClient]) -> None:
    app, client = served
    experiment_id = app.store.create_experiment("shared")
    admin = ("admin", PASSWORD)
    key = {"experiment_id": experiment_id, "username": "reader"}
    created = client.post(
        f"{M}/experiments/permissions/create", json={**key, "permission": "EDIT"}, auth=admin
    )
    user_id = auth.get_user(app.store, "reader").id
    expected = {"experiment_id": experiment_id, "user_id": user_id, "permission": "EDIT"}
    assert created.json() == {"experiment_permission": expected}
    updated = client.patch(
        f"{M}/experiments/permissions/update", json={**key, "permission": "MANAGE"}, auth=admin
    )
    assert updated.status_code == 200
    got = client.get(f"{M}/experiments/permissions/get", params=key, auth=admin).json()
    assert got["experiment_permission"]["permission"] == "MANAGE"
    assert (
        client.request("DELETE", f"{M}/experiments/permissions/delete", json=key, auth=admin).status_code
        == 200
    )
    missing = client.get(f"{M}/experiments/permissions/get", params=key, auth=admin)
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    bad = client.post(f"{M}/experiments/permissions/create", json={**key, "permission": "OWNER"}, auth=admin)
    assert bad.status_code == 400 and "READ, EDIT, MANAGE" in bad.json()["message"]

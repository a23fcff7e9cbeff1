"""`runyard users|permissions|tokens --store http://...` against a real `runyard server --auth`, as caller."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from remote_servers import ServerProcess, start_server
from runyard.cli import cli
from runyard.store import auth
from runyard.tracking.client import TrackingClient

ADMIN_PASSWORD = "admin's long secret"
BOB_PASSWORD = "bob's own secret"
CAROL_PASSWORD = "carol's secret"
CREDENTIAL_VARIABLES = (
    "RUNYARD_TRACKING_TOKEN",
    "RUNYARD_TRACKING_USERNAME",
    "RUNYARD_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_URI",
    "RUNYARD_TRACKING_URI",
)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with --auth whose first admin `admin` came from RUNYARD_ADMIN_PASSWORD."""
    running = start_server(
        tmp_path_factory.mktemp("access-remote"),
        extra_args=("--auth",),
        extra_env={"RUNYARD_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    try:
        yield running
    finally:
        running.stop()


class Caller:
    """Runs `runyard ...` in-process with one user's credentials in the environment; keeps every output."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
        self.monkeypatch, self.url = monkeypatch, url
        self.printed: list[str] = []
        for name in CREDENTIAL_VARIABLES:
            monkeypatch.delenv(name, raising=False)

    def login(self, username: str | None, password: str | None = None, token: str | None = None) -> None:
        for name in CREDENTIAL_VARIABLES:
            self.monkeypatch.delenv(name, raising=False)
        if token:
            self.monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        elif username and password:
            self.monkeypatch.setenv("RUNYARD_TRACKING_USERNAME", username)
            self.monkeypatch.setenv("RUNYARD_TRACKING_PASSWORD", password)

    def run(self, *args: str, stdin: str | None = None, ok: bool = True) -> Result:
        result = CliRunner().invoke(cli, [*args, "--store", self.url], input=stdin)
        self.printed.append(result.output)
        assert "Traceback" not in result.output
        if ok:
            assert result.exit_code == 0, result.output
        return result


@pytest.fixture
def caller(auth_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Caller:
    return Caller(monkeypatch, auth_server.url)


def _bearer_get_run(url: str, token: str, run_id: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, headers=headers).status_code


def test_admin_adds_a_user_grants_read_and_the_users_own_token_reads_until_revoked(
    auth_server: ServerProcess, caller: Caller
) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    caller.login("admin", ADMIN_PASSWORD)
    added = caller.run("users", "add", "bob", "--password-stdin", stdin=BOB_PASSWORD + "\n")
    assert "Added user 'bob'" in added.output
    admin_client = TrackingClient(auth_server.url)
    experiment_id = admin_client.create_experiment("/team/vision")
    run_id = admin_client.create_run(experiment_id, run_name="resnet").info.run_id
    granted = caller.run("permissions", "grant", "/team/vision", "bob", "read")
    assert f"'bob' has READ on '/team/vision' ({experiment_id})" in granted.output
    listing = caller.run("permissions", "list", "--experiment", "/team/vision")
    assert "/team/vision" in listing.output and "bob" in listing.output and "READ" in listing.output

    caller.login("bob", BOB_PASSWORD)  # bob makes his own token with his password
    created = caller.run("tokens", "create", "--name", "ci", "--expires", "30d")
    token = created.stdout.strip()
    assert "\n" not in token and "of 'bob'" in created.stderr and "shown only now" in created.stderr

    caller.login(None, token=token)  # MLflow's own client with the token: reads, may not write
    stock = MlflowClient(tracking_uri=auth_server.url)
    assert stock.get_run(run_id).info.run_name == "resnet"
    assert [r.info.run_id for r in stock.search_runs([experiment_id])] == [run_id]
    with pytest.raises(MlflowException, match="PERMISSION_DENIED|Permission denied"):
        stock.log_param(run_id, "lr", "0.1")

    listed = caller.run("tokens", "list")  # the token's owner, signed in with the token itself
    store = TrackingClient(auth_server.store_uri).store
    (bobs,) = auth.list_tokens(store, "bob")
    assert bobs.id in listed.output and token not in listed.output
    refused = caller.run("users", "list", ok=False)
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [refused.output.strip()] and refused.output.startswith(
        f"Error: runyard users list needs an administrator on {auth_server.url}: "
    )
    revoked = caller.run("tokens", "revoke", bobs.id)
    assert f"Revoked token {bobs.id}" in revoked.output
    assert _bearer_get_run(auth_server.url, token, run_id) == 401  # the very next request

    caller.login("admin", ADMIN_PASSWORD)
    audit = caller.run("users", "audit", "-n", "20")
    for action in ("user.create", "permission.grant", "token.create", "token.revoke"):
        assert action in audit.output
    assert "bob" in audit.output and "admin" in audit.output
    printed = "\n".join(caller.printed)
    for secret in (ADMIN_PASSWORD, BOB_PASSWORD, hashlib.sha256(token.encode()).hexdigest()):
        assert secret not in printed
    assert printed.count(token) == 1  # printed once, by `tokens create`
    logged = auth_server.log()
    assert BOB_PASSWORD not in logged and ADMIN_PASSWORD not in logged and token not in logged


def test_users_admin_passwd_remove_and_a_managers_grants_over_http(
    auth_server: ServerProcess, caller: Caller
) -> None:
    store = TrackingClient(auth_server.store_uri).store
    caller.login("admin", ADMIN_PASSWORD)
    caller.run("users", "add", "carol", "--password-stdin", stdin=CAROL_PASSWORD + "\n")
    caller.run("users", "add", "--admin", "dave", "--password-stdin", stdin="dave's\n")
    assert auth.get_user(store, "dave").is_admin
    caller.run("users", "admin", "dave", "--off")
    assert not auth.get_user(store, "dave").is_admin
    caller.run("users", "passwd", "dave", "--password-stdin", stdin="dave's new\n")
    caller.run("users", "passwd", "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")  # one's own
    listing = caller.run("users", "list")
    assert {"admin", "carol", "dave"} <= set(listing.output.split())
    caller.run("users", "remove", "dave", "--yes")
    assert "dave" not in [u.username for u in auth.list_users(store)]
    for_carol = caller.run("tokens", "create", "--user", "carol", "--name", "by-admin")
    assert "of 'carol'" in for_carol.stderr

    caller.login("carol", CAROL_PASSWORD)  # a creator gets MANAGE: she may grant on her own experiment
    TrackingClient(auth_server.url).create_experiment("/carol/own")
    caller.run("permissions", "grant", "/carol/own", "admin", "EDIT")
    revoked = caller.run("permissions", "revoke", "/carol/own", "admin")
    assert "Removed the entry of 'admin'" in revoked.output and "default (READ)" in revoked.output
    other = caller.run("tokens", "create", "--user", "admin", ok=False)
    assert other.exit_code == 1 and "needs an administrator to make tokens for others" in other.output
    everything = caller.run("permissions", "list", ok=False)
    assert everything.exit_code == 1 and "(or --experiment with MANAGE on it)" in everything.output
    assert [t.name for t in auth.list_tokens(store, "carol")] == ["by-admin"]  # her refused try made none
    caller.login("admin", ADMIN_PASSWORD)
    admin_token = caller.run("tokens", "create", "--name", "own").stdout.strip()
    admin_token_id = next(t.id for t in auth.list_tokens(store, "admin"))
    caller.login("carol", CAROL_PASSWORD)
    foreign = caller.run("tokens", "revoke", admin_token_id, ok=False)
    assert foreign.exit_code == 1 and "has no token with id" in foreign.output
    assert auth.user_of_token(store, admin_token) is not None  # untouched
    others = caller.run("tokens", "list", "--user", "admin", ok=False)
    assert others.exit_code == 1 and "needs an administrator to list others' tokens" in others.output
    assert caller.run("permissions", "default", "NO_PERMISSIONS", ok=False).exit_code == 1

    caller.login("admin", ADMIN_PASSWORD)
    assert admin_token_id in caller.run("tokens", "list", "--user", "admin").output
    caller.run("permissions", "default", "NO_PERMISSIONS")
    assert auth.default_permission(store) == "NO_PERMISSIONS"
    caller.run("permissions", "default", "READ")


def test_missing_credentials_get_a_hint_naming_the_variables(
    auth_server: ServerProcess, caller: Caller
) -> None:
    result = caller.run("users", "list", ok=False)
    assert result.exit_code == 1
    assert "needs your credentials" in result.output and "RUNYARD_TRACKING_USERNAME" in result.output
    assert "RUNYARD_TRACKING_TOKEN" in result.output and len(result.output.strip().splitlines()) == 1
    caller.login("admin", "a wrong password")
    wrong = caller.run("tokens", "list", ok=False)
    assert wrong.exit_code == 1 and "refused the credentials" in wrong.output
    assert "a wrong password" not in wrong.output


def test_a_server_without_auth_says_auth_is_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running = start_server(tmp_path / "no-auth")
    try:
        caller = Caller(monkeypatch, running.url)
        for command in (("users", "list"), ("permissions", "list"), ("tokens", "create")):
            result = caller.run(*command, ok=False)
            assert result.exit_code == 1, result.output
            assert f"Auth is off on {running.url}" in result.output
            assert len(result.output.strip().splitlines()) == 1
    finally:
        running.stop()

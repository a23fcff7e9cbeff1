"""`runyard server --auth` as a subprocess with the stock mlflow client: passwords, tokens, the auth API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from runyard.cli import cli
from runyard.passwords import hash_password
from runyard.store import auth
from runyard.tracking.client import TrackingClient
from server_helpers import ServerProcess, start_server

ADMIN_PASSWORD = "first admin's secret"
ALICE_PASSWORD = "alice's secret"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(
        tmp_path_factory.mktemp("auth-server"),
        extra_args=("--auth",),
        extra_env={"RUNYARD_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    store = TrackingClient(running.store_uri).store
    auth.add_user(store, "alice", hash_password(ALICE_PASSWORD))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def as_user(auth_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The stock client's environment pointed at the server; the test sets the credentials."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", auth_server.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5")
    mlflow.set_tracking_uri(auth_server.url)
    try:
        yield monkeypatch
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(None)


def test_the_banner_says_auth_is_on_and_the_first_admin_was_created(auth_server: ServerProcess) -> None:
    log = auth_server.log()
    assert "auth:      on" in log
    assert "Created administrator 'admin'" in log and ADMIN_PASSWORD not in log


def test_the_stock_client_logs_and_reads_with_a_username_and_password(
    auth_server: ServerProcess, as_user: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mlflow
    from mlflow import MlflowClient

    as_user.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    as_user.setenv("MLFLOW_TRACKING_PASSWORD", ALICE_PASSWORD)
    experiment_id = mlflow.set_experiment("alice-exp").experiment_id
    with mlflow.start_run() as run:
        mlflow.log_param("lr", "0.1")
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_dict({"a": 1}, "config.json")
    client = MlflowClient()
    assert client.get_run(run.info.run_id).data.params == {"lr": "0.1"}
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == list(range(5))
    found = mlflow.search_runs([experiment_id], filter_string="params.lr = '0.1'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=str(tmp_path))
    assert (Path(local) / "config.json").read_text().strip().startswith("{")
    store = TrackingClient(auth_server.store_uri).store
    assert auth.get_permission(store, experiment_id, "alice") == "MANAGE"  # the creator's


def test_the_stock_client_logs_and_reads_with_a_token(
    auth_server: ServerProcess, as_user: pytest.MonkeyPatch
) -> None:
    import mlflow
    from mlflow import MlflowClient

    store = TrackingClient(auth_server.store_uri).store
    _token, value = auth.create_token(store, "alice", "ci")
    as_user.setenv("MLFLOW_TRACKING_TOKEN", value)
    mlflow.set_experiment("token-exp")
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.9)
    assert MlflowClient().get_run(run.info.run_id).data.metrics == {"acc": 0.9}


def test_wrong_credentials_fail_at_once_with_a_clear_error_and_no_retry(
    auth_server: ServerProcess, as_user: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    as_user.setenv("MLFLOW_TRACKING_USERNAME", "mallory")
    as_user.setenv("MLFLOW_TRACKING_PASSWORD", "guess")
    with pytest.raises(MlflowException, match="Invalid credentials"):
        MlflowClient().search_experiments()
    assert auth_server.log().count("(user 'mallory')") == 1  # one request: the client did not retry
    assert "guess" not in auth_server.log()


def test_mlflow_auth_service_client_manages_users_and_permissions(
    auth_server: ServerProcess, as_user: pytest.MonkeyPatch
) -> None:
    from mlflow.server import get_app_client

    as_user.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    as_user.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    store = TrackingClient(auth_server.store_uri).store
    experiment_id = store.create_experiment("managed")
    service = get_app_client("basic-auth", tracking_uri=auth_server.url)
    created = service.create_user("carol", "carol's secret")
    assert created.username == "carol" and not created.is_admin
    assert service.get_user("carol").id == created.id
    service.grant_user_permission("carol", "experiment", experiment_id, "EDIT")
    granted = service.get_user_permission("carol", "experiment", experiment_id)
    assert (granted.permission, granted.allowed) == ("EDIT", True)
    service.revoke_user_permission("carol", "experiment", experiment_id)
    assert service.get_user_permission("carol", "experiment", experiment_id).permission == "READ"
    service.update_user_password("carol", "carol's new secret")
    service.update_user_admin("carol", True)
    assert service.get_user("carol").is_admin
    service.delete_user("carol")
    assert "carol" not in [u.username for u in auth.list_users(store)]
    actions = [(e.actor, e.action) for e in auth.audit_entries(store)]
    assert ("admin", "user.delete") in actions and ("admin", "permission.grant") in actions


def test_auth_on_a_store_without_users_refuses_to_start_naming_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNYARD_ADMIN_PASSWORD", raising=False)
    result = CliRunner().invoke(cli, ["server", "--auth", "--store", str(tmp_path / "new.db")])
    assert result.exit_code == 2
    assert "runyard users add --admin" in result.output and "RUNYARD_ADMIN_PASSWORD" in result.output
    assert "Traceback" not in result.output


def test_auth_without_tls_on_a_public_interface_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runyard.server.app

    served: list[dict[str, object]] = []
    monkeypatch.setattr(runyard.server.app, "serve", lambda *args, **kwargs: served.append(kwargs))
    monkeypatch.setenv("RUNYARD_ADMIN_PASSWORD", "x")
    store = str(tmp_path / "s.db")
    result = CliRunner().invoke(cli, ["server", "--auth", "--store", store, "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert "passwords and tokens travel in clear" in result.output
    assert served[0]["auth"] is True
    quiet = CliRunner().invoke(
        cli, ["server", "--auth", "--store", store, "--ssl-keyfile", "k.pem", "--ssl-certfile", "c.pem"]
    )
    assert "travel in clear" not in quiet.output and "https://" in quiet.output
    assert served[1]["ssl_certfile"] == "c.pem"
    off = CliRunner().invoke(cli, ["server", "--store", store])
    assert "auth:      off" in off.output
    mlflow_style = CliRunner().invoke(cli, ["server", "--app-name", "basic-auth", "--store", store])
    assert "auth:      on" in mlflow_style.output and served[-1]["auth"] is True


@pytest.mark.postgres
def test_two_workers_share_users_and_a_password_change_ends_cached_logins_on_both(
    postgres_database_url: str | None, tmp_path: Path
) -> None:
    if postgres_database_url is None:
        pytest.skip("set RUNYARD_TEST_POSTGRES_URL to run the PostgreSQL server test")
    import uuid
    from urllib.parse import quote

    import httpx
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_database_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    uri = f"{postgres_database_url}?options={quote(f'-csearch_path={schema}')}"
    two_workers = start_server(
        tmp_path / "pg",
        store_uri=uri,
        extra_args=("--workers", "2", "--auth"),
        extra_env={"RUNYARD_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    search = f"{two_workers.url}/api/2.0/mlflow/experiments/search"

    def statuses(password: str) -> set[int]:
        # A new connection each time, so that both worker processes answer some of them.
        return {httpx.post(search, json={}, auth=("pat", password)).status_code for _ in range(6)}

    try:
        admin = ("admin", ADMIN_PASSWORD)
        created = httpx.post(
            f"{two_workers.url}/api/2.0/mlflow/users/create",
            json={"username": "pat", "password": "old secret"},
            auth=admin,
        )
        assert created.status_code == 200, created.text
        assert statuses("old secret") == {200}
        changed = httpx.patch(
            f"{two_workers.url}/api/2.0/mlflow/users/update-password",
            json={"username": "pat", "password": "new secret"},
            auth=admin,
        )
        assert changed.status_code == 200, changed.text
        assert statuses("old secret") == {401}
        assert statuses("new secret") == {200}
    finally:
        two_workers.stop()
        from runyard.store import db as runyard_db

        for database in list(runyard_db._databases.values()):
            if database.uri == uri:
                database.dispose()

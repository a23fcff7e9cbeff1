"""`runyard server`: serve a store over MLflow's REST API (and its artifact proxy) with uvicorn."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

import click

from ..config import mask_uri, normalize_tracking_uri
from ..exceptions import MissingExtra
from .common import refuse_remote, resolve_store

if TYPE_CHECKING:
    from ..store.sql_store import SqlStore

STORE_ENV = "RUNYARD_SERVER_STORE"
ARTIFACTS_ENV = "RUNYARD_SERVER_ARTIFACTS"
AUTH_ENV = "RUNYARD_SERVER_AUTH"
ADMIN_PASSWORD_ENV = "RUNYARD_ADMIN_PASSWORD"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def app_from_environment() -> object:
    """The app of one uvicorn worker process (--workers N): configured through the environment."""
    from ..server.app import create_app

    _configure_logging()
    return create_app(
        os.environ[STORE_ENV], os.environ.get(ARTIFACTS_ENV) or None, auth=os.environ.get(AUTH_ENV) == "1"
    )


def _configure_logging() -> None:
    logger = logging.getLogger("runyard.server")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _require_extra() -> None:
    from importlib.util import find_spec

    if find_spec("starlette") is None or find_spec("uvicorn") is None:
        raise MissingExtra("runyard server needs starlette and uvicorn: pip install 'runyard[server]'")


@click.command("server")
@click.option(
    "--store",
    "--backend-store-uri",
    "store",
    metavar="URI",
    default=None,
    help="Tracking store: a database URL or a path to a .db file "
    "[default: $RUNYARD_TRACKING_URI, else ./runyard.db].",
)
@click.option(
    "--artifacts-destination",
    "--default-artifact-root",
    "artifacts_destination",
    metavar="DIR",
    default=None,
    help="Where artifacts sent through the server are stored [default: the store's artifact root, "
    "runyard-artifacts/ beside a SQLite file, or $RUNYARD_ARTIFACT_ROOT].",
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=True,
    show_default=True,
    help="Accepted for MLflow compatibility: the artifact proxy is always on.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", "-p", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    "-w",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (PostgreSQL stores only: SQLite has one writer).",
)
@click.option(
    "--auth/--no-auth",
    default=False,
    show_default=True,
    help="Require a user (HTTP Basic or a bearer token) with permission on each experiment. The first "
    f"admin: `runyard users add --admin NAME`, or ${ADMIN_PASSWORD_ENV} on a store without users.",
)
@click.option(
    "--app-name",
    type=click.Choice(["basic-auth"]),
    default=None,
    help="MLflow's way to turn authentication on: --app-name basic-auth is --auth.",
)
@click.option("--ssl-keyfile", metavar="FILE", default=None, help="TLS private key (serve https).")
@click.option("--ssl-certfile", metavar="FILE", default=None, help="TLS certificate (serve https).")
def server_command(
    store: str | None,
    artifacts_destination: str | None,
    serve_artifacts: bool,
    host: str,
    port: int,
    workers: int,
    auth: bool,
    app_name: str | None,
    ssl_keyfile: str | None,
    ssl_certfile: str | None,
) -> None:
    """Run a tracking server that speaks MLflow's REST API on a runyard store.

    Every MLflow client (Python, Java, R, and integrations that log through MLflow) logs into the
    store unchanged: point MLFLOW_TRACKING_URI at the server. runyard's TUI and CLI see the runs at
    once. Artifacts go through the server (mlflow-artifacts:/ URIs), like `mlflow server
    --serve-artifacts`; so do models: mlflow.<flavor>.log_model and autolog work, and
    mlflow.<flavor>.load_model("models:/<model_id>") loads them back. The model registry and traces
    are not implemented.

    \b
    Examples:
      runyard server --store runyard.db --port 5000
      MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python train.py
      runyard server --store postgresql://user@db/runyard --host 0.0.0.0 --workers 4
      RUNYARD_ADMIN_PASSWORD=... runyard server --auth --ssl-keyfile key.pem --ssl-certfile cert.pem
    """
    _require_extra()
    auth = auth or app_name == "basic-auth"
    uri = normalize_tracking_uri(resolve_store(store))
    refuse_remote(uri, "server", "serve the database itself, e.g. --store runyard.db or postgresql://...")
    if workers > 1 and uri.startswith("sqlite"):
        raise click.UsageError(
            f"--workers {workers} needs a PostgreSQL store: SQLite has a single writer, and one worker "
            "already groups concurrent writes. Use --workers 1, or serve a PostgreSQL store, e.g. "
            "runyard server --store postgresql://user@host/db --workers 4."
        )
    from runyard.tracking.client import TrackingClient

    destination = os.path.abspath(artifacts_destination) if artifacts_destination else None
    client = TrackingClient(uri, artifact_root=destination)
    client.store.db.create_if_missing()  # opens (or creates) the store now: a bad URI fails before the banner
    client.list_experiments()
    if bool(ssl_keyfile) != bool(ssl_certfile):
        raise click.UsageError("TLS needs both --ssl-keyfile and --ssl-certfile.")
    if auth:
        _bootstrap_admin(client.store)
    root = destination or client.store.artifact_root
    _configure_logging()
    shown_host = f"[{host}]" if ":" in host else host
    scheme = "https" if ssl_certfile else "http"
    click.echo(
        f"runyard server {_version()} listening on {scheme}://{shown_host}:{port}\n"
        f"  store:     {mask_uri(uri)}\n"
        f"  artifacts: {root}\n"
        f"  workers:   {workers}\n"
        f"  auth:      {_auth_line(auth)}\n"
        f"  clients:   export MLFLOW_TRACKING_URI={scheme}://{shown_host}:{port}",
        err=True,
    )
    if auth and not ssl_certfile and host not in LOOPBACK_HOSTS:
        click.echo(
            f"  warning:   --auth without TLS on {host}: passwords and tokens travel in clear. Pass "
            "--ssl-keyfile/--ssl-certfile, or serve behind an https reverse proxy.",
            err=True,
        )
    from ..server.app import serve

    if workers > 1:
        os.environ[STORE_ENV] = uri
        os.environ[ARTIFACTS_ENV] = root
        os.environ[AUTH_ENV] = "1" if auth else "0"
    serve(
        uri,
        root,
        host,
        port,
        workers,
        "runyard.cli.server:app_from_environment",
        auth=auth,
        ssl_keyfile=ssl_keyfile,
        ssl_certfile=ssl_certfile,
    )


def _auth_line(auth: bool) -> str:
    if auth:
        return "on (users, tokens and experiment permissions from the store)"
    return "off (anyone who reaches the port may read and write; --auth turns it on)"


def _bootstrap_admin(store: SqlStore) -> None:
    """On a store without users: create `admin` from $RUNYARD_ADMIN_PASSWORD, or refuse to start."""
    from ..passwords import hash_password
    from ..store import auth as store_auth

    if store_auth.count_users(store) > 0:
        return
    password = os.environ.get(ADMIN_PASSWORD_ENV, "")
    if not password:
        raise click.UsageError(
            "--auth needs a first administrator and this store has no users: create one with "
            f"`runyard users add --admin NAME --store {mask_uri(store.db.uri)}`, or start the server with "
            f"{ADMIN_PASSWORD_ENV} set to create user 'admin' with that password."
        )
    store_auth.add_user(store, "admin", hash_password(password), is_admin=True, actor="server")
    click.echo("Created administrator 'admin' with the password in $" + ADMIN_PASSWORD_ENV + ".", err=True)


def _version() -> str:
    from .. import __version__

    return __version__

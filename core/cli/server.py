"""`runyard server`: serve a store over MLflow's REST API (and its artifact proxy) with uvicorn."""

from __future__ import annotations

import logging
import os
import sys

import click

from ..config import mask_uri, normalize_tracking_uri
from ..exceptions import MissingExtra
from .common import refuse_remote, resolve_store

STORE_ENV = "RUNYARD_SERVER_STORE"
ARTIFACTS_ENV = "RUNYARD_SERVER_ARTIFACTS"


def app_from_environment() -> object:
    """The app of one uvicorn worker process (--workers N): configured through the environment."""
    from ..server.app import create_app

    _configure_logging()
    return create_app(os.environ[STORE_ENV], os.environ.get(ARTIFACTS_ENV) or None)


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
def server_command(
    store: str | None,
    artifacts_destination: str | None,
    serve_artifacts: bool,
    host: str,
    port: int,
    workers: int,
) -> None:
    """Run a tracking server that speaks MLflow's REST API on a runyard store.

    Every MLflow client (Python, Java, R, and integrations that log through MLflow) logs into the
    store unchanged: point MLFLOW_TRACKING_URI at the server. runyard's TUI and CLI see the runs at
    once. Artifacts go through the server (mlflow-artifacts:/ URIs), like `mlflow server
    --serve-artifacts`.

    \b
    Examples:
      runyard server --store runyard.db --port 5000
      MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python train.py
      runyard server --store postgresql://user@db/runyard --host 0.0.0.0 --workers 4
    """
    _require_extra()
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
    root = destination or client.store.artifact_root
    _configure_logging()
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(
        f"runyard server {_version()} listening on http://{shown_host}:{port}\n"
        f"  store:     {mask_uri(uri)}\n"
        f"  artifacts: {root}\n"
        f"  workers:   {workers}\n"
        f"  clients:   export MLFLOW_TRACKING_URI=http://{shown_host}:{port}",
        err=True,
    )
    from ..server.app import serve

    if workers > 1:
        os.environ[STORE_ENV] = uri
        os.environ[ARTIFACTS_ENV] = root
    serve(uri, root, host, port, workers, "runyard.cli.server:app_from_environment")


def _version() -> str:
    from .. import __version__

    return __version__

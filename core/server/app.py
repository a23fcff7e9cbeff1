"""The ASGI application: the route table mounted on Starlette, JSON errors, one access-log line a request."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import EndpointNotFound
from .http import JsonResponse, error_response
from .routes import ROUTES, RouteRule
from .state import ServerState

access_logger = logging.getLogger("runyard.server.access")


def _endpoint(state: ServerState, rule: RouteRule) -> Callable[[Request], Awaitable[Response]]:
    handler = rule.handler

    async def endpoint(request: Request) -> Response:
        try:
            if state.access is not None:
                refusal = await state.access.check(state, rule, request)
                if refusal is not None:
                    return refusal
            result = await handler(state, request)
        except Exception as error:  # noqa: BLE001 - every failure answers MLflow's JSON error
            return error_response(error)
        if isinstance(result, Response):
            return result
        return JsonResponse(result)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(
        EndpointNotFound(
            f"No endpoint {request.method} {request.url.path} on this server (runyard speaks MLflow's "
            "tracking API; the model registry and traces are not implemented)."
        )
    )


class StaticRoutes:
    """ASGI middleware: a request for a path without parameters goes straight to its endpoint.

    Starlette's router tries the ~100 routes' patterns in turn and wraps every endpoint in its
    exception layer; the endpoints answer every error themselves, so the hot routes (log-metric,
    runs/create, ...) are looked up in one dict. Anything else (a path with parameters, HEAD, a
    wrong method, an unknown path, a root_path) goes through Starlette as before.
    """

    def __init__(
        self, app: ASGIApp, endpoints: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]]
    ):
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from the table, or pass the request on."""
        endpoint = None
        if scope["type"] == "http" and not scope.get("root_path"):
            endpoint = self.endpoints.get((scope["method"], scope["path"]))
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)


class AccessLog:
    """ASGI middleware: one line per request (client, method, path, status, milliseconds)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and log it when the answer started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            client = scope.get("client")
            access_logger.info(
                "%s %s %s %d %.1f ms",
                client[0] if client else "-",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )


def create_app(
    store_uri: str,
    artifacts_destination: str | Path | None = None,
    linger_seconds: float = 0.0,
    state_hook: Callable[[ServerState], Any] | None = None,
    auth: bool = False,
) -> Starlette:
    """A Starlette app serving the store at store_uri; artifacts under artifacts_destination.

    artifacts_destination defaults to the store's artifact root (runyard-artifacts/ beside a SQLite
    file, or RUNYARD_ARTIFACT_ROOT), so runyard's own clients read the files the server writes.
    With auth, every route but /health and /version needs a signed-in user with the route's permission.
    """
    from runyard.tracking.client import TrackingClient

    from ..config import normalize_tracking_uri
    from .writes import WriteGroup

    destination = str(Path(artifacts_destination).absolute()) if artifacts_destination else None
    client = TrackingClient(normalize_tracking_uri(store_uri), artifact_root=destination)
    store = client.store
    store.db.create_if_missing()  # a server writes: serving a new SQLite file creates the store
    root = Path(destination or store.artifact_root)
    state = ServerState(client=client, writes=WriteGroup(store, linger_seconds), artifacts_destination=root)
    if auth:
        from .access import AccessControl

        state.access = AccessControl()
    if state_hook is not None:
        state_hook(state)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.call(_ensure_default_experiment, state)
        state.writes.start()
        try:
            yield
        finally:
            await state.call(state.writes.stop)

    endpoints = {(rule.method, path): _endpoint(state, rule) for rule in ROUTES for path in rule.paths()}
    routes = [
        Route(path, endpoint, methods=[method], name=f"{method} {path}")
        for (method, path), endpoint in endpoints.items()
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=lifespan,
    )
    app.state.runyard = state
    static = {key: endpoint for key, endpoint in endpoints.items() if "{" not in key[1]}
    app.add_middleware(StaticRoutes, endpoints=static)
    app.add_middleware(AccessLog)  # the outer one: it times and logs both ways
    return app


def _ensure_default_experiment(state: ServerState) -> None:
    """MLflow clients log to experiment "0" when none is set: make sure it exists, as MLflow's server does."""
    from ..exceptions import ExperimentExists, ExperimentNotFound

    try:
        state.store.get_experiment("0")
    except ExperimentNotFound:
        try:
            state.store.get_or_create_experiment("Default")
        except ExperimentExists:
            pass  # a "Default" in the trash, or one with another id: leave the user's store as it is


def serve(
    store_uri: str,
    artifact_root: str,
    host: str,
    port: int,
    workers: int,
    factory: str,
    auth: bool = False,
    ssl_keyfile: str | None = None,
    ssl_certfile: str | None = None,
) -> None:
    """Run the server with uvicorn: in this process, or `workers` processes built by `factory` (a path)."""
    import uvicorn

    options: dict[str, Any] = {"host": host, "port": port, "access_log": False, "log_level": "warning"}
    if ssl_keyfile or ssl_certfile:
        options.update(ssl_keyfile=ssl_keyfile, ssl_certfile=ssl_certfile)
    if workers == 1:
        uvicorn.run(create_app(store_uri, artifact_root, auth=auth), **options)
    else:
        uvicorn.run(factory, factory=True, workers=workers, **options)

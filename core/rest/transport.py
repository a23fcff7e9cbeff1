"""One HTTP connection pool to a tracking server: credentials, TLS, timeouts, retries and error mapping.

httpx is imported here (and only in runyard.rest), when a remote tracking URI is first used. Requests
are retried with exponential backoff on connection errors and on 5xx answers only (and on 429, which a
proxy may send); a 4xx is the caller's mistake and raised at once as runyard's exception for MLflow's
error code. Credentials come from RUNYARD_TRACKING_TOKEN / _USERNAME / _PASSWORD, else MLflow's
MLFLOW_TRACKING_* names; a token wins over username and password. They are never printed: the
Transport's repr and every error message show the URL without them.

Self-signed TLS: MLFLOW_TRACKING_SERVER_CERT_PATH (or RUNYARD_TRACKING_SERVER_CERT_PATH) names a CA
bundle; MLFLOW_TRACKING_INSECURE_TLS=true (or RUNYARD_...) skips verification.
"""

from __future__ import annotations

import json
import os
import random
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from runyard.config import mask_uri
from runyard.exceptions import (
    ExperimentExists,
    InvalidInput,
    RunyardError,
    StoreError,
)

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_RETRIES = 5
BACKOFF_SECONDS = 0.25  # first wait; doubles per attempt, with jitter, capped at MAX_BACKOFF_SECONDS
MAX_BACKOFF_SECONDS = 8.0
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class ServerUnavailable(StoreError):
    """The tracking server did not answer (connection refused, timeout, 5xx) after every retry."""


class AuthenticationFailed(RunyardError, PermissionError):
    """The server refused the credentials (401): say which settings to check."""


class PermissionDenied(RunyardError, PermissionError):
    """The server refused the operation for this user (403)."""


class RemoteNotFound(RunyardError, KeyError):
    """The server answered RESOURCE_DOES_NOT_EXIST or ENDPOINT_NOT_FOUND (404)."""

    def __init__(self, message: str, error_code: str = "RESOURCE_DOES_NOT_EXIST") -> None:
        super().__init__(message)
        self.error_code = error_code

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _setting(*names: str) -> str | None:
    """The first of these environment variables that is set and not empty."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _flag(*names: str) -> bool:
    value = _setting(*names)
    return value is not None and value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Credentials:
    """What a request carries: a bearer token, or a username and password (repr never shows secrets)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> Credentials:
        """RUNYARD_TRACKING_* settings win over MLFLOW_TRACKING_* ones; a token wins over a password."""
        token = _setting("RUNYARD_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN")
        if token:
            return cls(token=token)
        username = _setting("RUNYARD_TRACKING_USERNAME", "MLFLOW_TRACKING_USERNAME")
        password = _setting("RUNYARD_TRACKING_PASSWORD", "MLFLOW_TRACKING_PASSWORD")
        if username and password:
            return cls(username=username, password=password)
        return cls()

    def headers(self) -> dict[str, str]:
        """The Authorization header (empty without credentials)."""
        import base64

        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.username and self.password is not None:
            raw = f"{self.username}:{self.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
        return {}


def tls_verify() -> bool | str:
    """httpx's `verify`: False for insecure TLS, the CA bundle's path when one is given, else True."""
    if _flag("RUNYARD_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_INSECURE_TLS"):
        return False
    return _setting("RUNYARD_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_SERVER_CERT_PATH") or True


def _verify_for(base_url: str) -> bool | str | ssl.SSLContext:
    """httpx's `verify` for this server: tls_verify() for https; for plain http, a context trusting nothing.

    Plain HTTP never does TLS (requests are relative to the base URL, redirects are not followed), and
    loading the CA bundle costs ~90 ms of CPU on every start of the app; should a TLS connection happen
    anyway, it fails verification instead of going unverified.
    """
    if base_url.lower().startswith("https://"):
        return tls_verify()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """A URL without user:password@ and the credentials it carried (None when it had none)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url.rstrip("/"), None
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)).rstrip("/")
    from urllib.parse import unquote

    password = unquote(parts.password) if parts.password is not None else None
    return clean, Credentials(username=unquote(parts.username), password=password)


def import_http_client() -> None:
    """Import httpx and its connection layer now, for a caller about to import other modules in a thread."""
    import httpcore  # noqa: F401 - httpx imports it on the first request otherwise
    import httpx  # noqa: F401


def is_remote_uri(uri: str) -> bool:
    """True for http:// and https:// tracking URIs (a tracking server)."""
    return uri.lower().startswith(("http://", "https://"))


class Transport:
    """A pooled HTTP client of one tracking server (thread-safe; a forked child opens its own pool)."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        url, in_url = split_credentials(base_url)
        self.base_url = url
        self.credentials = credentials or in_url or Credentials.from_env()
        self.timeout = timeout
        self.retries = retries
        self._client: httpx.Client | None = None
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r})"

    @property
    def client(self) -> httpx.Client:
        """The connection pool, created on first use (and anew in a forked child)."""
        if self._client is None or self._pid != os.getpid():
            import httpx

            self._pid = os.getpid()
            self._client = httpx.Client(
                base_url=self.base_url,
                headers={"User-Agent": _user_agent(), **self.credentials.headers()},
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                verify=_verify_for(self.base_url),
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
            )
        return self._client

    def close(self) -> None:
        """Close the pool (idempotent)."""
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
        self._client = None

    # ------------------------------------------------------------------ requests
    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | IO[bytes] | None = None,
        retries: int | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send a request, retrying connection errors and 5xx with backoff; a 4xx raises runyard's error.

        A file as content is streamed (send it with retries=0: a retry could not rewind it); timeout, when
        given, replaces the pool's read timeout for this request.
        """
        import httpx

        options: dict[str, Any] = {} if timeout is None else {"timeout": httpx.Timeout(timeout, connect=10.0)}

        attempts = (self.retries if retries is None else retries) + 1
        last: BaseException | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(_backoff(attempt))
            try:
                response = self.client.request(
                    method,
                    path,
                    json=dict(json_body) if json_body is not None else None,
                    params=_query(params),
                    content=content,
                    **options,
                )
            except (httpx.TransportError, OSError) as error:  # refused, reset, timed out, DNS
                last = error
                continue
            if response.status_code in RETRIED_STATUSES and attempt + 1 < attempts:
                last = None
                continue
            if response.status_code >= 400:
                raise error_for(response, self.base_url)
            return response
        if last is None:
            raise ServerUnavailable(
                f"The tracking server {mask_uri(self.base_url)} kept failing; try again later."
            )
        raise ServerUnavailable(
            f"Cannot reach the tracking server {mask_uri(self.base_url)} ({type(last).__name__}: "
            f"{_first_line(last)}); check that it runs and the URL is right."
        ) from None

    def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        retries: int | None = None,
    ) -> dict[str, Any]:
        """A JSON API call: GET sends body as the query string, others as a JSON body; returns the answer."""
        if method == "GET":
            response = self.request(method, path, params=body, retries=retries)
        else:
            response = self.request(method, path, json_body=body or {}, retries=retries)
        if not response.content:
            return {}
        try:
            answer = response.json()
        except ValueError:
            where = mask_uri(self.base_url)
            raise StoreError(
                f"The tracking server {where} answered {path} with something that is not JSON."
            ) from None
        return answer if isinstance(answer, dict) else {"value": answer}


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str | int | float | bool | None]] | None:
    """Query parameters as MLflow expects them: lists repeated, booleans lowercase."""
    if params is None:
        return None
    items: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            items.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return items


def _backoff(attempt: int) -> float:
    base = min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (attempt - 1))
    return base * (0.5 + random.random() / 2)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return mask_uri(text[0]) if text else ""


def _user_agent() -> str:
    from runyard import __version__

    return f"runyard/{__version__}"


def error_for(response: httpx.Response, base_url: str) -> RunyardError:
    """runyard's exception for an error answer (MLflow's {"error_code", "message"} when the body has it)."""
    code, message = "", ""
    try:
        payload = json.loads(response.content or b"{}")
        if isinstance(payload, dict):
            code = str(payload.get("error_code") or "")
            message = str(payload.get("message") or "")
    except ValueError:
        pass
    status = response.status_code
    where = mask_uri(base_url)
    message = mask_uri(message) or f"HTTP {status} from {where}"
    if status == 401:
        retry_after = response.headers.get("Retry-After")
        hint = f" (try again in {retry_after} s)" if retry_after else ""
        return AuthenticationFailed(
            f"The tracking server {where} refused the credentials{hint}: {message}. Set "
            "RUNYARD_TRACKING_TOKEN, or RUNYARD_TRACKING_USERNAME and RUNYARD_TRACKING_PASSWORD "
            "(MLflow's MLFLOW_TRACKING_* names work too)."
        )
    if status == 403:
        return PermissionDenied(message)
    if code == "RESOURCE_ALREADY_EXISTS":
        return ExperimentExists(message)
    if status == 404 or code in ("RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND"):
        return RemoteNotFound(message, code or "ENDPOINT_NOT_FOUND")
    if 400 <= status < 500:
        return InvalidInput(message)
    return ServerUnavailable(f"The tracking server {where} failed: {message}")

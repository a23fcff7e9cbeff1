"""The HTTP transport of remote stores: retries only what may succeed later, maps errors, hides secrets."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from runyard.exceptions import ExperimentExists, InvalidInput
from runyard.rest.transport import (
    AuthenticationFailed,
    Credentials,
    RemoteNotFound,
    ServerUnavailable,
    Transport,
    split_credentials,
    tls_verify,
)


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, body) of the server's script and records the headers."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()

    def _answer(self) -> None:
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        server.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))  # type: ignore[attr-defined]
        status, body = server.script.pop(0) if server.script else (200, {})  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    httpd.script = []  # type: ignore[attr-defined]
    httpd.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def test_5xx_is_retried_and_the_answer_returned(server: ThreadingHTTPServer) -> None:
    server.script += [(503, {"error_code": "TEMPORARILY_UNAVAILABLE"}), (200, {"experiment_id": "1"})]  # type: ignore[attr-defined]
    transport = Transport(_url(server), Credentials(), retries=2)
    transport_sleep = pytest.MonkeyPatch()
    transport_sleep.setattr("runyard.rest.transport._backoff", lambda attempt: 0.0)
    try:
        answer = transport.call("POST", "/api/2.0/mlflow/experiments/create", {"name": "x"})
    finally:
        transport_sleep.undo()
    assert answer == {"experiment_id": "1"}
    assert len(server.seen) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad key"}, InvalidInput),
        (400, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": "exists"}, ExperimentExists),
        (404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no run"}, RemoteNotFound),
        (401, {"error_code": "UNAUTHENTICATED", "message": "who?"}, AuthenticationFailed),
    ],
)
def test_a_4xx_is_raised_at_once_as_runyards_error(
    server: ThreadingHTTPServer, status: int, body: dict[str, str], error: type[Exception]
) -> None:
    server.script.append((status, body))  # type: ignore[attr-defined]
    with pytest.raises(error):
        Transport(_url(server), Credentials(), retries=3).call(
            "GET", "/api/2.0/mlflow/runs/get", {"run_id": "r"}
        )
    assert len(server.seen) == 1  # type: ignore[attr-defined]  # never retried


def test_an_unreachable_server_says_so_without_the_password() -> None:
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = Transport(f"http://alice:s3cret@127.0.0.1:{port}", retries=1)
    assert "s3cret" not in repr(transport) and "s3cret" not in transport.base_url
    with pytest.raises(ServerUnavailable, match="Cannot reach the tracking server") as caught:
        transport.call("GET", "/health")
    assert "s3cret" not in str(caught.value)


def test_credentials_token_wins_and_runyard_names_win_over_mlflow_names(
    server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "bob")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw")
    monkeypatch.setenv("RUNYARD_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("RUNYARD_TRACKING_PASSWORD", "pw2")
    assert Credentials.from_env() == Credentials(username="alice", password="pw2")
    assert "pw2" not in repr(Credentials.from_env())
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")
    assert Credentials.from_env().headers() == {"Authorization": "Bearer tok"}
    Transport(_url(server)).call("GET", "/health")
    assert server.seen[0][2]["Authorization"] == "Bearer tok"  # type: ignore[attr-defined]


def test_credentials_in_the_url_are_taken_out_of_it() -> None:
    url, credentials = split_credentials("https://al%40ce:p%3Aw@host:8443/prefix/")
    assert url == "https://host:8443/prefix"
    assert credentials == Credentials(username="al@ce", password="p:w")


def test_tls_settings_follow_mlflows_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tls_verify() is True
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", "/etc/ca.pem")
    assert tls_verify() == "/etc/ca.pem"
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    assert tls_verify() is False


def test_a_plain_http_server_is_opened_without_loading_the_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    loaded: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def record(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loaded.append(args or kwargs)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", record)
    plain = Transport("http://127.0.0.1:1")
    assert plain.client is not None and loaded == []
    secure = Transport("https://127.0.0.1:1")
    assert secure.client is not None and loaded  # https still verifies against the CA bundle
    plain.close()
    secure.close()

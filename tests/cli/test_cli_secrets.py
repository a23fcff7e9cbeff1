"""The `runyard` command never prints a password or token, whatever the URL looks like."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from runyard.cli import cli
from runyard.config import normalize_tracking_uri

# Port 1 refuses at once: every command fails to connect and prints the store in its error.
UNREACHABLE = [
    ("postgresql+psycopg://postgres:my secret@127.0.0.1:1/runs", "my secret"),
    ("postgresql://user:p@ss@127.0.0.1:1/runs", "ss@"),
    ("postgresql://user:p@ss w@rd@127.0.0.1:1/runs", "ss w"),
    ("postgresql://127.0.0.1:1/runs?password=hunter2", "hunter2"),
]


@pytest.mark.parametrize(("uri", "secret"), UNREACHABLE)
@pytest.mark.parametrize(
    "command",
    [
        ["runs", "list"],
        ["runs", "list", "--json"],
        ["experiments", "create", "/e"],
        ["ui"],
        ["db", "upgrade"],
    ],
)
def test_password_never_printed(uri: str, secret: str, command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--store", uri])
    assert result.exit_code != 0
    assert "***" in result.output, result.output
    assert secret not in result.output
    assert secret.split()[0] not in result.output.replace("postgres", "")
    assert "Traceback" not in result.output


def test_raw_at_in_password_reaches_the_driver_whole() -> None:
    from sqlalchemy.engine import make_url

    url = make_url(normalize_tracking_uri("postgresql://user:p@ss@db.example:5432/runs"))
    assert (url.username, url.password, url.host, url.database) == ("user", "p@ss", "db.example", "runs")
    assert normalize_tracking_uri("postgresql://user:pw@host/db") == "postgresql+psycopg://user:pw@host/db"

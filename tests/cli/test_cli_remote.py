"""The command line on a tracking server: --store http://... works, database-only commands say why not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from remote_servers import ServerProcess, start_server
from runyard import Metric, TrackingClient
from runyard.cli import cli


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A runyard server holding one experiment with two runs."""
    running = start_server(tmp_path_factory.mktemp("cli-remote"))
    client = TrackingClient(running.url)
    experiment = client.create_experiment("/cli/remote")
    for name, accuracy in (("good", 0.95), ("bad", 0.4)):
        run_id = client.create_run(experiment, run_name=name).info.run_id
        client.log_batch(run_id, metrics=[Metric("accuracy", accuracy, 1, 0)])
    try:
        yield running
    finally:
        running.stop()


def test_runs_search_on_a_server(server: ServerProcess) -> None:
    args = ["runs", "search", "--store", server.url, "-e", "/cli/remote", "-f", "metrics.accuracy > 0.9"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "good" in result.output and "bad" not in result.output


def test_experiments_list_from_the_environment(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_TRACKING_URI", server.url)
    result = CliRunner().invoke(cli, ["experiments", "list"])
    assert result.exit_code == 0, result.output
    assert "/cli/remote" in result.output


def test_db_upgrade_refuses_a_server_url_and_says_what_to_do(server: ServerProcess) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--store", server.url])
    assert result.exit_code == 2
    assert "works on a database, not on a tracking server" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["server"], "works on a database, not on a tracking server"),
    ],
)
def test_commands_that_need_the_database_say_where_to_run_them(
    server: ServerProcess, command: list[str], says: str
) -> None:
    result = CliRunner().invoke(cli, [*command, "--store", server.url])
    assert result.exit_code == 2
    assert says in result.output and "Traceback" not in result.output


def test_an_unreachable_server_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from runyard.rest import transport

    monkeypatch.setattr(transport, "DEFAULT_RETRIES", 0)
    monkeypatch.setattr(transport.Transport.__init__, "__defaults__", (None, 30.0, 0))
    result = CliRunner().invoke(cli, ["runs", "search", "--store", "http://127.0.0.1:9"])
    assert result.exit_code != 0
    assert "Cannot reach the tracking server http://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output


def test_ui_on_a_server_goes_on_with_the_connection_its_check_opened(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runyard.tui
    from runyard.rest import transport

    pools: list[object] = []
    real_init = transport.Transport.__init__

    def counted(self: transport.Transport, *args: object, **kwargs: object) -> None:
        pools.append(self)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    launched: list[dict[str, object]] = []

    def fake_launch(tracking_uri: str, **options: object) -> int:
        launched.append({"uri": tracking_uri, **options})
        return 0

    monkeypatch.setattr(transport.Transport, "__init__", counted)
    monkeypatch.setattr(runyard.tui, "launch", fake_launch)
    result = CliRunner().invoke(cli, ["ui", server.url, "--exit-after-first-render"])
    assert result.exit_code == 0, result.output
    client = launched[0]["client"]
    assert isinstance(client, TrackingClient) and client.tracking_uri == server.url
    assert len(pools) == 1  # one connection pool; the server's version was asked once, by the check
    assert client.store.server_info()["kind"] == "runyard" and len(pools) == 1


def test_ui_on_an_unreachable_server_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    import runyard.tui
    from runyard.rest import transport

    monkeypatch.setattr(transport.Transport.__init__, "__defaults__", (None, 30.0, 0))
    monkeypatch.setattr(runyard.tui, "launch", lambda *args, **kwargs: pytest.fail("launched"))
    result = CliRunner().invoke(cli, ["ui", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "Cannot reach the tracking server http://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output and result.output.strip().count("\n") == 0

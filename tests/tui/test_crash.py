"""A crash anywhere in the app exits with status 1 and names the file holding the traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_app
from runyard import TrackingClient
from runyard.tui.crash import run_and_report
from runyard.tui.screens.experiments import ExperimentsScreen

Store = tuple[TrackingClient, dict[str, str]]


def test_a_crash_exits_1_and_saves_the_traceback(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = store

    def broken_mount(self: ExperimentsScreen) -> None:
        raise ValueError("math domain error")

    monkeypatch.setattr(ExperimentsScreen, "on_mount", broken_mount)
    app = make_app(client, settings_path=tmp_path / "state" / "tui-state.json")
    status = run_and_report(app, headless=True)
    assert status == 1
    reports = list((tmp_path / "state").glob("runyard-crash-*.txt"))
    assert len(reports) == 1
    saved = reports[0].read_text(encoding="utf-8")
    assert "ValueError: math domain error" in saved and "broken_mount" in saved
    message = capsys.readouterr().err
    assert "runyard crashed (ValueError: math domain error)" in message
    assert str(reports[0]) in message


def test_the_cli_exits_with_the_apps_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runyard.tui
    from click.testing import CliRunner
    from runyard.cli import cli

    client = TrackingClient(f"sqlite:///{tmp_path / 'runyard.db'}")
    client.create_experiment("/x")
    monkeypatch.setattr(runyard.tui, "launch", lambda uri, exit_after_first_render=False: 1)
    result = CliRunner().invoke(cli, ["ui", str(tmp_path / "runyard.db")])
    assert result.exit_code == 1, result.output

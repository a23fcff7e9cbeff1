"""The TUI entry points (`runyard`, `runyard ui`, `runyard demo`), date parsing, and real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from runyard import TrackingClient
from runyard.cli import cli
from runyard.cli.common import DurationType, parse_when


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Replace runyard.tui.launch by a recorder of its calls."""
    import runyard.tui

    calls: list[tuple[str, bool]] = []

    def fake_launch(tracking_uri: str, exit_after_first_render: bool = False, **opened: object) -> None:
        calls.append((tracking_uri, exit_after_first_render))

    monkeypatch.setattr(runyard.tui, "launch", fake_launch, raising=False)
    return calls


def make_store(path: Path) -> str:
    """A small SQLite store at path; returns its URI."""
    uri = f"sqlite:///{path}"
    client = TrackingClient(uri)
    client.create_run(client.create_experiment("/demo/exp"), run_name="r")
    return uri


def test_bare_runyard_on_a_missing_store_exits_2_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, launched: list[tuple[str, bool]]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "runyard demo" in result.stderr
    assert not (tmp_path / "runyard.db").exists() and launched == []


def test_bare_runyard_and_ui_launch_the_tui(tmp_path: Path, launched: list[tuple[str, bool]]) -> None:
    uri = make_store(tmp_path / "store.db")
    assert CliRunner().invoke(cli, ["--store", uri]).exit_code == 0
    assert CliRunner().invoke(cli, [], env={"RUNYARD_TRACKING_URI": uri}).exit_code == 0
    ui = CliRunner().invoke(cli, ["ui", str(tmp_path / "store.db"), "--exit-after-first-render"])
    assert ui.exit_code == 0, ui.output
    assert CliRunner().invoke(cli, ["ui", "--store", uri]).exit_code == 0
    assert launched == [(uri, False), (uri, False), (uri, True), (uri, False)]
    both = CliRunner().invoke(cli, ["ui", uri, "--store", uri])
    assert both.exit_code == 2 and "not both" in both.stderr


def test_ui_accepts_a_directory_holding_runyard_db(tmp_path: Path, launched: list[tuple[str, bool]]) -> None:
    (tmp_path / "demo").mkdir()
    uri = make_store(tmp_path / "demo" / "runyard.db")
    assert CliRunner().invoke(cli, ["ui", str(tmp_path / "demo")]).exit_code == 0
    assert launched == [(uri, False)]


def test_ui_refuses_stores_that_are_not_runyard_stores(
    tmp_path: Path, launched: list[tuple[str, bool]]
) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"definitely not sqlite" * 100)
    for path, fragment in ((other, "not a runyard store"), (garbage, "runyard demo")):
        result = CliRunner().invoke(cli, ["ui", str(path)])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
        assert fragment in result.stderr and "Traceback" not in result.output
    unreachable = CliRunner().invoke(cli, ["ui", "postgresql://me:s3cret@127.0.0.1:1/runs"])
    assert unreachable.exit_code == 2 and "s3cret" not in unreachable.output
    assert launched == []


def test_ui_without_a_tui_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runyard.tui

    monkeypatch.delattr(runyard.tui, "launch", raising=False)
    result = CliRunner().invoke(cli, ["ui", make_store(tmp_path / "s.db")])
    assert result.exit_code == 1 and "TUI is not available" in result.stderr


def fake_demo(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import runyard.demo.build

    written: list[str] = []

    def write_demo_store(directory: str, overwrite: bool = False, progress: Any = None) -> str:
        for done, part in enumerate(["/vision/resnet", "/nlp/bert"]):
            progress(part, done, 2)
        progress("done", 2, 2)
        Path(directory).mkdir(parents=True, exist_ok=True)
        written.append(directory + (" (fresh)" if overwrite else ""))
        if overwrite:  # the real writer deletes and rewrites the store; the CLI only has to ask for it
            return f"sqlite:///{Path(directory).absolute() / 'runyard.db'}"
        return make_store(Path(directory).absolute() / "runyard.db")

    monkeypatch.setattr(runyard.demo.build, "write_demo_store", write_demo_store)
    return written


def test_demo_writes_then_opens_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, launched: list[tuple[str, bool]]
) -> None:
    written = fake_demo(monkeypatch)
    monkeypatch.chdir(tmp_path)
    quiet = CliRunner().invoke(cli, ["demo"])  # not a terminal: do not open
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr.startswith("Writing the demo store")  # progress shows before anything opens
    assert written == ["runyard-demo"] and launched == []
    assert "runyard ui runyard-demo/runyard.db" in quiet.stderr
    opened = CliRunner().invoke(cli, ["demo", "--path", "elsewhere", "--open"])
    assert opened.exit_code == 0, opened.output
    assert launched == [(f"sqlite:///{tmp_path / 'elsewhere' / 'runyard.db'}", False)]
    assert CliRunner().invoke(cli, ["demo", "--path", "third", "--no-open"]).exit_code == 0
    assert len(launched) == 1


def test_demo_reopens_an_existing_demo_store_unless_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, launched: list[tuple[str, bool]]
) -> None:
    written = fake_demo(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli, ["demo", "--no-open"]).exit_code == 0
    again = CliRunner().invoke(cli, ["demo", "--open"])
    assert again.exit_code == 0, again.output
    assert written == ["runyard-demo"]  # not written twice
    assert "already in runyard-demo/" in again.stderr
    assert launched == [(f"sqlite:///{tmp_path / 'runyard-demo' / 'runyard.db'}", False)]
    assert CliRunner().invoke(cli, ["demo", "--no-open", "--fresh"]).exit_code == 0
    assert written == ["runyard-demo", "runyard-demo (fresh)"]


# ----------------------------------------------------------------------------- dates and durations
def test_dates_are_local_midnight_unless_zoned() -> None:
    assert parse_when("2026-01-01") == int(datetime(2026, 1, 1).astimezone().timestamp() * 1000)
    assert parse_when("2026-01-01T12:00:00+02:00") == int(
        datetime(2026, 1, 1, 10, tzinfo=UTC).timestamp() * 1000
    )
    assert parse_when("2026-01-01T10:00:00Z") == parse_when("2026-01-01T12:00:00+02:00")
    assert parse_when("7d", now_ms=10 * 86_400_000) == 3 * 86_400_000
    for bad in ("yesterday", "2026-02-30", "12/01/2026", ""):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            parse_when(bad)


@pytest.mark.parametrize(
    "text, ms",
    [("30d", 30 * 86_400_000), ("12h", 43_200_000), ("90m", 5_400_000), ("0", 0), ("1d12h", 129_600_000)],
)
def test_durations(text: str, ms: int) -> None:
    assert DurationType().convert(text, None, None) == ms


# ----------------------------------------------------------------------------- real processes
def _command() -> list[str]:
    script = shutil.which("runyard")
    return [script] if script else [sys.executable, "-m", "runyard.cli"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "RUNYARD_TRACKING_URI"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_real_process_lists_deletes_and_fails_cleanly(tracking_uri: str, tmp_path: Path) -> None:
    client = TrackingClient(tracking_uri)
    run_id = client.create_run(client.create_experiment("/proc/exp"), run_name="in-a-process").info.run_id
    listed = _run(
        [sys.executable, "-m", "runyard.cli", "runs", "list", "--json", "--store", tracking_uri], tmp_path
    )
    assert listed.returncode == 0, listed.stderr
    records: list[dict[str, Any]] = json.loads(listed.stdout)
    assert [(r["run_id"], r["experiment_name"]) for r in records] == [(run_id, "/proc/exp")]
    deleted = _run([*_command(), "runs", "delete", run_id, "--store", tracking_uri], tmp_path)
    assert deleted.returncode == 0 and run_id in deleted.stdout
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    missing = _run([*_command(), "ui", "missing.db"], tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("Error: No runyard store") and "Traceback" not in missing.stderr
    assert not (tmp_path / "missing.db").exists()

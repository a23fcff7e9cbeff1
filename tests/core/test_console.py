"""Console output: a run keeps what its process printed (fd level in a script, sys level under pytest)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import runyard
from click.testing import CliRunner
from runyard import InvalidInput, RunNotFound, TrackingClient
from runyard.cli import cli
from runyard.tracking.console_text import StreamText, collapse_lines

SCRIPT = textwrap.dedent(
    """
    import os, subprocess, sys, runyard
    runyard.set_tracking_uri(sys.argv[1])
    capture = sys.argv[2] == "capture"
    with runyard.start_run(log_system_info=False, capture_output=capture) as run:
        print("printed by python")
        print("\\x1b[32mgreen\\x1b[0m password=hunter2")
        os.write(1, b"written by C\\n")
        os.write(2, b"an error line\\n")
        for percent in (0, 50, 100):
            sys.stdout.write(f"\\rprogress {percent}%")
            sys.stdout.flush()
        print()
        subprocess.run([sys.executable, "-c", "print('from a child process')"], check=True)
        sys.stdout.write("no newline at the end")
    print()
    print("after end_run")
    os.write(1, b"C after end_run\\n")
    print(run.info.run_id)
    """
)


def _run_script(tmp_path: Path, mode: str) -> tuple[subprocess.CompletedProcess[str], str, str]:
    uri = f"sqlite:///{tmp_path / 'runyard.db'}"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, uri, mode], capture_output=True, text=True, timeout=120, check=True
    )
    run_id = done.stdout.strip().splitlines()[-1]
    return done, uri, run_id


def test_a_scripts_output_is_kept_and_still_shown(tmp_path: Path) -> None:
    done, uri, run_id = _run_script(tmp_path, "capture")
    shown = done.stdout
    for line in (
        "printed by python",
        "written by C",
        "from a child process",
        "after end_run",
        "C after end_run",
    ):
        assert line in shown  # the terminal (here a pipe) still gets everything
    assert "an error line" in done.stderr
    assert "progress 50%" in shown  # the live terminal saw the progress bar redraws
    kept = TrackingClient(uri).get_console_text(run_id)
    assert "printed by python\n" in kept
    assert "\x1b[32mgreen\x1b[0m password=***\n" in kept  # colours kept, credentials masked
    assert "hunter2" not in kept
    assert "written by C\n" in kept
    assert "an error line\n" in kept
    assert "from a child process\n" in kept
    assert "\nprogress 100%\n" in kept and "progress 50%" not in kept  # redraws collapsed
    assert kept.endswith("no newline at the end")
    assert "after end_run" not in kept  # the fds were given back at end_run


def test_capture_output_false_keeps_nothing(tmp_path: Path) -> None:
    done, uri, run_id = _run_script(tmp_path, "no-capture")
    assert "printed by python" in done.stdout
    assert TrackingClient(uri).get_console(run_id) == []


def test_under_pytest_sys_stdout_is_kept_and_restored(
    tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    runyard.set_tracking_uri(tracking_uri)
    before = sys.stdout
    with runyard.start_run(log_system_info=False) as run:
        print("epoch 1 loss=0.5")
        print("warning: slow", file=sys.stderr)
        assert "epoch 1 loss=0.5\n" in runyard.get_console(run.info.run_id)  # readable while running
    assert sys.stdout is before
    print("not kept")
    text = runyard.get_console(run.info.run_id)
    assert "epoch 1 loss=0.5\n" in text and "warning: slow\n" in text
    assert "not kept" not in text
    assert "epoch 1 loss=0.5" in capsys.readouterr().out  # still shown


def test_runyard_capture_output_0_turns_it_off(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_CAPTURE_OUTPUT", "0")
    runyard.set_tracking_uri(tracking_uri)
    with runyard.start_run(log_system_info=False) as run:
        print("hello")
    assert runyard.get_console(run.info.run_id) == ""


def test_output_beyond_the_cap_drops_the_oldest_with_a_note(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_CONSOLE_MAX_MB", "1")
    runyard.set_tracking_uri(tracking_uri)
    with runyard.start_run(log_system_info=False) as run:
        for i in range(30):
            print(f"line {i:04d} " + "x" * 49_990)
            runyard.flush()
    text = runyard.get_console(run.info.run_id)
    assert len(text) <= 1_000_000
    assert text.startswith("[runyard: earlier output dropped; a run keeps its last 1 MB")
    assert "line 0000" not in text and "line 0029" in text


def test_store_appends_in_order_and_reads_tails(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    store = client.store
    store.append_console(run_id, [(1, "stdout", "a\n"), (2, "stderr", "b\n")])
    store.append_console(run_id, [(3, "stdout", "c\n")])
    chunks = client.get_console(run_id)
    assert [(c.seq, c.stream, c.text) for c in chunks] == [
        (0, "stdout", "a\n"),
        (1, "stderr", "b\n"),
        (2, "stdout", "c\n"),
    ]
    assert [c.text for c in client.get_console(run_id, newest=True, limit=2)] == ["b\n", "c\n"]
    assert [c.text for c in client.get_console(run_id, after_seq=1)] == ["c\n"]
    with pytest.raises(InvalidInput, match="Unknown console stream"):
        store.append_console(run_id, [(4, "stdin", "x")])
    assert client.get_console_text(run_id) == "a\nb\nc\n"  # the refused append changed nothing
    with pytest.raises(RunNotFound):
        client.get_console("0" * 32)


def test_store_cap_keeps_the_newest_chunks(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    for i in range(10):
        client.store.append_console(run_id, [(i, "stdout", f"{i}" * 1000)], max_chars=3500)
    chunks = client.get_console(run_id)
    assert chunks[0].stream == "runyard" and "earlier output dropped" in chunks[0].text
    assert [c.text[0] for c in chunks[1:]] == ["7", "8", "9"]  # the note and three chunks fit
    assert sum(len(c.text) for c in chunks) <= 3500


def test_purged_runs_lose_their_console(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.store.append_console(run_id, [(1, "stdout", "hi\n")])
    client.delete_run(run_id)
    client.store.gc(run_ids=[run_id])
    from sqlalchemy import text

    with client.store.db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM console_chunks")).scalar() == 0


def test_logs_command_prints_tails_and_strips_colour(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.store.append_console(run_id, [(1, "stdout", "one\n\x1b[31mtwo\x1b[0m\nthree\n")])
    client.set_terminated(run_id)
    runner = CliRunner()
    result = runner.invoke(cli, ["logs", run_id, "--store", client.tracking_uri])
    assert result.exit_code == 0 and result.output == "one\ntwo\nthree\n"
    result = runner.invoke(cli, ["logs", run_id, "-n", "2", "--color", "--store", client.tracking_uri])
    assert result.output == "\x1b[31mtwo\x1b[0m\nthree\n"
    result = runner.invoke(cli, ["logs", run_id, "-f", "--store", client.tracking_uri])
    assert result.exit_code == 0 and result.output.endswith("three\n")  # an ended run: follow returns
    result = runner.invoke(cli, ["logs", "f" * 32, "--store", client.tracking_uri])
    assert result.exit_code == 1 and "not found" in result.output and "Traceback" not in result.output


def test_stream_text_collapses_redraws_and_masks_across_writes() -> None:
    stream = StreamText()
    assert stream.feed_text("downloading\r 10%\r 90%") == ""
    assert stream.feed_text("\r100%\r\nto") == "100%\n"
    assert stream.feed_text("ken=abc") == ""
    assert stream.feed_text("def\n") == "token=***\n"
    assert stream.feed_bytes("é".encode()[:1]) == ""
    assert stream.feed_bytes("é\n".encode()[1:]) == "é\n"
    assert stream.feed_text("tail") == "" and stream.finish() == "tail"
    assert collapse_lines("a\rb\nc") == "b\nc"


def test_export_import_and_copy_keep_the_console(client: TrackingClient, tmp_path: Path) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.store.append_console(run_id, [(5, "stdout", "hello\n"), (6, "stderr", "\x1b[31moops\x1b[0m\n")])
    runyard.export_runs(client.tracking_uri, tmp_path / "dump")
    target = f"sqlite:///{tmp_path / 'imported.db'}"
    runyard.import_runs(target, tmp_path / "dump")
    imported = TrackingClient(target).get_console(run_id)
    assert [(c.timestamp, c.stream, c.text) for c in imported] == [
        (5, "stdout", "hello\n"),
        (6, "stderr", "\x1b[31moops\x1b[0m\n"),
    ]
    copied = f"sqlite:///{tmp_path / 'copied.db'}"
    runyard.copy_runs(client.tracking_uri, copied)
    assert TrackingClient(copied).get_console_text(run_id) == "hello\n\x1b[31moops\x1b[0m\n"


def test_a_dump_with_a_bad_console_stream_is_refused(client: TrackingClient, tmp_path: Path) -> None:
    import hashlib
    import json

    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.store.append_console(run_id, [(5, "stdout", "hello\n")])
    runyard.export_runs(client.tracking_uri, tmp_path / "dump")
    console = tmp_path / "dump" / "console.jsonl"
    console.write_text(console.read_text().replace('"stdout"', '"stdin"'))
    manifest_path = tmp_path / "dump" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["console"]["sha256"] = hashlib.sha256(console.read_bytes()).hexdigest()
    manifest["files"]["console"]["bytes"] = console.stat().st_size
    manifest_path.write_text(json.dumps(manifest))
    target = f"sqlite:///{tmp_path / 'imported.db'}"
    with pytest.raises(InvalidInput, match="unknown stream 'stdin'"):
        runyard.import_runs(target, tmp_path / "dump")


def test_logs_follow_stops_at_a_lost_run(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("e"), start_time=1_000).info.run_id
    client.store.heartbeat([run_id], timestamp=2_000)  # long ago: the process is gone
    client.store.append_console(run_id, [(3_000, "stdout", "last words\n")])
    result = CliRunner().invoke(cli, ["logs", run_id, "-f", "--store", client.tracking_uri])
    assert result.exit_code == 0 and "last words" in result.output
    assert "is LOST (its heartbeat stopped): stopped following" in result.output

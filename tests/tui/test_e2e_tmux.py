"""End to end in a real terminal: `runyard ui <store>` in tmux, search with `/`, see the rows, quit."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import build_store
from runyard import TrackingClient

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


SOCKET = f"runyard-test-{os.getpid()}"  # a private tmux server: never the user's sessions


def tmux(*args: str) -> str:
    """Run a tmux command on the private server; its output."""
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True).stdout


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll the terminal until condition holds (a real process needs real time; this is not an assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_search_in_a_real_terminal(tmp_path: Path) -> None:
    database = tmp_path / "runyard.db"
    client = TrackingClient(f"sqlite:///{database}", artifact_root=str(tmp_path / "artifacts"))
    build_store(client)
    session = f"runyard-e2e-{uuid.uuid4().hex[:8]}"
    runyard = str(Path(sys.executable).with_name("runyard"))
    command = shlex.join([runyard if os.path.exists(runyard) else "runyard", "ui", str(database)])
    environment = f"RUNYARD_TUI_STATE={shlex.quote(str(tmp_path / 'state.json'))} TERM=xterm-256color"
    # COLUMNS/LINES (pytest may set them) would override the terminal size the app sees.
    # The shell stays after the app exits and prints its exit status, so a crash shows on the screen.
    start = f"env -u COLUMNS -u LINES {environment} {command}; echo runyard-exited-$?; sleep 60"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", start)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", session)

    try:
        assert wait_for(lambda: "wide-resnet" in screen()), screen()
        before = screen()
        assert "baseline" in before and "tuned" in before
        tmux("send-keys", "-t", session, "/")
        tmux("send-keys", "-t", session, "-l", "metrics.accuracy > 0.9")
        typed = lambda: "metrics.accuracy > 0.9" in screen() and "to search:" not in screen()  # noqa: E731
        assert wait_for(typed), screen()
        tmux("send-keys", "-t", session, "Enter")
        assert wait_for(lambda: "baseline" not in screen() and "2 runs" in screen()), screen()
        after = screen()
        assert "tuned" in after and "wide-resnet" in after
        assert "deep-resnet" not in after and "live" not in after
        tmux("send-keys", "-t", session, "q")
        assert wait_for(lambda: "runyard-exited-0" in screen()), screen()
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)


TRAINING = """
import math, os, sys, time, runyard
runyard.set_tracking_uri(sys.argv[1])
runyard.set_experiment("/e2e")
with runyard.start_run(run_name="train-e2e") as run:
    runyard.set_progress(total=100_000)
    step = 0
    while True:
        diverged = os.path.exists(sys.argv[2])
        runyard.log_metric("loss", math.nan if diverged else 1.0 / (step + 1), step=step)
        if step % 10 == 0:
            print(f"\\x1b[32mstep {step}\\x1b[0m loss printed", flush=True)
        step += 1
        time.sleep(0.05)
"""


def test_watch_shows_the_nan_alert_of_a_training_script(tmp_path: Path) -> None:
    database = tmp_path / "runyard.db"
    uri = f"sqlite:///{database}"
    script = tmp_path / "train.py"
    script.write_text(TRAINING)
    trigger = tmp_path / "diverge-now"
    session = f"runyard-watch-{uuid.uuid4().hex[:8]}"
    runyard = str(Path(sys.executable).with_name("runyard"))
    train = shlex.join([sys.executable, str(script), uri, str(trigger)])
    watch = shlex.join([runyard if os.path.exists(runyard) else "runyard", "watch", "--store", str(database)])
    environment = f"RUNYARD_TUI_STATE={shlex.quote(str(tmp_path / 'state.json'))} TERM=xterm-256color"
    # The training script runs in its own window, in a real terminal (so its output goes through a pty).
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", f"{train}; sleep 60")

    def pane(target: str) -> str:
        return tmux("capture-pane", "-p", "-t", target)

    try:
        assert wait_for(lambda: "step 10 loss printed" in pane(f"{session}:0")), pane(f"{session}:0")
        tmux("new-window", "-t", session, f"env -u COLUMNS -u LINES {environment} {watch}; sleep 60")
        watch_pane = f"{session}:1"
        assert wait_for(lambda: "train-e2e" in pane(watch_pane) and "no alerts" in pane(watch_pane)), pane(
            watch_pane
        )
        trigger.write_text("")
        assert wait_for(lambda: "nan: loss became NaN" in pane(watch_pane)), pane(watch_pane)
        assert "1 with alerts" in pane(watch_pane) and "⚠1" in pane(watch_pane)
        tmux("send-keys", "-t", watch_pane, "Enter")
        assert wait_for(lambda: "● RUNNING" in pane(watch_pane)), pane(watch_pane)
        client = TrackingClient(uri)
        run_id = client.search_runs([client.get_experiment_by_name("/e2e").experiment_id])[0].info.run_id
        assert wait_for(lambda: "\x1b[32mstep 10\x1b[0m loss printed\n" in client.get_console_text(run_id))
        assert "step 10 loss printed" in pane(f"{session}:0")  # still shown in the script's terminal
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)


@pytest.mark.parametrize("signal_name, status", [("TERM", 143), ("HUP", 129)])
def test_sigterm_and_a_dropped_session_restore_the_terminal(
    tmp_path: Path, signal_name: str, status: int
) -> None:
    database = tmp_path / "runyard.db"
    client = TrackingClient(f"sqlite:///{database}", artifact_root=str(tmp_path / "artifacts"))
    build_store(client)
    session = f"runyard-stop-{uuid.uuid4().hex[:8]}"
    runyard = str(Path(sys.executable).with_name("runyard"))
    command = shlex.join([runyard if os.path.exists(runyard) else "runyard", "ui", str(database)])
    environment = f"RUNYARD_TUI_STATE={shlex.quote(str(tmp_path / 'state.json'))} TERM=xterm-256color"
    pid_file = tmp_path / "pid"
    # exec keeps the pid the shell wrote: the signal goes to the app itself, as `kill` or sshd would send it.
    app = f"exec env -u COLUMNS -u LINES {environment} {command}"
    start = f"sh -c 'echo $$ > {shlex.quote(str(pid_file))}; {app}'; echo runyard-exited-$?; sleep 60"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", start)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", session)

    try:
        assert wait_for(lambda: "wide-resnet" in screen()), screen()
        os.kill(int(pid_file.read_text()), getattr(signal, f"SIG{signal_name}"))
        assert wait_for(lambda: f"runyard-exited-{status}" in screen()), screen()
        # The app left its alternate screen: the shell's own lines are what the terminal shows.
        assert tmux("display-message", "-p", "-t", session, "#{alternate_on}").strip() == "0"
        assert "Traceback" not in screen()
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)

"""`runyard logs RUN_ID [-f]`: print (or follow) what a run's process printed."""

from __future__ import annotations

import re
import sys
import time

import click

from ..clock import now_ms
from .common import open_client, store_option

FOLLOW_POLL_SECONDS = 1.0
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def strip_ansi(text: str) -> str:
    """Text without ANSI escape sequences (colours, cursor moves)."""
    return _ANSI.sub("", text)


@click.command("logs")
@click.argument("run_id")
@click.option(
    "--follow",
    "-f",
    is_flag=True,
    help="Keep printing new output until the run ends or is lost (Ctrl-C stops).",
)
@click.option(
    "--tail",
    "-n",
    "tail",
    type=click.IntRange(0, None),
    default=None,
    metavar="LINES",
    help="Only the last LINES lines of what is stored so far.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Keep the output's ANSI colours [default: when printing to a terminal].",
)
@store_option
def logs_command(run_id: str, follow: bool, tail: int | None, color: bool | None, store: str | None) -> None:
    """Print the console output (stdout and stderr) a run's process printed.

    Runs started with runyard.start_run() keep their output (start_run(capture_output=False) or
    RUNYARD_CAPTURE_OUTPUT=0 turn that off); a run keeps at most RUNYARD_CONSOLE_MAX_MB of it (default 10).

    \b
    Examples:
      runyard logs 3f2a9c...            everything stored so far
      runyard logs 3f2a9c... -f         and then new output until the run ends
      runyard logs 3f2a9c... -n 50      the last 50 lines
    """
    client = open_client(store)
    keep_colour = sys.stdout.isatty() if color is None else color
    chunks = client.get_console(run_id)
    text = "".join(chunk.text for chunk in chunks)
    if tail is not None:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[-tail:]) if tail else ""
    _emit(text, keep_colour)
    if not follow:
        return
    last_seq = chunks[-1].seq if chunks else None
    try:
        while True:
            info = client.get_run(run_id).info
            running = info.status == "RUNNING" and not info.is_lost(now_ms())
            new = client.get_console(run_id, after_seq=last_seq)
            if new:
                last_seq = new[-1].seq
                _emit("".join(chunk.text for chunk in new), keep_colour)
            if not running:
                if info.status == "RUNNING":
                    click.echo(
                        f"runyard: run {run_id} is LOST (its heartbeat stopped): stopped following.", err=True
                    )
                return
            time.sleep(FOLLOW_POLL_SECONDS)
    except KeyboardInterrupt:
        return


def _emit(text: str, keep_colour: bool) -> None:
    if not text:
        return
    click.echo(text if keep_colour else strip_ansi(text), nl=False, color=keep_colour)
    sys.stdout.flush()

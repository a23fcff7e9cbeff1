"""Crash reports: an unhandled error in the app saves its traceback to a file and the process exits 1."""

from __future__ import annotations

import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App


def crash_directory(settings_path: Path | None) -> Path:
    """Where crash reports go: beside the TUI state file, else the temp directory."""
    if settings_path is not None:
        return settings_path.parent
    return Path(tempfile.gettempdir())


def save_crash_report(error: BaseException, directory: Path) -> Path | None:
    """Write the traceback of error to crash-<UTC time>.txt in directory (None when that fails)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    for folder in (directory, Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"runyard-crash-{stamp}.txt"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def crash_message(error: BaseException, report: Path | None) -> str:
    """The one line printed after a crash: what failed and where the traceback is."""
    summary = f"{type(error).__name__}: {error}".strip().rstrip(":")
    where = f"the traceback is in {report}" if report else "the traceback could not be saved"
    return f"runyard crashed ({summary}); {where}. Please attach that file to a bug report."


def run_and_report(app: App[Any], headless: bool = False) -> int:
    """Run the app; on a crash print crash_message to stderr. The exit status (0 unless it crashed)."""
    app.run(headless=headless)
    code = app.return_code or 0
    if code:
        error = getattr(app, "crash_error", None)
        report = getattr(app, "crash_report", None)
        if error is not None:
            print(crash_message(error, report), file=sys.stderr)
    return code

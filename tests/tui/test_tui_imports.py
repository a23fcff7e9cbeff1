"""The TUI talks to the core only through TrackingClient: importing and composing it loads no SQL library."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_tui_loads_no_sqlalchemy_or_sqlmodel() -> None:
    code = (
        "import sys, runyard.tui, runyard.tui.app, runyard.tui.screens.experiments;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


SQL_IMPORTS = ("import sqlalchemy", "from sqlalchemy", "import sqlmodel", "from sqlmodel")


def test_tui_sources_never_import_sql_libraries() -> None:
    from pathlib import Path

    import runyard.tui

    root = Path(runyard.tui.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(line.strip().startswith(SQL_IMPORTS) for line in path.read_text().splitlines())
    ]
    assert offenders == []

"""`import runyard` stays light: no UI stack and no SQLAlchemy until a store is used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("textual", "rich", "plotext", "sqlalchemy", "sqlmodel", "starlette", "uvicorn", "httpx")


def _modules_after(code: str, cwd: Path) -> list[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return sorted({m for m in modules for name in names if m == name or m.startswith(name + ".")})


def test_import_runyard_loads_no_ui_and_no_sqlalchemy(tmp_path: Path) -> None:
    modules = _modules_after("import runyard", tmp_path)
    assert "runyard" in modules
    assert _loaded(modules, HEAVY) == []


def test_logging_setup_calls_do_not_import_the_ui(tmp_path: Path) -> None:
    code = (
        "import runyard\n"
        f"runyard.set_tracking_uri({str(tmp_path / 'r.db')!r})\n"
        "with runyard.start_run(log_system_info=False):\n"
        "    runyard.log_metric('m', 1.0)\n"
    )
    modules = _modules_after(code, tmp_path)
    assert "sqlalchemy" in modules  # the store was used: now, and only now, SQLAlchemy is loaded
    assert _loaded(modules, ("textual", "rich", "plotext")) == []


def test_tui_package_never_imports_sqlalchemy(tmp_path: Path) -> None:
    modules = _modules_after("import runyard.tui, runyard.tui.app", tmp_path)
    assert _loaded(modules, ("sqlalchemy", "sqlmodel")) == []


def test_cli_and_protocol_do_not_import_the_server_stack(tmp_path: Path) -> None:
    modules = _modules_after("import runyard.cli, runyard.rest.protocol", tmp_path)
    assert _loaded(modules, ("starlette", "uvicorn", "httpx", "sqlalchemy")) == []


LAZY_ENTITIES = (
    "Dataset",
    "DatasetInput",
    "LoggedModel",
    "LoggedModelStatus",
    "MetricSummary",
    "ConsoleChunk",
)


def test_import_runyard_defers_the_dataset_and_logged_model_entities(tmp_path: Path) -> None:
    code = (
        "import runyard, runyard.entities as e\n"
        f"print('deferred', [n for n in {LAZY_ENTITIES!r} if n in vars(e)])\n"
    )
    modules = _modules_after(code, tmp_path)
    assert "runyard.entities.inputs" not in modules
    assert "runyard.entities.summaries" not in modules
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert result.stdout.strip() == "deferred []", "these classes are created at `import runyard`"


def test_import_runyard_defers_the_client_the_writer_and_the_process_context(tmp_path: Path) -> None:
    deferred = ("runyard.tracking.client", "runyard.tracking.writer", "subprocess", "platform", "getpass")
    assert [name for name in deferred if name in _modules_after("import runyard", tmp_path)] == []
    # ...and they come with the first use, as before
    used = _modules_after(
        "import runyard\nrunyard.TrackingClient\nrunyard.start_run().__exit__(None, None, None)", tmp_path
    )
    assert [name for name in deferred if name not in used] == []


def test_every_public_name_still_imports_from_runyard_and_runyard_entities(tmp_path: Path) -> None:
    code = (
        "import runyard, runyard.entities as e\n"
        "from runyard import *\n"
        "missing = [n for n in runyard.__all__ if getattr(runyard, n, None) is None]\n"
        "lazy = {n: getattr(e, n).__name__ for n in e.LAZY}\n"
        "from runyard import LoggedModel, Dataset\n"
        "from runyard.entities import RunKeys, GcResult, DownsampledHistory\n"
        "print(json.dumps([missing, lazy == {n: n for n in e.LAZY}, LoggedModel is e.LoggedModel]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[], True, True]

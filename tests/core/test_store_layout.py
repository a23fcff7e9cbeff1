"""The SQL store and the dump import stay split by responsibility: no module over ~600 lines, and no
import cycle between sql_store.py and the mixins and shared tables it is made of."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import runyard.interop
import runyard.store

MAX_LINES = 600  # the project rule: "no file over ~600 lines without reason"

# The names other modules (and tests) import from sql_store: they must keep working after a split.
SHARED_NAMES = (
    "SqlStore",
    "Row",
    "chunked",
    "float_or_nan",
    "summary_entity",
    "run_info_entity",
    "DEFAULT_EXPERIMENT_ID",
    "DEFAULT_EXPERIMENT_NAME",
    "runs_t",
    "experiments_t",
    "experiment_tags_t",
    "params_t",
    "tags_t",
    "summaries_t",
)


@pytest.mark.parametrize(
    ("package", "biggest"), [(runyard.store, "sql_store.py"), (runyard.interop, "load.py")]
)
def test_no_module_of_the_store_or_the_dump_import_is_over_600_lines(package: Any, biggest: str) -> None:
    folder = Path(package.__file__).parent
    sizes = {path.name: len(path.read_text().splitlines()) for path in folder.glob("*.py")}
    assert biggest in sizes
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}


def test_each_part_of_the_store_imports_first_without_a_cycle(tmp_path: Path) -> None:
    """Any part imported first (a fresh process) loads, and sql_store still offers the shared names."""
    for first in ("tables", "experiments", "run_values", "sql_store"):
        code = (
            f"import runyard.store.{first}\n"
            "import runyard.store.sql_store as s\n"
            f"missing = [n for n in {SHARED_NAMES!r} if not hasattr(s, n)]\n"
            "assert not missing, missing\n"
            "assert s.SqlStore.create_experiment.__module__ == 'runyard.store.experiments'\n"
            "assert s.SqlStore.log_params.__module__ == 'runyard.store.run_values'\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
        )
        assert result.returncode == 0, f"importing runyard.store.{first} first: {result.stderr}"

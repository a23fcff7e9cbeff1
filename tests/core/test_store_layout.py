"""The SQL store is split by responsibility (experiments, run values, shared tables): no import cycle
between sql_store.py and the parts it is made of, and the names other modules import from it still work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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

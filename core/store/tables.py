"""The table handles and small helpers every module of the SQL store shares (no imports of the store).

sql_store.py and its mixins (experiments.py, run_values.py) import these from here, so none of them
imports another at module level; the names stay importable from sql_store for older importers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from runyard.store.models import ExperimentRow, ExperimentTagRow, MetricSummaryRow, ParamRow, RunRow, TagRow

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
Row = Mapping[Any, Any]  # a result row mapping (column name -> value)
_IN_CHUNK = 900  # stay below SQLite's bound-parameter limit with room to spare

runs_t = RunRow.__table__
experiments_t = ExperimentRow.__table__
experiment_tags_t = ExperimentTagRow.__table__
params_t = ParamRow.__table__
tags_t = TagRow.__table__
summaries_t = MetricSummaryRow.__table__


def _select_one(table: Any, column: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The columns and the driver SQL (per placeholder style) of one row of table by column."""
    columns = tuple(c.name for c in table.columns)
    select_sql = f"SELECT {', '.join(columns)} FROM {table.name} WHERE {column} = "
    return columns, {mark: select_sql + mark for mark in ("?", "%s")}


# Every write looks its run (and a new run its experiment) up first: driver SQL, no statement to build.
_RUN_BY_ID = _select_one(runs_t, "run_id")
_EXPERIMENT_BY_ID = _select_one(experiments_t, "experiment_id")


def chunked(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most size items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def float_or_nan(value: float | None) -> float:
    """NULL in a value column means NaN (see models.py)."""
    return float("nan") if value is None else float(value)

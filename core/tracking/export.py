"""Export of runs: CSV (one shape for the CLI, the API and the TUI) and a pandas DataFrame (extra)."""

from __future__ import annotations

import csv
import io
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from runyard.entities import Run
from runyard.exceptions import MissingExtra

if TYPE_CHECKING:
    import pandas

CSV_FIXED_COLUMNS = [
    "run_id",
    "run_name",
    "experiment_id",
    "experiment_name",
    "status",
    "lifecycle_stage",
    "user_id",
    "start_time",
    "end_time",
    "duration_s",
    "parent_run_id",
]
DATAFRAME_FIXED_COLUMNS = [
    "run_id",
    "experiment_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "user_id",
]


def _keys(runs: Sequence[Run], field: str) -> list[str]:
    keys: set[str] = set()
    for run in runs:
        keys.update(getattr(run.data, field))
    return sorted(keys)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return "nan" if math.isnan(value) else repr(float(value))


def csv_rows(
    runs: Sequence[Run], experiment_names: Mapping[str, str] | None = None, now_ms: int | None = None
) -> Iterator[list[str]]:
    """The header, then one row a run: the fixed columns, `params.*`, `metrics.*` and user `tags.*`.

    Keys are the union over the runs, each sorted; a metric is its latest value (repr, so it reads
    back exactly); times are local ISO 8601 with the offset; a RUNNING run without heartbeats is LOST;
    `runyard.*` system tags are left out (their content is in the fixed columns).
    """
    from runyard.formatting import format_time  # datetime: loaded when a CSV is written, not at import

    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    names = experiment_names or {}
    param_keys, metric_keys = _keys(runs, "params"), _keys(runs, "metrics")
    tag_keys = [key for key in _keys(runs, "tags") if not key.startswith("runyard.")]
    yield [
        *CSV_FIXED_COLUMNS,
        *[f"params.{key}" for key in param_keys],
        *[f"metrics.{key}" for key in metric_keys],
        *[f"tags.{key}" for key in tag_keys],
    ]
    for run in runs:
        info, data = run.info, run.data
        duration = info.duration
        yield [
            info.run_id,
            info.run_name,
            info.experiment_id,
            names.get(info.experiment_id, ""),
            info.display_status(now),  # LOST for a RUNNING run without heartbeats, as every view shows
            info.lifecycle_stage,
            info.user_id,
            format_time(info.start_time, with_zone=True),
            format_time(info.end_time, with_zone=True),
            "" if duration is None else f"{duration / 1000:g}",
            info.parent_run_id or "",
            *[data.params.get(key, "") for key in param_keys],
            *[_number(data.metrics.get(key)) for key in metric_keys],
            *[data.tags.get(key, "") for key in tag_keys],
        ]


def export_runs_csv(
    runs: Iterable[Run],
    path_or_file: str | os.PathLike[str] | IO[Any],
    experiment_names: Mapping[str, str] | None = None,
    *,
    line_end: str = "\r\n",
    now_ms: int | None = None,
) -> int:
    """Write runs as CSV (the shape of `runyard runs list --csv`, see csv_rows); return the run count.

    experiment_names maps ids to names for the experiment_name column (empty when absent). RFC 4180
    (CRLF line ends, fields with commas, quotes or line breaks quoted), UTF-8. A path is created or
    overwritten; an open file is written and left open (text or binary).
    """
    run_list = list(runs)
    rows = csv_rows(run_list, experiment_names, now_ms)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator=line_end).writerows(rows)
        return len(run_list)
    if isinstance(path_or_file, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(path_or_file, "mode", ""):
        text = io.TextIOWrapper(path_or_file, encoding="utf-8", newline="")
        try:
            csv.writer(text, lineterminator=line_end).writerows(rows)
            text.flush()
        finally:
            text.detach()  # leave the caller's file open
        return len(run_list)
    csv.writer(path_or_file, lineterminator=line_end).writerows(rows)
    return len(run_list)


def require_pandas() -> Any:
    """The pandas module, or MissingExtra naming the extra to install."""
    try:
        import pandas as pd
    except ImportError:
        raise MissingExtra(
            "output_format='pandas' needs pandas, an optional extra: pip install 'runyard[pandas]' "
            "(or use output_format='list')."
        ) from None
    return pd


def runs_to_dataframe(runs: Iterable[Run]) -> pandas.DataFrame:
    """A DataFrame: run_id, experiment_id, run_name, status, start_time, end_time, user_id, params.*,
    metrics.*, tags.* (times as UTC datetimes; a missing param, tag or metric is NA/NaN)."""
    pd = require_pandas()
    run_list = list(runs)
    param_keys, metric_keys, tag_keys = (_keys(run_list, field) for field in ("params", "metrics", "tags"))
    columns: dict[str, list[Any]] = {
        "run_id": [run.info.run_id for run in run_list],
        "experiment_id": [run.info.experiment_id for run in run_list],
        "run_name": [run.info.run_name for run in run_list],
        "status": [run.info.status for run in run_list],
        "start_time": [run.info.start_time for run in run_list],
        "end_time": [run.info.end_time for run in run_list],
        "user_id": [run.info.user_id for run in run_list],
    }
    for key in param_keys:
        columns[f"params.{key}"] = [run.data.params.get(key) for run in run_list]
    for key in metric_keys:
        columns[f"metrics.{key}"] = [run.data.metrics.get(key, float("nan")) for run in run_list]
    for key in tag_keys:
        columns[f"tags.{key}"] = [run.data.tags.get(key) for run in run_list]
    frame = pd.DataFrame(columns)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    return frame

"""Export of runs: CSV (the header of MLflow's UI export) and a pandas DataFrame (optional extra)."""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from .entities import Run
from .exceptions import MissingExtra

if TYPE_CHECKING:
    import pandas

CSV_FIXED_COLUMNS = ["Run ID", "Name", "Source Type", "Source Name", "User", "Status"]
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


def _csv_rows(runs: Sequence[Run]) -> Iterable[list[str]]:
    now = time.time_ns() // 1_000_000
    param_keys, metric_keys = _keys(runs, "params"), _keys(runs, "metrics")
    yield CSV_FIXED_COLUMNS + param_keys + metric_keys
    for run in runs:
        info, data = run.info, run.data
        row = [
            info.run_id,
            info.run_name,
            info.source_type or "",
            info.source_name or "",
            info.user_id,
            info.display_status(now),  # LOST for a RUNNING run without heartbeats, as every view shows
        ]
        row += [data.params.get(key, "") for key in param_keys]
        row += [repr(float(data.metrics[key])) if key in data.metrics else "" for key in metric_keys]
        yield row


def export_runs_csv(runs: Iterable[Run], path_or_file: str | os.PathLike[str] | IO[Any]) -> None:
    """Write runs as CSV: `Run ID,Name,Source Type,Source Name,User,Status,<params>,<metrics>`.

    Params and metrics are the union of the runs' keys, each sorted; a metric is its latest value.
    RFC 4180 (CRLF line ends, fields with commas, quotes or line breaks quoted), UTF-8. A path is
    created or overwritten; an open file is written and left open (text or binary).
    """
    run_list = list(runs)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\r\n").writerows(_csv_rows(run_list))
        return
    if isinstance(path_or_file, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(path_or_file, "mode", ""):
        text = io.TextIOWrapper(path_or_file, encoding="utf-8", newline="")  # type: ignore[arg-type]
        try:
            csv.writer(text, lineterminator="\r\n").writerows(_csv_rows(run_list))
            text.flush()
        finally:
            text.detach()  # leave the caller's file open
        return
    csv.writer(path_or_file, lineterminator="\r\n").writerows(_csv_rows(run_list))


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

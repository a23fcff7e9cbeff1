"""Shared pieces of the `runyard` command line: --store, time and duration parsing, output formats."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click
from runyard import clock

from ..config import default_tracking_uri, mask_uri, normalize_tracking_uri
from ..exceptions import ExperimentNotFound, InvalidInput
from ..formatting import format_duration, format_time

if TYPE_CHECKING:
    from runyard.tracking.client import TrackingClient

    from ..entities import Experiment, Run

F = TypeVar("F", bound=Callable[..., Any])

VIEW_CHOICES = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}


def store_option(function: F) -> F:
    """Add `--store URI` (a database URL, a path to a .db file, or a tracking server) to a command."""
    return click.option(
        "--store",
        "store",
        metavar="URI",
        default=None,
        help="Tracking store: a database URL, a path to a .db file, or a tracking server "
        "http(s)://host:port (runyard's or MLflow's) [default: $RUNYARD_TRACKING_URI, else "
        "$MLFLOW_TRACKING_URI if a database or server, else ./runyard.db].",
    )(function)


def resolve_store(store: str | None) -> str:
    """The tracking URI from --store (on the command or on `runyard`), else the default."""
    if store is None:
        context = click.get_current_context(silent=True)
        root = context.find_root() if context is not None else None
        if root is not None and isinstance(root.obj, dict):
            store = root.obj.get("store")
    return normalize_tracking_uri(store or default_tracking_uri())


def refuse_remote(uri: str, command: str, instead: str) -> None:
    """A clear usage error for commands that need the database itself, not a tracking server."""
    from runyard.config import is_remote_uri

    if is_remote_uri(uri):
        raise click.UsageError(
            f"`runyard {command}` works on a database, not on a tracking server ({mask_uri(uri)}): {instead}"
        )


def open_client(store: str | None, must_exist: bool = True) -> TrackingClient:
    """A TrackingClient on the store; by default refuses to create a new empty store (typo safety)."""
    from runyard.tracking.client import TrackingClient

    return TrackingClient(resolve_store(store), must_exist=must_exist)


def experiments_option(function: F) -> F:
    """Add `--experiment/-e NAME` (repeatable) for the commands that read runs of chosen experiments."""
    return click.option(
        "--experiment",
        "-e",
        "experiments",
        multiple=True,
        metavar="NAME",
        help="Experiment name (or id); repeat for several [default: every experiment].",
    )(function)


def view_option(function: F) -> F:
    """Add `--view active|deleted|all`."""
    return click.option(
        "--view",
        type=click.Choice(list(VIEW_CHOICES)),
        default="active",
        show_default=True,
        help="Which runs: active ones, the trash, or both.",
    )(function)


# ----------------------------------------------------------------------------- experiments by name
def find_experiment(client: TrackingClient, reference: str) -> Experiment:
    """The experiment with that name (any stage), else with that id; a clear error otherwise."""
    experiment = client.get_experiment_by_name(reference)
    if experiment is not None:
        return experiment
    try:
        return client.get_experiment(reference)
    except ExperimentNotFound:
        raise ExperimentNotFound(
            f"No experiment named {reference!r} (or with that id): see `runyard experiments list --view all`."
        ) from None


def experiments_for(client: TrackingClient, references: Sequence[str], view: str) -> list[Experiment]:
    """The experiments named, or every experiment the view can show runs of."""
    if references:
        return [find_experiment(client, reference) for reference in references]
    return client.list_experiments("ACTIVE_ONLY" if view == "ACTIVE_ONLY" else "ALL")


# ----------------------------------------------------------------------------- times and durations
_DURATION = re.compile(r"^(\d+(\.\d+)?[wdhms])+$")


class DurationType(click.ParamType):
    """A duration such as 30d, 12h, 90m, 45s, 2w, 1d12h or 0; converted to milliseconds."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Milliseconds of the duration (usage error when malformed)."""
        if isinstance(value, int):
            return value
        from runyard.store.lifecycle import parse_duration_ms

        try:
            return parse_duration_ms(str(value))
        except InvalidInput as error:
            self.fail(error.message, param, ctx)


class WhenType(click.ParamType):
    """A point in time: YYYY-MM-DD (local midnight), an ISO timestamp, or an age such as 7d (ago)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Milliseconds since the epoch."""
        if isinstance(value, int):
            return value
        try:
            return parse_when(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


def parse_when(text: str, now_ms: int | None = None) -> int:
    """ms since the epoch of a date (local midnight), an ISO timestamp (local unless zoned) or an age."""

    cleaned = text.strip()
    if _DURATION.match(cleaned.lower()):
        from runyard.store.lifecycle import parse_duration_ms

        now = clock.now_ms() if now_ms is None else now_ms
        return now - parse_duration_ms(cleaned)
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        pass
    else:
        return int(datetime(day.year, day.month, day.day).astimezone().timestamp() * 1000)
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date: use YYYY-MM-DD (local midnight), an ISO timestamp such as "
            "2026-01-01T12:00:00+00:00, or an age such as 7d."
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return int(moment.timestamp() * 1000)


# ----------------------------------------------------------------------------- output
def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> str:
    """A plain-text table with aligned columns (cells longer than max_width are cut with '…')."""
    cut = [[cell if len(cell) <= max_width else cell[: max_width - 1] + "…" for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cut:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip()]
    for row in cut:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def column_value(run: Run, column: str) -> str:
    """The value of `metrics.KEY`, `params.KEY`, `tags.KEY` (or a bare metric/param key) of a run."""
    prefix, _, key = column.partition(".")
    if prefix in ("metrics", "metric") and key:
        return _number(run.data.metrics.get(key))
    if prefix in ("params", "param") and key:
        return run.data.params.get(key, "")
    if prefix in ("tags", "tag") and key:
        return run.data.tags.get(key, "")
    if column in run.data.metrics:
        return _number(run.data.metrics[column])
    return run.data.params.get(column, "")


def _number(value: float | None, precise: bool = False) -> str:
    if value is None:
        return ""
    if math.isnan(value):
        return "nan"
    return repr(value) if precise else f"{value:.6g}"


def runs_table(
    runs: Sequence[Run], experiment_names: dict[str, str], columns: Sequence[str], now_ms: int | None = None
) -> str:
    """The run list as a text table (a RUNNING run without heartbeats shows LOST, as in the TUI)."""
    now = _now_ms(now_ms)
    headers = ["RUN ID", "NAME", "EXPERIMENT", "STATUS", "STARTED", "DURATION", *columns]
    rows = [
        [
            run.info.run_id,
            run.info.run_name,
            experiment_names.get(run.info.experiment_id, run.info.experiment_id),
            run.info.display_status(now) + (" (deleted)" if run.info.lifecycle_stage == "deleted" else ""),
            format_time(run.info.start_time),
            format_duration(run.info.duration),
            *[column_value(run, column) for column in columns],
        ]
        for run in runs
    ]
    return render_table(headers, rows)


def run_record(run: Run, experiment_names: dict[str, str], now_ms: int | None = None) -> dict[str, Any]:
    """A run as a dict for `json_output.dumps` (times are ms since the epoch; LOST as every view shows)."""
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "experiment_id": run.info.experiment_id,
        "experiment_name": experiment_names.get(run.info.experiment_id),
        "status": run.info.display_status(_now_ms(now_ms)),
        "lifecycle_stage": run.info.lifecycle_stage,
        "user_id": run.info.user_id,
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        "deleted_time": run.info.deleted_time,
        "heartbeat_time": run.info.heartbeat_time,
        "parent_run_id": run.info.parent_run_id,
        "source_name": run.info.source_name,
        "source_version": run.info.source_version,
        "params": run.data.params,
        "metrics": dict(run.data.metrics),
        "tags": run.data.tags,
    }


def runs_json(runs: Sequence[Run], experiment_names: dict[str, str], now_ms: int | None = None) -> str:
    """The runs as a JSON array; NaN and infinite metrics as "NaN", "Infinity", "-Infinity" (as MLflow)."""
    from ..json_output import dumps

    now = _now_ms(now_ms)
    return dumps([run_record(run, experiment_names, now) for run in runs], indent=2)


def runs_csv(runs: Sequence[Run], experiment_names: dict[str, str], now_ms: int | None = None) -> str:
    """The runs as CSV in the one shape every export writes (see runyard.tracking.export.export_runs_csv)."""
    from runyard.tracking.export import export_runs_csv

    buffer = io.StringIO()
    export_runs_csv(runs, buffer, experiment_names, line_end="\n", now_ms=now_ms)
    return buffer.getvalue()


def _now_ms(now_ms: int | None) -> int:
    import time

    return time.time_ns() // 1_000_000 if now_ms is None else now_ms


def plural(count: int, noun: str) -> str:
    """'1 run', '3 runs'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

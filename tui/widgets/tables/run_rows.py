"""The run table's data model: columns, parent/child row layout and cell text (no widgets here)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from runyard import Run, RunStatus
from runyard.config import STALE_HEARTBEAT_MS
from runyard.tracking.run_contents import dataset_labels

from ... import formatting

# Always-shown columns: (id, header label, width). Status and name stay put when scrolling sideways.
FIXED_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("status", "Status", 9),
    ("name", "Run", 26),
    ("start", "Started", 11),
    ("duration", "Duration", 8),
    ("user", "User", 10),
    ("source", "Source", 14),
    ("version", "Version", 7),
)
FROZEN_COLUMNS = 2  # status and name
LEADING_COLUMNS = 4  # status, name, start, duration: then the chosen keys, then user, source, version
ENTITY_PREFIXES = ("metrics.", "params.", "tags.", "trend.")
TREND_PREFIX = "trend."  # "trend.loss": a sparkline of the last points of metrics.loss
TREND_WIDTH = (16, 24)  # (min, max) cells of a sparkline column: one point a cell
ATTRIBUTE_ORDER = {
    "status": "attributes.status",
    "name": "attributes.run_name",
    "start": "attributes.start_time",
    "duration": "attributes.duration",
    "user": "attributes.user_id",
    "source": "attributes.source_name",
    "version": "attributes.source_version",
}
AGGREGATES = ("latest", "min", "max")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")
MAX_DYNAMIC_WIDTH = 18
DATASETS_COLUMN = "datasets"  # a choosable column: the run's dataset inputs (not sortable by search)
FITTED_COLUMNS = {"name": (16, 34), "user": (4, 12), "source": (6, 16)}  # id: (min, max) width


@dataclass(frozen=True)
class Column:
    """One table column: id ("status", "metrics.acc", ...), header label and width in cells."""

    id: str
    label: str
    width: int
    numeric: bool = False

    @property
    def kind(self) -> str:
        """'attribute', 'metrics', 'params', 'tags' or 'trend' (a metric's sparkline)."""
        for prefix in ENTITY_PREFIXES:
            if self.id.startswith(prefix):
                return prefix[:-1]
        return "attribute"


@dataclass(frozen=True)
class TableRow:
    """A run as laid out in the table: depth under its parent, children, and a marker for orphans."""

    run: Run
    depth: int = 0
    child_count: int = 0
    parent_name: str = ""  # set when the parent exists but is not among the loaded rows


def quote_key(key: str) -> str:
    """A key as written in a query: bare when simple, else in backticks."""
    return key if _SIMPLE_KEY.match(key) else "`" + key.replace("`", "``") + "`"


def order_by_clause(column_id: str, descending: bool, aggregate: str = "latest") -> str:
    """The search order_by item for a column, e.g. 'MIN(metrics.loss) DESC' or 'attributes.start_time ASC'."""
    direction = "DESC" if descending else "ASC"
    if column_id in ATTRIBUTE_ORDER:
        return f"{ATTRIBUTE_ORDER[column_id]} {direction}"
    entity, _, key = column_id.partition(".")
    target = f"{entity}.{quote_key(key)}"
    if entity == "metrics" and aggregate in ("min", "max"):
        target = f"{aggregate.upper()}({target})"
    return f"{target} {direction}"


def build_columns(
    dynamic_ids: Sequence[str], aggregate: str = "latest", widths: dict[str, int] | None = None
) -> list[Column]:
    """The fixed columns (widths fitted to the content when given), then the chosen key columns."""
    fitted = widths or {}
    fixed = [
        Column(cid, label, fitted.get(cid, width), numeric=cid == "duration")
        for cid, label, width in FIXED_COLUMNS
    ]
    # The chosen keys come right after Duration, so some are on screen at 100 columns with the tree;
    # User, Source and Version (the same for most runs of an experiment) follow them.
    columns = fixed[:LEADING_COLUMNS]
    keys = [cid.partition(".")[2] for cid in dynamic_ids if not cid.startswith(TREND_PREFIX)]
    for column_id in dynamic_ids:
        key = column_id.partition(".")[2]
        if column_id == DATASETS_COLUMN:
            columns.append(Column(column_id, "Datasets", MAX_DYNAMIC_WIDTH + 6))
            continue
        entity = column_id.partition(".")[0]
        if entity == "trend":
            label = f"{key} trend"
            columns.append(Column(column_id, label, min(max(len(label) + 1, TREND_WIDTH[0]), TREND_WIDTH[1])))
            continue
        label = key if keys.count(key) == 1 else f"{entity[0]}.{key}"
        widest = MAX_DYNAMIC_WIDTH
        if entity == "metrics" and aggregate != "latest":
            label = f"{aggregate}({label})"
            widest += len(aggregate) + 2  # "min(...)" never cuts a key that fits without it
        width = min(max(len(label) + 2, 9), widest)
        columns.append(Column(column_id, label, width, numeric=entity == "metrics"))
    return columns + fixed[LEADING_COLUMNS:]


def layout_rows(
    runs: Sequence[Run], collapsed: set[str], parent_names: dict[str, str], rank_families: bool = False
) -> list[TableRow]:
    """Children under their loaded parent (keeping page order); orphans top-level with a marker.

    With rank_families (a sorted table) a parent and its children sit where their best-ranked member
    is in the page order: a sweep whose parent lacks the sorted value still shows its best trial on top."""
    by_id = {run.info.run_id: run for run in runs}
    children: dict[str, list[Run]] = {}
    top: list[Run] = []
    for run in runs:
        parent = run.info.parent_run_id
        if parent and parent in by_id and parent != run.info.run_id:
            children.setdefault(parent, []).append(run)
        else:
            top.append(run)
    if rank_families:
        position = {run.info.run_id: index for index, run in enumerate(runs)}

        def best(root: Run) -> int:
            found, pending, visited = position[root.info.run_id], [root], set()
            while pending:
                member = pending.pop()
                if member.info.run_id in visited:
                    continue
                visited.add(member.info.run_id)
                found = min(found, position[member.info.run_id])
                pending.extend(children.get(member.info.run_id, []))
            return found

        top.sort(key=best)
    rows: list[TableRow] = []
    seen: set[str] = set()
    stack: list[tuple[Run, int]] = [(run, 0) for run in reversed(top)]
    while stack:
        run, depth = stack.pop()
        run_id = run.info.run_id
        if run_id in seen:
            continue
        seen.add(run_id)
        kids = children.get(run_id, [])
        parent = run.info.parent_run_id
        marker = parent_names.get(parent, parent[:8]) if depth == 0 and parent else ""
        rows.append(TableRow(run, depth, len(kids), marker))
        if kids and run_id not in collapsed:
            stack.extend((kid, depth + 1) for kid in reversed(kids))
    return rows


def is_lost(run: Run, now_ms: int) -> bool:
    """A RUNNING run whose heartbeat is stale."""
    return run.info.is_lost(now_ms, STALE_HEARTBEAT_MS)


def status_text(run: Run, now_ms: int) -> str:
    """The status word shown: RUNNING, FINISHED, ..., or LOST for a RUNNING run without heartbeats."""
    return run.info.display_status(now_ms)


def run_duration(run: Run, now_ms: int) -> int | None:
    """End minus start; for a live run, now minus start; for a lost run, last heartbeat minus start."""
    info = run.info
    if info.start_time is None:
        return None
    if info.end_time is not None:
        return info.end_time - info.start_time
    if info.status == RunStatus.RUNNING:
        end = (info.heartbeat_time or info.start_time) if is_lost(run, now_ms) else now_ms
        return max(0, end - info.start_time)
    return None


def name_text(row: TableRow, collapsed: set[str]) -> str:
    """The run name, indented under its parent, with a fold marker or its parent's name."""
    name = row.run.info.run_name
    if row.parent_name:
        name = f"↳ {row.parent_name}/{name}"
    if row.child_count:
        marker = "▸" if row.run.info.run_id in collapsed else "▾"
        name = f"{marker} {name} ({row.child_count})"
    elif row.depth:
        name = f"  {name}"
    if row.run.info.lifecycle_stage == "deleted":
        name = f"{name} (deleted)"
    return "  " * row.depth + name


def metric_cell_value(run: Run, key: str, aggregate: str) -> float | None:
    """The number a metric column shows for a run: latest, min or max (None when the run lacks the key)."""
    summary = run.data.metric_summaries.get(key)
    if summary is None:
        return run.data.metrics.get(key)
    if aggregate == "min":
        return summary.min_value
    if aggregate == "max":
        return summary.max_value
    return summary.latest_value


def cell_text(
    row: TableRow,
    column_id: str,
    now_ms: int,
    aggregate: str,
    collapsed: set[str],
    scientific: bool = False,
) -> str:
    """The text of one cell (scientific: the column writes its numbers in scientific notation)."""
    run = row.run
    info = run.info
    if column_id == "status":
        return status_text(run, now_ms)
    if column_id == "name":
        return name_text(row, collapsed)
    if column_id == "start":
        return formatting.relative_time(info.start_time, now_ms)
    if column_id == "duration":
        return formatting.duration(run_duration(run, now_ms))
    if column_id == "user":
        return info.user_id
    if column_id == "source":
        source = info.source_name or ""
        return source.rsplit("/", 1)[-1] if "/" in source and len(source) > 14 else source
    if column_id == "version":
        return formatting.short_hash(info.source_version)
    if column_id == DATASETS_COLUMN:
        return ", ".join(dataset_labels(run))
    entity, _, key = column_id.partition(".")
    if entity == "params":
        return run.data.params.get(key, "")
    if entity == "tags":
        return run.data.tags.get(key, "")
    if entity == "metrics":
        value = metric_cell_value(run, key, aggregate)
        return formatting.number(value, scientific) if value is not None else ""
    return ""


def scientific_columns(rows: Sequence[TableRow], column_ids: Iterable[str], aggregate: str) -> set[str]:
    """The metric columns where one loaded value needs scientific notation (all of them then use it)."""
    found = set()
    for column_id in column_ids:
        entity, _, key = column_id.partition(".")
        if entity == "metrics" and any(
            formatting.needs_scientific(metric_cell_value(row.run, key, aggregate)) for row in rows
        ):
            found.add(column_id)
    return found


def default_dynamic_columns(runs: Iterable[Run], limit_each: int = 3) -> list[str]:
    """A first choice of columns: the metric and param keys most of the runs have (ties by name)."""
    metrics: Counter[str] = Counter()
    params: Counter[str] = Counter()
    for run in runs:
        metrics.update(list(run.data.metric_summaries or run.data.metrics))
        params.update(list(run.data.params))

    def most_common(counts: Counter[str]) -> list[str]:
        return sorted(counts, key=lambda key: (-counts[key], key))[:limit_each]

    chosen = [f"metrics.{k}" for k in most_common(metrics)]
    chosen += [f"params.{k}" for k in most_common(params)]
    return chosen

"""Sparkline ("trend") columns of the run table: which runs need their recent points, and the cell text.

The writer keeps the last 32 points of every (run, key) beside the metric's summary; the table asks
for them only for the rows on (or near) the screen, in one store call per screen of rows, so a
table of 100,000 loaded runs costs no more than one of 50. A run is asked again when its summary
moved (a live run logged more points, a reload brought a newer copy), never on a plain redraw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from runyard import Metric, Run
from runyard.formatting import sparkline
from textual.binding import Binding
from textual.widget import Widget

from ..control_message import ControlMessage
from .line_table import LineTable
from .run_rows import TREND_PREFIX, Column, TableRow

MAX_TREND_POINTS = 32  # what the writer keeps per (run, key)
TREND_MARGIN = 40  # sparklines are asked for the shown rows and this many more above and below

# A run's summaries of the trend keys when its points were asked: key -> (count, latest step, latest time)
Signature = dict[str, tuple[int, int, int] | None]


def trend_keys(column_ids: Iterable[str]) -> tuple[str, ...]:
    """The metric keys of the trend columns among these column ids, in order."""
    return tuple(cid[len(TREND_PREFIX) :] for cid in column_ids if cid.startswith(TREND_PREFIX))


def trend_column(metric_key: str) -> str:
    """The id of the sparkline column of a metric."""
    return TREND_PREFIX + metric_key


class TrendCache:
    """The recent values shown by the trend columns, and which runs still need them (no widgets here)."""

    def __init__(self) -> None:
        self.keys: tuple[str, ...] = ()
        self.values: dict[str, dict[str, list[float]]] = {}  # run id -> key -> values, oldest first
        self._asked: dict[str, tuple[int, Signature]] = {}  # run id -> (request number, signature)
        self._requests = 0

    def set_keys(self, keys: Sequence[str]) -> None:
        """Show these metric keys (a new key: the shown runs are asked again, shown values stay meanwhile)."""
        self.keys = tuple(dict.fromkeys(keys))

    def wanted(self, runs: Iterable[Run]) -> tuple[int, list[str]] | None:
        """(request number, run ids) of the runs whose recent points are missing or out of date, or None.

        Runs without any of the keys are settled here without asking the store."""
        if not self.keys:
            return None
        missing: list[str] = []
        number = self._requests + 1
        for run in runs:
            run_id = run.info.run_id
            signature = self._signature(run)
            asked = self._asked.get(run_id)
            known = asked[1] if asked is not None else {}
            if all(key in known and known[key] == part for key, part in signature.items()):
                continue
            merged = {**known, **signature}  # keys shown before keep their values for a return
            if all(part is None for part in signature.values()):  # none of the keys: nothing to ask
                self._asked[run_id] = (asked[0] if asked is not None else 0, merged)
                for key in signature:
                    self.values.get(run_id, {}).pop(key, None)
                continue
            self._asked[run_id] = (number, merged)
            missing.append(run_id)
        if not missing:
            return None
        self._requests = number
        return number, missing

    def _signature(self, run: Run) -> Signature:
        summaries = run.data.metric_summaries
        parts: Signature = {}
        for key in self.keys:
            summary = summaries.get(key)
            if summary is None:
                parts[key] = None if key not in run.data.metrics else (-1, -1, -1)
            else:
                parts[key] = (summary.count, summary.latest_step, summary.latest_timestamp)
        return parts

    def store(
        self,
        number: int,
        recent: Mapping[str, Mapping[str, Sequence[Any]]],
        run_ids: Sequence[str],
        keys: Sequence[str],
    ) -> bool:
        """Keep the answer to request `number` for `keys` (an answer overtaken by a newer request is dropped).

        `recent`: run id -> key -> Metric points (the store's recent_metrics). True when anything changed."""
        changed = False
        for run_id in run_ids:
            asked = self._asked.get(run_id)
            if asked is None or asked[0] != number:
                continue
            points = recent.get(run_id, {})
            shown = self.values.setdefault(run_id, {})
            for key in keys:
                values = [float(point.value) for point in points.get(key, ())]
                if values and shown.get(key) != values:
                    shown[key] = values
                    changed = True
                elif not values and key in shown:
                    del shown[key]
                    changed = True
        return changed

    def failed(self, number: int, run_ids: Sequence[str]) -> None:
        """The request failed: those runs are asked again on the next scroll, reload or live refresh."""
        for run_id in run_ids:
            asked = self._asked.get(run_id)
            if asked is not None and asked[0] == number:
                del self._asked[run_id]

    def cell(self, run_id: str, key: str, width: int) -> str:
        """The sparkline of a run's metric: its last points, as many as fit (NaN and infinities as "!")."""
        values = self.values.get(run_id, {}).get(key)
        if not values:
            return ""
        return sparkline(values, min(width, MAX_TREND_POINTS))


def toggled_trend(columns: Sequence[str], column_id: str) -> list[str] | None:
    """The columns after `t` on column_id: a metric's trend added after it, or removed; None elsewhere."""
    if column_id.startswith(TREND_PREFIX):
        return [c for c in columns if c != column_id]
    if not column_id.startswith("metrics."):
        return None
    trend = trend_column(column_id.partition(".")[2])
    if trend in columns:
        return [c for c in columns if c != trend]
    index = columns.index(column_id) + 1 if column_id in columns else len(columns)
    return [*columns[:index], trend, *columns[index:]]


class TrendColumns(LineTable):
    """The run table's sparkline columns: asks the screen for the rows' recent points, draws them."""

    BINDINGS = [
        Binding(
            "t",
            "trend",
            "Trend",
            show=False,  # the footer is full at 100 columns: `?`, the palette and the column chooser say it
            id="runs.trend",
            tooltip="Add or remove a sparkline of the metric under the cursor",
        ),
    ]
    columns: list[Column]  # the run table's
    dynamic_columns: list[str]
    cursor_column: int

    class ColumnsChanged(ControlMessage):
        """The user changed the chosen columns from the table itself (`t`): remember them."""

        def __init__(self, widget: Widget, columns: list[str]) -> None:
            self.columns = columns
            super().__init__(widget)

    class RecentWanted(ControlMessage):
        """Sparkline columns need the recent points of these runs (request `number`; answer: set_recent)."""

        def __init__(self, widget: Widget, number: int, run_ids: list[str], keys: list[str]) -> None:
            self.number = number
            self.run_ids = run_ids
            self.keys = keys
            super().__init__(widget)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trends = TrendCache()  # the recent values the sparkline ("trend.KEY") columns draw

    def set_columns(self, dynamic_ids: Sequence[str]) -> None:
        """Show these param/metric/tag/trend columns (the run table implements it)."""
        raise NotImplementedError

    def action_trend(self) -> None:
        """On a metric column: add its sparkline column beside it; on a sparkline column: remove it."""
        changed = toggled_trend(self.dynamic_columns, self.columns[self.cursor_column].id)
        if changed is None:
            self.notify("Move to a metric column (←/→) to add its trend, or choose trend.KEY with C.")
            return
        self.set_columns(changed)
        self.post_message(self.ColumnsChanged(self, changed))

    def set_recent(
        self, number: int, recent: dict[str, dict[str, list[Metric]]], run_ids: list[str], keys: list[str]
    ) -> None:
        """The recent points of request `number` arrived (run id -> key -> points): redraw the sparklines."""
        if self.trends.store(number, recent, run_ids, keys):
            self.refresh()

    def recent_failed(self, number: int, run_ids: list[str]) -> None:
        """Request `number` failed: its runs are asked again on the next scroll or refresh."""
        self.trends.failed(number, run_ids)

    def trend_cell(self, row: TableRow, column: Column) -> str:
        """The sparkline a trend column shows for a row (empty until its points arrive)."""
        return self.trends.cell(row.run.info.run_id, column.id[len(TREND_PREFIX) :], column.width)

    def _want_recent(self) -> None:
        """Ask for the recent points the sparkline columns lack, for the rows on and near the screen."""
        if not self.trends.keys or not self.rows or not self.is_attached:
            return
        top = int(self.scroll_offset.y)
        shown = self.scrollable_content_region.height or self.app.size.height
        near = self.rows[max(0, top - TREND_MARGIN) : top + shown + TREND_MARGIN]
        wanted = self.trends.wanted(row.run for row in near)
        if wanted is not None:
            number, run_ids = wanted
            self.post_message(self.RecentWanted(self, number, run_ids, list(self.trends.keys)))

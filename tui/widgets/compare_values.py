"""What the compare screen shows, computed from Run entities: labels, rows, differences, best values, axes.

No widgets and no store here: the screen's worker fetches the runs, this module turns them into values the
tables and plots draw (numbers parsed from params, categories on labelled positions, NaN kept apart).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime

from runyard import Run
from runyard.tracking.run_contents import dataset_labels, model_names

from ..formatting import absolute_date, duration, short_hash
from .tables.run_rows import run_duration, status_text

MAX_COMPARED = 100
LOWER_IS_BETTER_WORDS = ("loss", "error", "mse", "mae", "perplexity", "time")  # rmse contains mse
AGGREGATES = ("latest", "min", "max")
INFO_ROWS = (
    "name",
    "experiment",
    "status",
    "start",
    "duration",
    "user",
    "version",
    "model",
    "datasets",
    "run id",
)


def lower_is_better(key: str) -> bool:
    """Metrics named like loss, error, (r)mse, mae, perplexity or time are minimised; others maximised.

    The one rule for compare's best marker and the run table's first sort on a metric column."""
    lowered = key.lower()
    return any(word in lowered for word in LOWER_IS_BETTER_WORDS)


def middle_truncate(text: str, width: int) -> str:
    """Text cut to width cells keeping its start and end (sweep names differ at the end): 'resnet…lr0.1'."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = width // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def parse_number(text: str | None) -> float | None:
    """A param value as a finite number ('0.01', '1e-3', '64'), else None (text, booleans, NaN, inf)."""
    if text is None:
        return None
    stripped = text.strip()
    if not stripped or stripped.lower() in ("true", "false"):
        return None
    try:
        value = float(stripped)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def varying_numeric_params(data: CompareData) -> list[str]:
    """'params.KEY' of the params that are numbers and differ between the runs (good default axes)."""
    found = []
    for key in data.param_keys:
        axis = data.axis(f"params.{key}")
        if axis.kind == "numeric" and len(set(axis.present)) > 1:
            found.append(f"params.{key}")
    return found


def varying_params(data: CompareData) -> list[str]:
    """'params.KEY' of every param whose value differs between the runs."""
    return [
        f"params.{key}"
        for key in data.param_keys
        if values_differ([run.run.data.params.get(key) for run in data.runs])
    ]


def default_metric(keys: Sequence[str]) -> str | None:
    """The metric to draw first: a validation loss, else any loss, else an accuracy, else the first key."""
    lowered = [(key, key.lower()) for key in keys]
    for wanted in (
        lambda k: "val" in k and "loss" in k,
        lambda k: "loss" in k,
        lambda k: "acc" in k,
    ):
        for key, low in lowered:
            if wanted(low):
                return key
    return keys[0] if keys else None


def short_number(value: float) -> str:
    """A number in at most ~7 characters for axis labels: 0.0001, 1e-05, 2.18, 128."""
    return f"{value:.3g}"


def natural_key(text: str) -> tuple[int, float, str]:
    """Sort numbers by value before text (categories '2', '10', 'adam' in that order)."""
    number = parse_number(text)
    return (0, number, "") if number is not None else (1, 0.0, text.lower())


@dataclass(frozen=True)
class CompareRun:
    """One compared run with its unique display label and its experiment's name."""

    run: Run
    label: str
    experiment: str

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.run.info.run_id


@dataclass
class Axis:
    """A param or metric laid on a plot axis: numbers, or categories on positions 0..n-1."""

    field: str
    kind: str  # "numeric", "categorical" or "empty"
    positions: list[float | None]  # per compared run; None = missing (or NaN)
    categories: list[str] = dataclass_field(default_factory=list)

    @property
    def name(self) -> str:
        """The field without its 'params.'/'metrics.' prefix."""
        return self.field.split(".", 1)[1] if "." in self.field else self.field

    @property
    def present(self) -> list[float]:
        """The positions of the runs that have a value."""
        return [p for p in self.positions if p is not None]


def unique_labels(runs: Sequence[Run]) -> list[str]:
    """Run names, with a short id appended where two runs share a name."""
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.info.run_name] = counts.get(run.info.run_name, 0) + 1
    labels = []
    for run in runs:
        name = run.info.run_name or run.info.run_id[:8]
        labels.append(f"{name} ({run.info.run_id[:6]})" if counts.get(run.info.run_name, 0) > 1 else name)
    return labels


class CompareData:
    """The compared runs (at most MAX_COMPARED) and everything derived from them."""

    def __init__(
        self, runs: Sequence[Run], experiment_names: dict[str, str], requested: int | None = None
    ) -> None:
        shown = list(runs)[:MAX_COMPARED]
        self.requested = len(runs) if requested is None else requested
        self.runs = [
            CompareRun(run, label, experiment_names.get(run.info.experiment_id, run.info.experiment_id))
            for run, label in zip(shown, unique_labels(shown), strict=True)
        ]
        self.param_keys = sorted({key for r in shown for key in r.data.params}, key=str.lower)
        self.metric_keys = sorted({key for r in shown for key in r.data.metric_summaries}, key=str.lower)

    @property
    def experiments(self) -> list[str]:
        """The distinct experiment names, in run order."""
        return list(dict.fromkeys(r.experiment for r in self.runs))

    @property
    def fields(self) -> list[str]:
        """Every param and metric as 'params.KEY' / 'metrics.KEY' (what scatter and parallel plots offer)."""
        return [f"params.{k}" for k in self.param_keys] + [f"metrics.{k}" for k in self.metric_keys]

    def metric(self, run: CompareRun, key: str, aggregate: str = "latest") -> float | None:
        """A run's latest/min/max value of a metric (None when the run never logged it; NaN stays NaN)."""
        summary = run.run.data.metric_summaries.get(key)
        if summary is None:
            return None
        if aggregate == "min":
            return summary.min_value
        if aggregate == "max":
            return summary.max_value
        return summary.latest_value

    def info_value(self, run: CompareRun, row: str, now_ms: int | None = None) -> str:
        """The text of a run-info row (name, experiment, status, ..., model, datasets, run id)."""
        info = run.run.info
        if row == "name":
            return info.run_name
        if row == "experiment":
            return run.experiment
        if row == "status":  # as in the run table: a RUNNING run without heartbeats is LOST
            return status_text(run.run, now_ms) if now_ms is not None else info.status
        if row == "start":
            return _datetime(info.start_time, now_ms)
        if row == "duration":  # a live run's so far; a lost run's up to its last heartbeat
            return duration(run_duration(run.run, now_ms) if now_ms is not None else info.duration)
        if row == "user":
            return info.user_id
        if row == "version":
            return short_hash(info.source_version)
        if row == "model":  # which runs have models
            return ", ".join(model_names(run.run)) or "—"
        if row == "datasets":  # runs trained on different data differ here (name@digest)
            return ", ".join(dataset_labels(run.run, with_context=False)) or "—"
        if row == "run id":
            return info.run_id[:8]
        raise KeyError(row)

    def axis(self, field_name: str, aggregate: str = "latest") -> Axis:
        """A field on an axis: numeric when every present value is a number, else categorical."""
        prefix, _, key = field_name.partition(".")
        if prefix == "metrics":
            positions: list[float | None] = []
            for run in self.runs:
                value = self.metric(run, key, aggregate)
                positions.append(value if value is not None and math.isfinite(value) else None)
            kind = "numeric" if any(p is not None for p in positions) else "empty"
            return Axis(field_name, kind, positions)
        raw = [run.run.data.params.get(key) for run in self.runs]
        present = [value for value in raw if value is not None]
        if not present:
            return Axis(field_name, "empty", [None] * len(raw))
        numbers = [parse_number(value) for value in raw]
        if all(number is not None for number, value in zip(numbers, raw, strict=True) if value is not None):
            return Axis(field_name, "numeric", numbers)
        categories = sorted(set(present), key=natural_key)
        index = {category: float(i) for i, category in enumerate(categories)}
        return Axis(field_name, "categorical", [None if v is None else index[v] for v in raw], categories)


def values_differ(values: Sequence[object]) -> bool:
    """True when the values are not all equal (a missing value differs from a present one; NaN == NaN)."""
    normalised = {("nan" if isinstance(v, float) and math.isnan(v) else v) for v in values}
    return len(normalised) > 1


def best_indexes(values: Sequence[float | None], lower_better: bool) -> set[int]:
    """Positions of the best finite value (all ties); none when fewer than two runs have distinct values."""
    finite = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len({v for _, v in finite}) < 2:
        return set()
    target = min(v for _, v in finite) if lower_better else max(v for _, v in finite)
    return {i for i, v in finite if v == target}


def quartiles(values: Sequence[float]) -> tuple[float, float, float, float, float]:
    """min, first quartile, median, third quartile, max (linear interpolation, as numpy's default)."""
    ordered = sorted(values)

    def at(fraction: float) -> float:
        position = fraction * (len(ordered) - 1)
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return ordered[0], at(0.25), at(0.5), at(0.75), ordered[-1]


def _datetime(timestamp_ms: int | None, now_ms: int | None) -> str:
    """'Sep 21 10:12' (UTC) within the current year, else the date '2025-09-21'."""
    if timestamp_ms is None:
        return ""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    now = datetime.fromtimestamp((now_ms if now_ms is not None else timestamp_ms) / 1000, tz=UTC)
    return moment.strftime("%b %d %H:%M") if moment.year == now.year else absolute_date(timestamp_ms)

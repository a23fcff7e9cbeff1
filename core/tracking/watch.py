"""What the watch screen and `runyard watch` show: the RUNNING runs in scope, their pace and their alerts.

One refresh costs the store two calls whatever the number of runs: one search for the RUNNING runs
(with their summaries and tags) and one read of their recent points (the last 32 per key, kept
beside the summary). Alerts, with thresholds stored per store (`store_settings`, names `alerts.*`):

- nan: a metric's recent points hold NaN or an infinity;
- lost: the run's heartbeat stopped (its process died without ending it);
- stalled: no point for `alerts.stall_factor` (10) times the run's median logging interval, and at
  least `alerts.stall_min_seconds` (60);
- gpu_idle: a GPU's utilization stayed below `alerts.gpu_idle_percent` (10) for
  `alerts.gpu_idle_minutes` (5) while RUNNING.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING

from runyard.entities import PROGRESS_TOTAL, Metric, Run, RunStatus

if TYPE_CHECKING:
    from runyard.tracking.client import TrackingClient

PROGRESS_TOTAL_TAG = PROGRESS_TOTAL
SYSTEM_PREFIX = "system/"
_GPU_UTILIZATION = re.compile(r"^system/(?:[^/]+/)?gpu_(\d+)_utilization_percentage$")
MAX_WATCHED = 500

DEFAULT_THRESHOLDS = {
    "alerts.stall_factor": 10.0,
    "alerts.stall_min_seconds": 60.0,
    "alerts.gpu_idle_percent": 10.0,
    "alerts.gpu_idle_minutes": 5.0,
}


@dataclass(frozen=True)
class Alert:
    """One reason to look at a run: kind (nan, lost, stalled, gpu_idle) and a sentence."""

    kind: str
    message: str


@dataclass(frozen=True)
class WatchedRun:
    """One line of the watch screen."""

    run: Run
    status: str  # RUNNING or LOST
    last_point_ms: int | None
    steps_per_second: float | None
    step: int | None
    total: int | None
    eta_seconds: float | None
    sparklines: dict[str, list[float]] = field(default_factory=dict)  # key -> recent values
    gpu_utilization: list[float] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def thresholds(client: TrackingClient) -> dict[str, float]:
    """The store's alert thresholds (its settings over the defaults; a bad stored value is ignored)."""
    chosen = dict(DEFAULT_THRESHOLDS)
    for key, value in client.store.get_store_settings("alerts.").items():
        if key in chosen:
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number) and number >= 0:
                chosen[key] = number
    return chosen


def set_threshold(client: TrackingClient, name: str, value: str) -> None:
    """Store one alert threshold (a name of DEFAULT_THRESHOLDS, with or without "alerts.")."""
    from runyard.exceptions import InvalidInput

    key = name if name.startswith("alerts.") else f"alerts.{name}"
    if key not in DEFAULT_THRESHOLDS:
        names = ", ".join(k.removeprefix("alerts.") for k in DEFAULT_THRESHOLDS)
        raise InvalidInput(f"Unknown alert threshold {name!r}: use one of {names}.")
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not math.isfinite(number) or number < 0:
        raise InvalidInput(f"Threshold {name}={value!r} is not a number >= 0: give one such as 10.")
    client.store.set_store_setting(key, repr(number))


def watch_snapshot(
    client: TrackingClient,
    experiment_ids: list[str],
    now_ms: int,
    metric_keys: tuple[str, ...] = (),
    limits: dict[str, float] | None = None,
) -> list[WatchedRun]:
    """The RUNNING runs of the experiments, newest first, with pace, sparklines and alerts."""
    runs = list(
        client.search_runs(
            experiment_ids,
            filter_string="attributes.status = 'RUNNING'",
            max_results=MAX_WATCHED,
            order_by=["attributes.start_time DESC"],
        )
    )
    if not runs:
        return []
    recent = client.recent_metrics([run.info.run_id for run in runs])
    chosen = limits if limits is not None else thresholds(client)
    return [watched_run(run, recent.get(run.info.run_id, {}), now_ms, metric_keys, chosen) for run in runs]


def training_keys(run: Run) -> list[str]:
    """The run's metric keys that the training logs (not system metrics), most recently logged first."""
    summaries = [s for s in run.data.metric_summaries.values() if not s.key.startswith(SYSTEM_PREFIX)]
    return [s.key for s in sorted(summaries, key=lambda s: (-s.latest_timestamp, s.key))]


def watched_run(
    run: Run,
    recent: dict[str, list[Metric]],
    now_ms: int,
    metric_keys: tuple[str, ...],
    limits: dict[str, float],
) -> WatchedRun:
    """One run's watch line from its summaries and recent points."""
    lost = run.info.is_lost(now_ms)
    keys = training_keys(run)
    last_point = max((s.latest_timestamp for s in run.data.metric_summaries.values()), default=None)
    pace_key = max(keys, key=lambda k: run.data.metric_summaries[k].latest_step, default=None)
    step = run.data.metric_summaries[pace_key].latest_step if pace_key else None
    rate = steps_per_second(recent.get(pace_key, [])) if pace_key else None
    total = _int_tag(run, PROGRESS_TOTAL_TAG)
    eta = (total - step) / rate if total is not None and step is not None and rate and total > step else None
    shown = [k for k in metric_keys if k in recent] or keys[:2]
    sparklines = {key: [m.value for m in recent.get(key, [])] for key in shown[:2]}
    gpu = _gpu_series(recent)
    alerts: list[Alert] = []
    if lost:
        alerts.append(Alert("lost", "heartbeat stopped: the process is gone (LOST)"))
    for key in sorted(recent):
        bad = [m for m in recent[key] if not math.isfinite(m.value)]
        if bad:
            alerts.append(Alert("nan", f"{key} became {_describe(bad[-1].value)} at step {bad[-1].step}"))
    stalled = _stall(recent, keys, now_ms, limits)
    if stalled and not lost:
        alerts.append(Alert("stalled", stalled))
    if not lost:
        alerts += _gpu_idle(recent, now_ms, limits)
    return WatchedRun(
        run, "LOST" if lost else RunStatus.RUNNING, last_point, rate, step, total, eta, sparklines,
        gpu[1] if gpu else [], alerts,
    )  # fmt: skip


def steps_per_second(points: list[Metric]) -> float | None:
    """Steps per second over the recent points (None with fewer than two, or no time between them)."""
    if len(points) < 2:
        return None
    first, last = points[0], points[-1]
    seconds = (last.timestamp - first.timestamp) / 1000
    if seconds <= 0 or last.step <= first.step:
        return None
    return (last.step - first.step) / seconds


def _stall(recent: dict[str, list[Metric]], keys: list[str], now_ms: int, limits: dict[str, float]) -> str:
    times = sorted({m.timestamp for key in keys for m in recent.get(key, [])})
    if len(times) < 3:
        return ""
    interval = median(b - a for a, b in zip(times, times[1:], strict=False))
    silent = now_ms - times[-1]
    allowed = max(limits["alerts.stall_factor"] * interval, limits["alerts.stall_min_seconds"] * 1000)
    if silent <= allowed:
        return ""
    return f"no point for {_seconds(silent)} (usually one every {_seconds(interval)})"


def _gpu_series(recent: dict[str, list[Metric]]) -> tuple[str, list[float]] | None:
    keys = sorted(k for k in recent if _GPU_UTILIZATION.match(k))
    return (keys[0], [m.value for m in recent[keys[0]]]) if keys else None


def _gpu_idle(recent: dict[str, list[Metric]], now_ms: int, limits: dict[str, float]) -> list[Alert]:
    alerts = []
    below_percent = limits["alerts.gpu_idle_percent"]
    window_ms = limits["alerts.gpu_idle_minutes"] * 60_000
    for key in sorted(recent):
        match = _GPU_UTILIZATION.match(key)
        if not match:
            continue
        since = None
        for point in reversed(recent[key]):
            if not point.value < below_percent:
                break
            since = point.timestamp
        if since is not None and now_ms - since >= window_ms:
            alerts.append(
                Alert(
                    "gpu_idle",
                    f"GPU {match.group(1)} below {below_percent:g}% for {_seconds(now_ms - since)}",
                )
            )
    return alerts


def _int_tag(run: Run, key: str) -> int | None:
    try:
        value = int(float(run.data.tags[key]))
    except (KeyError, ValueError, OverflowError):
        return None
    return value if value > 0 else None


def _describe(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _seconds(ms: float) -> str:
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

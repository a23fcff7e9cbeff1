"""`runyard watch`: the RUNNING runs, their pace and alerts; `--once --json` for scripts (3 on alerts)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from .common import experiments_for, experiments_option, open_client, store_option

if TYPE_CHECKING:
    from runyard.tracking.watch import WatchedRun

ALERTS_EXIT_STATUS = 3


def watched_json(row: WatchedRun, now_ms: int) -> dict[str, Any]:
    """One watched run as JSON (what --once --json prints)."""
    info = row.run.info
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": row.status,
        "seconds_since_last_point": None
        if row.last_point_ms is None
        else (now_ms - row.last_point_ms) / 1000,
        "step": row.step,
        "total": row.total,
        "steps_per_second": row.steps_per_second,
        "eta_seconds": row.eta_seconds,
        "alerts": [{"kind": alert.kind, "message": alert.message} for alert in row.alerts],
    }


def watched_line(row: WatchedRun, now_ms: int) -> str:
    """One watched run as a line of text."""
    from ..formatting import format_duration, sparkline

    since = "—" if row.last_point_ms is None else format_duration(now_ms - row.last_point_ms)
    rate = "—" if row.steps_per_second is None else f"{row.steps_per_second:.3g}/s"
    eta = "" if row.eta_seconds is None else f" ETA {format_duration(int(row.eta_seconds * 1000))}"
    sparks = "  ".join(f"{key} {sparkline(values)}" for key, values in row.sparklines.items())
    gpu = f"  GPU {sparkline(row.gpu_utilization)}" if row.gpu_utilization else ""
    badge = f"  ⚠ {len(row.alerts)}" if row.alerts else ""
    head = f"{row.status:<8} {row.run.info.run_name[:24]:<24} last {since:>6}  {rate:>9}{eta}{badge}"
    lines = [head + (f"\n         {sparks}{gpu}" if sparks or gpu else "")]
    lines += [f"         ⚠ {alert.kind}: {alert.message}" for alert in row.alerts]
    return "\n".join(lines)


@click.command("watch")
@experiments_option
@click.option(
    "--metric",
    "-m",
    "metrics",
    multiple=True,
    metavar="KEY",
    help="Metric to draw a sparkline of (at most 2).",
)
@click.option(
    "--once", is_flag=True, help="Print the RUNNING runs once and exit (3 when an alert is active)."
)
@click.option("--json", "as_json", is_flag=True, help="With --once: print a JSON array.")
@click.option(
    "--set-threshold",
    "set_thresholds",
    multiple=True,
    metavar="NAME=VALUE",
    help="Store an alert threshold for this store and exit: stall_factor, stall_min_seconds, "
    "gpu_idle_percent, gpu_idle_minutes.",
)
@store_option
def watch_command(
    experiments: tuple[str, ...],
    metrics: tuple[str, ...],
    once: bool,
    as_json: bool,
    set_thresholds: tuple[str, ...],
    store: str | None,
) -> None:
    """Watch the RUNNING runs: time since their last point, steps/s, ETA, sparklines and alerts.

    Alerts: a metric became NaN or infinite; the heartbeat stopped (LOST); no point for 10x the run's
    usual logging interval; GPU utilization below 10% for 5 minutes. Without --once it opens the
    terminal UI's watch screen (refreshed every 2 s; enter opens a run). Exit status with --once: 3 when
    any alert is active, 0 when none (1 or 2 for errors, as every command).

    \b
    Examples:
      runyard watch -e /vision/resnet
      runyard watch --once --json        for scripts and cron jobs
      runyard watch --set-threshold gpu_idle_minutes=15
    """
    from runyard.clock import now_ms
    from runyard.tracking.watch import set_threshold, watch_snapshot

    client = open_client(store)
    if set_thresholds:
        for item in set_thresholds:
            name, equals, value = item.partition("=")
            if not equals:
                raise click.UsageError(
                    f"--set-threshold {item!r}: write NAME=VALUE, such as gpu_idle_percent=5."
                )
            set_threshold(client, name.strip(), value.strip())
        click.echo(f"Saved {len(set_thresholds)} alert threshold(s) in the store.")
        return
    if as_json and not once:
        raise click.UsageError("--json needs --once (the live view is the terminal UI).")
    experiment_ids = [e.experiment_id for e in experiments_for(client, experiments, "ACTIVE_ONLY")]
    if not once:
        from .ui import launch_watch

        launch_watch(client.tracking_uri, experiment_ids, metrics[:2])
        return
    now = now_ms()
    rows = watch_snapshot(client, experiment_ids, now, metrics[:2]) if experiment_ids else []
    if as_json:
        click.echo(json.dumps([watched_json(row, now) for row in rows], indent=2, allow_nan=False))
    elif rows:
        click.echo("\n".join(watched_line(row, now) for row in rows))
    else:
        click.echo("No RUNNING runs.")
    if any(row.alerts for row in rows):
        sys.exit(ALERTS_EXIT_STATUS)

"""`runyard gc`, `runyard export-csv` and `runyard db upgrade`."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import sqlite_file_path
from ..exceptions import StoreError
from .common import (
    VIEW_CHOICES,
    DurationType,
    experiments_for,
    experiments_option,
    find_experiment,
    open_client,
    plural,
    refuse_remote,
    resolve_store,
    store_option,
    view_option,
)

MS_PER_DAY = 86_400_000


def _age(ms: int) -> str:
    for unit, size in (("d", MS_PER_DAY), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms / 1000:g}s"


@click.command("gc", short_help="Permanently remove old deleted runs and experiments.")
@click.option(
    "--older-than",
    type=DurationType(),
    default=None,
    help="Remove what was deleted longer ago than this: 30d, 12h, 90m, 45s, 0 "
    "[default: the retention setting, $RUNYARD_RETENTION_DAYS or 30 days].",
)
@click.option(
    "--run",
    "run_ids",
    multiple=True,
    metavar="RUN_ID",
    help="Remove exactly this deleted run, whatever its age; repeatable.",
)
@click.option(
    "--experiment",
    "-e",
    "experiments",
    multiple=True,
    metavar="NAME",
    help="Remove exactly this experiment from the trash (with all its runs); repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Only print what would be removed.")
@store_option
def gc_command(
    older_than: int | None,
    run_ids: tuple[str, ...],
    experiments: tuple[str, ...],
    dry_run: bool,
    store: str | None,
) -> None:
    """Permanently remove deleted runs and experiments (rows and artifact files) past the retention.

    Active runs are never touched. Without --run/--experiment, everything deleted longer ago
    than --older-than goes.

    \b
    Examples:
      runyard gc --dry-run
      runyard gc --older-than 7d
      runyard gc --run 3f2a9c0e4b1d4e2f8a7b6c5d4e3f2a1b
    """
    from datetime import timedelta

    if older_than is not None and (run_ids or experiments):
        raise click.UsageError(
            "--older-than applies to the whole trash; --run/--experiment remove exactly those."
        )
    client = open_client(store)
    experiment_ids = [find_experiment(client, name).experiment_id for name in experiments]
    age_ms = older_than if older_than is not None else int(client.retention_days * MS_PER_DAY)
    result = client.gc(
        older_than=timedelta(milliseconds=age_ms),
        run_ids=list(run_ids) if run_ids or experiments else None,
        experiment_ids=experiment_ids if run_ids or experiments else None,
        dry_run=dry_run,
    )
    what = f"{plural(result.run_count, 'run')} and {plural(result.experiment_count, 'experiment')}"
    scope = "" if run_ids or experiments else f" deleted more than {_age(age_ms)} ago"
    click.echo(f"{'Would remove' if dry_run else 'Removed'} {what}{scope}.")
    if dry_run:
        for experiment_id in result.experiment_ids:
            click.echo(f"  experiment {experiment_id}")
        for run_id in result.run_ids:
            click.echo(f"  run {run_id}")


@click.command("export-csv", short_help="Write the runs of a search to a CSV file.")
@click.argument("output", type=click.Path(dir_okay=False, writable=True), default="runs.csv")
@experiments_option
@click.option("--filter", "-f", "filter_string", default="", metavar="QUERY", help="Search query.")
@click.option("--order-by", "-o", "order_by", multiple=True, metavar="KEY [ASC|DESC]", help="Sort key.")
@view_option
@click.option(
    "--max-results",
    type=click.IntRange(1, 1_000_000),
    default=100_000,
    show_default=True,
    help="At most this many runs.",
)
@store_option
def export_csv_command(
    output: str,
    experiments: tuple[str, ...],
    filter_string: str,
    order_by: tuple[str, ...],
    view: str,
    max_results: int,
    store: str | None,
) -> None:
    """Write the runs of a search to a CSV file, in the shape of `runs list --csv`.

    Columns: run_id, run_name, experiment_id, experiment_name, status (LOST for a RUNNING run without
    heartbeats), lifecycle_stage, user_id, start_time, end_time, duration_s, parent_run_id, then
    params.*, metrics.* (latest values) and tags.* (user tags).

    \b
    Example:
      runyard export-csv best.csv -e /vision/resnet -f "metrics.accuracy > 0.9"
    """
    client = open_client(store)
    run_view = VIEW_CHOICES[view]
    chosen = experiments_for(client, experiments, run_view)
    ids = [e.experiment_id for e in chosen]
    count = client.export_runs_csv(output, ids, filter_string, run_view, list(order_by) or None, max_results)
    click.echo(f"Wrote {plural(count, 'run')} to {Path(output)}.")


@click.group("db")
def db_group() -> None:
    """Maintain the store's database schema.

    \b
    Example:
      runyard db upgrade --store runyard.db
    """


@db_group.command("upgrade")
@store_option
def upgrade_command(store: str | None) -> None:
    """Migrate an existing store to the schema of this runyard version (safe to run twice).

    \b
    Example:
      runyard db upgrade --store postgresql://tracker@db.example/runs
    """
    from runyard.store.db import get_database
    from runyard.store.schema import upgrade

    uri = resolve_store(store)
    refuse_remote(
        uri, "db upgrade", "run it on the server's machine with --store set to the server's database URL."
    )
    path = sqlite_file_path(uri)
    if uri.startswith("sqlite") and (path is None or not path.is_file()):
        raise StoreError(f"No runyard store at {path or uri}: nothing to upgrade.")
    old_version, new_version = upgrade(get_database(uri))
    if old_version == new_version:
        click.echo(f"The store is already at schema {new_version}.")
    else:
        click.echo(f"Upgraded the store from schema {old_version} to {new_version}.")

"""`runyard runs ...`: list, search, delete and restore runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..entities import PagedList
from .common import (
    VIEW_CHOICES,
    WhenType,
    experiments_for,
    experiments_option,
    find_experiment,
    format_time,
    open_client,
    plural,
    runs_csv,
    runs_json,
    runs_table,
    store_option,
    view_option,
)

if TYPE_CHECKING:
    from runyard.tracking.client import TrackingClient

    from ..entities import Run

F = TypeVar("F", bound=Callable[..., Any])
PAGE_SIZE = 5000


@click.group("runs")
def runs_group() -> None:
    """List, search, delete and restore runs.

    \b
    Example:
      runyard runs search --experiment /vision/resnet --filter "metrics.accuracy > 0.9"
    """


def _listing_options(function: F) -> F:
    options = [
        experiments_option,
        view_option,
        click.option(
            "--max-results",
            type=click.IntRange(1, 1_000_000),
            default=1000,
            show_default=True,
            help="At most this many runs.",
        ),
        click.option(
            "--column",
            "-c",
            "columns",
            multiple=True,
            metavar="KEY",
            help="Extra table column such as metrics.loss, params.lr or tags.team; repeatable.",
        ),
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table."),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table."),
        store_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def collect_runs(
    client: TrackingClient,
    experiment_ids: Sequence[str],
    filter_string: str,
    view: str,
    max_results: int,
    order_by: Sequence[str] | None,
) -> PagedList:
    """Up to max_results runs of a search, fetched page by page; `.token` is set when more may match."""
    runs: list[Run] = []
    token: str | None = None
    if not experiment_ids:
        return PagedList(runs)
    while len(runs) < max_results:
        page = client.search_runs(
            list(experiment_ids),
            filter_string=filter_string,
            run_view_type=view,
            max_results=min(PAGE_SIZE, max_results - len(runs)),
            order_by=list(order_by) if order_by else None,
            page_token=token,
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    return PagedList(runs, token)


def _print_runs(
    client: TrackingClient,
    experiments: Sequence[str],
    view: str,
    max_results: int,
    columns: Sequence[str],
    as_csv: bool,
    as_json: bool,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
) -> None:
    if as_csv and as_json:
        raise click.UsageError("Choose one of --csv and --json.")
    run_view = VIEW_CHOICES[view]
    chosen = experiments_for(client, experiments, run_view)
    names = {experiment.experiment_id: experiment.name for experiment in client.list_experiments("ALL")}
    runs = collect_runs(
        client, [e.experiment_id for e in chosen], filter_string, run_view, max_results, order_by
    )
    if as_json:
        click.echo(runs_json(runs, names))
    elif as_csv:
        click.echo(runs_csv(runs, names), nl=False)
    elif not runs:
        click.echo("No runs.", err=True)
    else:
        click.echo(runs_table(runs, names, columns))
        if runs.token:
            click.echo(f"(showing the first {len(runs)}: more runs match; raise --max-results)", err=True)


@runs_group.command("list", short_help="List runs as a table, CSV or JSON.")
@_listing_options
def list_runs(
    experiments: tuple[str, ...],
    view: str,
    max_results: int,
    columns: tuple[str, ...],
    as_csv: bool,
    as_json: bool,
    store: str | None,
) -> None:
    """List runs, newest first, as a table, CSV or JSON.

    \b
    Example:
      runyard runs list --experiment /vision/resnet --view all --csv > runs.csv
    """
    client = open_client(store)
    _print_runs(client, experiments, view, max_results, columns, as_csv, as_json)


@runs_group.command("search", short_help="Search runs with the query language.")
@click.option(
    "--filter",
    "-f",
    "filter_string",
    default="",
    metavar="QUERY",
    help="Search query, e.g. \"metrics.accuracy > 0.9 and params.optimizer = 'adam'\".",
)
@click.option(
    "--order-by",
    "-o",
    "order_by",
    multiple=True,
    metavar="KEY [ASC|DESC]",
    help="Sort key such as 'metrics.loss ASC' or 'attributes.start_time DESC'; repeatable.",
)
@_listing_options
def search_runs(
    filter_string: str,
    order_by: tuple[str, ...],
    experiments: tuple[str, ...],
    view: str,
    max_results: int,
    columns: tuple[str, ...],
    as_csv: bool,
    as_json: bool,
    store: str | None,
) -> None:
    """Search runs with the query language and print them as a table, CSV or JSON.

    \b
    Example:
      runyard runs search -e /nlp/bert -f "metrics.val_loss < 0.3" -o "metrics.val_loss ASC" \\
          -c metrics.val_loss -c params.lr
    """
    client = open_client(store)
    _print_runs(client, experiments, view, max_results, columns, as_csv, as_json, filter_string, order_by)


def _bulk_options(flag: str, flag_help: str) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        options = [
            click.argument("run_ids", nargs=-1, metavar="[RUN_ID]..."),
            click.option(flag, "when", type=WhenType(), default=None, help=flag_help),
            click.option(
                "--experiment",
                "-e",
                "experiment",
                default=None,
                metavar="NAME",
                help=f"Experiment (name or id) for {flag}.",
            ),
            click.option(
                "--max-runs",
                type=click.IntRange(1, 10_000),
                default=10_000,
                show_default=True,
                help=f"With {flag}: change at most this many runs (1 to 10000).",
            ),
            click.option("--dry-run", is_flag=True, help="Only print what would change."),
            store_option,
        ]
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _check_bulk_usage(
    run_ids: Sequence[str], when: int | None, experiment: str | None, flag: str, max_runs: int
) -> None:
    if run_ids and when is not None:
        raise click.UsageError(f"Give run ids or {flag}, not both.")
    if not run_ids and when is None:
        raise click.UsageError(f"Give one or more run ids, or {flag} DATE with --experiment NAME.")
    if when is not None and experiment is None:
        raise click.UsageError(f"{flag} needs --experiment NAME (one experiment at a time).")
    if run_ids and experiment is not None:
        raise click.UsageError(f"--experiment goes with {flag}; run ids name their runs already.")
    if run_ids and max_runs != 10_000:
        raise click.UsageError(f"--max-runs goes with {flag}.")


def _report_ids(done: str, verb: str, ids: Sequence[str], dry_run: bool) -> None:
    lead = f"Would {verb}" if dry_run else done
    click.echo(f"{lead} {plural(len(ids), 'run')}" + (":" if ids else "."))
    for run_id in ids:
        click.echo(f"  {run_id}")


@runs_group.command("delete", short_help="Move runs to the trash (one by one or by date).")
@_bulk_options("--before", "Delete active runs started at or before this date (YYYY-MM-DD: local midnight).")
@click.option("--no-descendants", is_flag=True, help="With run ids: keep their child runs.")
def delete_command(
    run_ids: tuple[str, ...],
    when: int | None,
    experiment: str | None,
    max_runs: int,
    dry_run: bool,
    store: str | None,
    no_descendants: bool,
) -> None:
    """Move runs to the trash (children go too); they can be restored until `runyard gc` removes them.

    \b
    Examples:
      runyard runs delete 3f2a9c0e4b1d4e2f8a7b6c5d4e3f2a1b
      runyard runs delete --before 2026-01-01 --experiment /vision/resnet --max-runs 500 --dry-run
    """
    _check_bulk_usage(run_ids, when, experiment, "--before", max_runs)
    client = open_client(store)
    if when is None:
        _report_ids(
            "Deleted", "delete", client.delete_run(list(run_ids), not no_descendants, dry_run), dry_run
        )
        if not dry_run:
            click.echo(
                f"They stay in the trash for {client.retention_days:g} days "
                "(`runyard runs restore RUN_ID`); `runyard gc` removes them after that."
            )
        return
    assert experiment is not None
    target = find_experiment(client, experiment)
    count = client.delete_runs(target.experiment_id, when, max_runs, dry_run)
    lead = "Would delete" if dry_run else "Deleted"
    click.echo(f"{lead} {plural(count, 'run')} of {target.name!r} started at or before {format_time(when)}.")


@runs_group.command("restore", short_help="Bring runs back from the trash.")
@_bulk_options("--since", "Restore runs deleted at or after this date (YYYY-MM-DD: local midnight).")
@click.option("--no-descendants", is_flag=True, help="With run ids: leave their child runs in the trash.")
def restore_command(
    run_ids: tuple[str, ...],
    when: int | None,
    experiment: str | None,
    max_runs: int,
    dry_run: bool,
    store: str | None,
    no_descendants: bool,
) -> None:
    """Bring runs back from the trash, with the children deleted together with them.

    \b
    Examples:
      runyard runs restore 3f2a9c0e4b1d4e2f8a7b6c5d4e3f2a1b
      runyard runs restore --since 2026-03-01 --experiment /vision/resnet
    """
    _check_bulk_usage(run_ids, when, experiment, "--since", max_runs)
    client = open_client(store)
    if when is None:
        _report_ids(
            "Restored", "restore", client.restore_run(list(run_ids), not no_descendants, dry_run), dry_run
        )
        return
    assert experiment is not None
    target = find_experiment(client, experiment)
    count = client.restore_runs(target.experiment_id, when, max_runs, dry_run)
    lead = "Would restore" if dry_run else "Restored"
    click.echo(f"{lead} {plural(count, 'run')} of {target.name!r} deleted at or after {format_time(when)}.")

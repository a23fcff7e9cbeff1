"""The interop commands of `runyard`: export, import, copy, import-mlflow (added by `register`).

Core errors propagate to the root group of runyard.cli, which prints them as one-line messages.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..config import mask_uri, normalize_tracking_uri
from .common import resolve_store, store_option

F = TypeVar("F", bound=Callable[..., Any])


def _experiment_option(function: F) -> F:
    return click.option(
        "--experiment",
        "-e",
        "experiments",
        multiple=True,
        metavar="NAME",
        help="Only this experiment (repeat for several) [default: all].",
    )(function)


def _on_conflict_option(function: F) -> F:
    return click.option(
        "--on-conflict",
        type=click.Choice(["skip", "fail"]),
        default="skip",
        show_default=True,
        help="A run id already in the target: skip it, or refuse the whole import before writing.",
    )(function)


def _print_import(result: Any) -> None:
    click.echo(
        f"Imported {result.runs_imported} run(s) with {result.metric_points:,} metric points and "
        f"{result.artifact_files} artifact file(s); skipped {result.runs_skipped} already present; "
        f"experiments: {result.experiments_created} created, {result.experiments_reused} reused "
        f"({result.seconds:.1f} s)."
    )
    for note in result.notes:
        click.echo(f"Note: {note}")


@click.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False))
@_experiment_option
@click.option("--filter", "-f", "filter_string", default="", metavar="QUERY", help="Only runs matching.")
@click.option("--include-deleted", is_flag=True, help="Also runs and experiments in the trash.")
@click.option("--no-artifacts", is_flag=True, help="Leave artifact files out of the dump.")
@store_option
def export_command(
    out_dir: str,
    experiments: tuple[str, ...],
    filter_string: str,
    include_deleted: bool,
    no_artifacts: bool,
    store: str | None,
) -> None:
    """Write runs to OUT_DIR as a versioned, checksummed dump (JSON Lines + artifact files).

    The store may be a tracking server (runyard's or MLflow's): it is read over HTTP a page at a time.

    \b
    Examples:
      runyard export --store runs.db --experiment /team/vision dump/
      runyard export --store http://tracking.internal:5000 --include-deleted dump/
    """
    from ..interop import export_runs

    result = export_runs(
        resolve_store(store),
        out_dir,
        list(experiments) or None,
        filter_string,
        include_deleted,
        not no_artifacts,
    )
    counts = result.counts
    click.echo(
        f"Exported {counts['runs']} run(s) of {counts['experiments']} experiment(s) with "
        f"{result.metric_points:,} metric points and {counts['artifacts']} artifact file(s) to {out_dir} "
        f"({result.seconds:.1f} s)."
    )


@click.command("export-parquet")
@click.argument("out_dir", type=click.Path(file_okay=False))
@_experiment_option
@click.option("--filter", "-f", "filter_string", default="", metavar="QUERY", help="Only runs matching.")
@store_option
def export_parquet_command(
    out_dir: str, experiments: tuple[str, ...], filter_string: str, store: str | None
) -> None:
    """Write runs and full metric histories to OUT_DIR as Parquet, for Spark, DuckDB and pandas.

    Tables (folders): runs (one row a run: params.*, metrics.*, tags.* columns), params, tags, metrics
    (latest per key), metric_history (every point) and experiments; partitioned as experiment_id=<id>/.

    \b
    Examples:
      runyard export-parquet out/ -e /team/vision --filter "metrics.acc > 0.9"
      duckdb -c "SELECT count(*) FROM read_parquet('out/metric_history/*/*.parquet', hive_partitioning=1)"
      spark.read.parquet("out/runs")        # pd.read_parquet("out/runs") in pandas
    """
    import sys

    from ..interop.parquet import export_parquet
    from .common import open_client

    client = open_client(store)
    with click.progressbar(length=1, label="Exporting runs", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        counts = export_parquet(client, out_dir, list(experiments) or None, filter_string, progress)
    click.echo(
        f"Exported {counts['runs']} run(s) of {counts['experiments']} experiment(s) with "
        f"{counts['metric_history']:,} metric points to {out_dir} as Parquet."
    )


@click.command("import")
@click.argument("in_dir", type=click.Path(file_okay=False, exists=True))
@_on_conflict_option
@store_option
def import_command(in_dir: str, on_conflict: str, store: str | None) -> None:
    """Load a dump written by `runyard export` into a store (checked first; runs already there are skipped).

    The store may be a runyard server (an administrator's credentials with --auth): the dump is checked
    here, then sent in parts that the server imports run by run; running it again resumes.

    \b
    Examples:
      runyard import --store postgresql://tracker@db/runs dump/
      runyard import --store https://tracking.internal dump/
    """
    from ..interop import import_runs

    result = import_runs(resolve_store(store), in_dir, on_conflict)
    _print_import(result)


@click.command("copy")
@click.option("--from", "source", required=True, metavar="URI", help="Store to copy from.")
@click.option("--to", "target", required=True, metavar="URI", help="Store to copy into (created if new).")
@_experiment_option
@click.option("--filter", "-f", "filter_string", default="", metavar="QUERY", help="Only runs matching.")
@click.option("--active-only", is_flag=True, help="Leave runs and experiments in the trash behind.")
@_on_conflict_option
def copy_command(
    source: str,
    target: str,
    experiments: tuple[str, ...],
    filter_string: str,
    active_only: bool,
    on_conflict: str,
) -> None:
    """Copy runs (with metrics, artifacts, trash state) from one store to another.

    Either side may be a tracking server URL (the target a runyard server: see `runyard import --help`).

    \b
    Examples:
      runyard copy --from runyard.db --to postgresql://tracker@db/runs
      runyard copy --from runyard.db --to https://tracking.internal
    """
    from ..interop import copy_runs

    result = copy_runs(
        normalize_tracking_uri(source),
        normalize_tracking_uri(target),
        list(experiments) or None,
        filter_string,
        not active_only,
        on_conflict,
    )
    _print_import(result)


@click.command("import-mlflow")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="MLFLOW_TRACKING_URI",
    help="sqlite:///mlflow.db, a database URL, or an ./mlruns directory (never modified).",
)
@_experiment_option
@store_option
def import_mlflow_command(source: str, experiments: tuple[str, ...], store: str | None) -> None:
    """Copy experiments, runs, metric histories, tags and artifacts from MLflow (needs runyard[mlflow]).

    --store may be a runyard server URL (see `runyard import --help`).

    \b
    Example:
      runyard import-mlflow --from sqlite:///mlflow.db --store runyard.db
    """
    from ..interop import import_mlflow

    target = resolve_store(store)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Reading MLflow runs", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)
            click.echo("Writing them into runyard...", err=True)

    try:
        result = import_mlflow(source, target, list(experiments) or None, progress=progress)
    finally:
        if bar is not None and not bar.finished:
            bar.__exit__(None, None, None)
    click.echo(f"From MLflow {mask_uri(source)} into {mask_uri(target)}:")
    _print_import(result)


def register(group: click.Group) -> None:
    """Add export, export-parquet, import, copy and import-mlflow to the `runyard` command group."""
    for command in (
        export_command,
        export_parquet_command,
        import_command,
        copy_command,
        import_mlflow_command,
    ):
        group.add_command(command)

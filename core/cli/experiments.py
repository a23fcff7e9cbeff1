"""`runyard experiments ...`: list, create, rename (also whole folders), delete and restore."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..exceptions import ExperimentNotFound, InvalidState
from ..json_output import dumps
from .common import (
    VIEW_CHOICES,
    find_experiment,
    format_time,
    open_client,
    plural,
    render_table,
    store_option,
)

if TYPE_CHECKING:
    from runyard.tracking.client import TrackingClient

    from ..entities import Experiment


@click.group("experiments")
def experiments_group() -> None:
    """List, create, rename, delete and restore experiments.

    \b
    Example:
      runyard experiments rename /vision /cv --folder
    """


@experiments_group.command("list")
@click.option(
    "--view",
    type=click.Choice(list(VIEW_CHOICES)),
    default="active",
    show_default=True,
    help="Active experiments, the trash, or both.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@store_option
def list_experiments(view: str, as_json: bool, store: str | None) -> None:
    """List experiments by name, with their number of active runs.

    \b
    Example:
      runyard experiments list --view deleted
    """
    client = open_client(store)
    experiments = client.list_experiments(VIEW_CHOICES[view])
    counts = client.count_runs([e.experiment_id for e in experiments]) if experiments else {}
    if as_json:
        records = [
            {
                "experiment_id": e.experiment_id,
                "name": e.name,
                "lifecycle_stage": e.lifecycle_stage,
                "active_runs": counts.get(e.experiment_id, 0),
                "creation_time": e.creation_time,
                "deleted_time": e.deleted_time,
                "tags": e.tags,
            }
            for e in experiments
        ]
        click.echo(dumps(records, indent=2))
        return
    if not experiments:
        click.echo("No experiments.", err=True)
        return
    headers = ["ID", "NAME", "RUNS", "CREATED"]
    if view != "active":
        headers += ["STAGE", "DELETED"]
    rows = []
    for e in experiments:
        row = [e.experiment_id, e.name, str(counts.get(e.experiment_id, 0)), format_time(e.creation_time)]
        if view != "active":
            row += [e.lifecycle_stage, format_time(e.deleted_time)]
        rows.append(row)
    click.echo(render_table(headers, rows, max_width=80))


def _parse_tags(pairs: tuple[str, ...]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE.", param_hint="--tag")
        tags[key] = value
    return tags


@experiments_group.command("create")
@click.argument("name")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag to set; repeatable.")
@click.option("--artifact-location", default=None, metavar="DIR", help="Where its runs keep artifacts.")
@store_option
def create_experiment(
    name: str, tags: tuple[str, ...], artifact_location: str | None, store: str | None
) -> None:
    """Create an experiment (a name may be a path such as /team/vision/resnet) and print its id.

    \b
    Example:
      runyard experiments create /vision/resnet --tag owner=ana
    """
    client = open_client(store, must_exist=False)  # creating an experiment may start a new store
    experiment_id = client.create_experiment(name, artifact_location, _parse_tags(tags) or None)
    click.echo(experiment_id)


@experiments_group.command("rename")
@click.argument("old")
@click.argument("new")
@click.option(
    "--folder",
    is_flag=True,
    help="Rename the folder OLD: every experiment named OLD or under OLD/ moves under NEW/.",
)
@store_option
def rename_experiment(old: str, new: str, folder: bool, store: str | None) -> None:
    """Rename an experiment (by name or id), or with --folder every experiment under a folder.

    OLD ending in '/', or naming no experiment but a folder of them, renames the folder.

    \b
    Examples:
      runyard experiments rename /vision/resnet /vision/resnet50
      runyard experiments rename /vision /cv --folder
    """
    client = open_client(store)
    if not folder and not old.endswith("/"):
        try:
            experiment = find_experiment(client, old)
        except ExperimentNotFound:
            experiment = None
            prefix = old.rstrip("/") + "/"
            if not any(e.name.startswith(prefix) for e in client.list_experiments("ALL")):
                raise
        if experiment is not None:
            client.rename_experiment(experiment.experiment_id, new)
            click.echo(f"Renamed {experiment.name!r} to {new.strip()!r}.")
            return
    mapping = client.rename_experiment_folder(old, new)
    click.echo(f"Renamed {plural(len(mapping), 'experiment')}:")
    for old_name, new_name in mapping.items():
        click.echo(f"  {old_name} -> {new_name}")


def _all_in_stage(
    client: TrackingClient, names: tuple[str, ...], stage: str, problem: str
) -> list[Experiment]:
    """Every named experiment, checked to be in the stage before anything changes."""
    experiments = [find_experiment(client, name) for name in names]
    for experiment in experiments:
        if experiment.lifecycle_stage != stage:
            raise InvalidState(f"Experiment {experiment.name!r} {problem}: nothing was changed.")
    return experiments


@experiments_group.command("delete")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@store_option
def delete_experiments(names: tuple[str, ...], store: str | None) -> None:
    """Move experiments (by name or id) to the trash; their runs are hidden with them until restored.

    \b
    Example:
      runyard experiments delete /scratch/tries
    """
    client = open_client(store)
    experiments = _all_in_stage(client, names, "active", "is already in the trash")
    for experiment in experiments:
        client.delete_experiment(experiment.experiment_id)
        click.echo(f"Moved {experiment.name!r} to the trash.")
    click.echo(
        f"Restore with `runyard experiments restore NAME` within {client.retention_days:g} days; "
        "`runyard gc` removes it after that."
    )


@experiments_group.command("restore")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@store_option
def restore_experiments(names: tuple[str, ...], store: str | None) -> None:
    """Bring experiments (by name or id) back from the trash, with their runs.

    \b
    Example:
      runyard experiments restore /scratch/tries
    """
    client = open_client(store)
    experiments = _all_in_stage(client, names, "deleted", "is not in the trash")
    for experiment in experiments:
        client.restore_experiment(experiment.experiment_id)
        click.echo(f"Restored {experiment.name!r}.")

"""What the run-details screen shows, read together in its worker: the run, its parent, children, files.

Plain functions of a TrackingClient (no widgets), so the screen file holds only the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runyard import InvalidQuery, Run, RunNotFound, RunyardError, TrackingClient
from runyard.tracking.context import PARENT_RUN_ID, REQUIREMENTS_ARTIFACT, TAG_PREFIX
from runyard.tracking.run_contents import DatasetSummary, ModelSummary, run_datasets, run_models

MAX_CHILDREN = 5000


@dataclass(frozen=True)
class RunDetails:
    """What the screen shows, fetched together by a worker."""

    run: Run
    experiment_name: str
    parent: tuple[str, str] | None  # (run_id, run_name)
    children: list[tuple[str, str]]  # (run_id, run_name)
    requirements_path: str | None
    waiting_to_sync: int = 0  # metric points of the run in outboxes on this machine
    models: list[ModelSummary] = field(default_factory=list)
    datasets: list[DatasetSummary] = field(default_factory=list)


def is_system_tag(key: str) -> bool:
    """runyard.* tags are written by runyard and read-only here (the notes tag goes through `N`)."""
    return key.startswith(TAG_PREFIX)


def find_children(client: TrackingClient, run: Run) -> list[tuple[str, str]]:
    """(run_id, name) of the run's direct children, by the parent tag (search), else by a scan."""
    quoted = run.info.run_id.replace("'", "")
    try:
        found = client.search_runs(
            [run.info.experiment_id],
            filter_string=f"tags.`{PARENT_RUN_ID}` = '{quoted}'",
            max_results=MAX_CHILDREN,
        )
        return [(child.info.run_id, child.info.run_name) for child in found]
    except InvalidQuery:  # an older search without filters: page through the experiment instead
        children, token = [], None
        while True:
            page = client.search_runs([run.info.experiment_id], max_results=1000, page_token=token)
            children += [
                (r.info.run_id, r.info.run_name) for r in page if r.info.parent_run_id == run.info.run_id
            ]
            token = page.token
            if token is None or len(children) >= MAX_CHILDREN:
                return children


def load_details(client: TrackingClient, run_id: str) -> RunDetails:
    """Run, experiment name, parent, children and the requirements artifact path (several store calls)."""
    run = client.get_run(run_id)
    experiment_name = client.get_experiment(run.info.experiment_id).name
    parent = None
    parent_id = run.info.parent_run_id or run.data.tags.get(PARENT_RUN_ID)
    if parent_id:
        try:
            parent = (parent_id, client.get_run(parent_id).info.run_name)
        except RunNotFound:
            parent = (parent_id, "(deleted)")
    requirements = None
    try:
        if any(f.path == REQUIREMENTS_ARTIFACT for f in client.list_artifacts(run_id, "environment")):
            requirements = client.artifact_local_path(run_id, REQUIREMENTS_ARTIFACT)
    except (RunyardError, OSError):
        requirements = None
    from runyard.rest.outbox import pending_points

    try:
        waiting = pending_points(run_id)
    except OSError:
        waiting = 0
    children = find_children(client, run)
    return RunDetails(
        run,
        experiment_name,
        parent,
        children,
        requirements,
        waiting_to_sync=waiting,
        models=run_models(client, run),
        datasets=run_datasets(run),
    )

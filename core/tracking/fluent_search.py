"""Module-level search API (MLflow's names): search_runs, search_experiments, export_runs_csv."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runyard.entities import Experiment, Run, ViewType
from runyard.exceptions import ExperimentNotFound, InvalidInput
from runyard.tracking import export as _export
from runyard.tracking.export import require_pandas, runs_to_dataframe

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping
    from typing import IO

    from runyard.tracking.client import TrackingClient

__all__ = ["export_runs_csv", "search_experiments", "search_runs"]

_PAGE = 50_000


def _experiment_ids(
    client: TrackingClient,
    experiment_ids: Sequence[str] | str | None,
    experiment_names: Sequence[str] | str | None,
    search_all_experiments: bool,
) -> list[str]:
    from runyard.tracking import fluent

    if experiment_ids is not None and experiment_names is not None:
        raise InvalidInput("Give experiment_ids or experiment_names, not both.")
    if experiment_ids is not None:
        return [experiment_ids] if isinstance(experiment_ids, str) else [str(e) for e in experiment_ids]
    if experiment_names is not None:
        names = [experiment_names] if isinstance(experiment_names, str) else list(experiment_names)
        ids = []
        for name in names:
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise ExperimentNotFound(
                    f"No experiment named {name!r}: check the name (runyard experiments)."
                )
            ids.append(experiment.experiment_id)
        return ids
    if search_all_experiments:  # active experiments only, whatever run_view_type asks (as MLflow)
        return [experiment.experiment_id for experiment in client.list_experiments(ViewType.ACTIVE_ONLY)]
    return [fluent._default_experiment_id(client)]


def search_runs(
    experiment_ids: Sequence[str] | str | None = None,
    filter_string: str = "",
    run_view_type: str = ViewType.ACTIVE_ONLY,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    experiment_names: Sequence[str] | str | None = None,
    search_all_experiments: bool = False,
    output_format: str = "list",
) -> Any:
    """Runs matching a filter, in order, up to max_results: a list of Run, or a pandas DataFrame.

    No ids and no names: the active experiment. `search_all_experiments=True`: every active experiment
    (as MLflow: run_view_type picks runs, not experiments; name a deleted experiment to search it).
    `output_format="pandas"` needs the pandas extra (columns run_id, experiment_id, run_name,
    status, start_time, end_time, user_id, params.*, metrics.*, tags.*).
    """
    from runyard.tracking import fluent

    if output_format not in ("list", "pandas"):
        raise InvalidInput(f"Invalid output_format {output_format!r}: use 'list' or 'pandas'.")
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidInput("max_results must be a positive integer.")
    if output_format == "pandas":
        require_pandas()  # a missing extra fails before any search
    fluent.flush()  # buffered metric points are part of what the caller logged
    client = fluent._client()
    ids = _experiment_ids(client, experiment_ids, experiment_names, search_all_experiments)
    runs: list[Run] = []
    token = None
    while len(runs) < max_results:
        page = client.search_runs(
            ids, filter_string, run_view_type, min(_PAGE, max_results - len(runs)), order_by, token
        )
        runs += page
        token = page.token
        if token is None:
            break
    if output_format == "pandas":
        return runs_to_dataframe(runs)
    return runs


def search_experiments(
    filter_string: str = "",
    view_type: str = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> list[Experiment]:
    """Experiments matching a filter such as `name LIKE '/team/%' AND tags.owner = 'ana'`."""
    from runyard.tracking import fluent

    return fluent._client().search_experiments(filter_string, view_type, order_by, max_results)


def export_runs_csv(
    runs: Iterable[Run],
    path_or_file: str | os.PathLike[str] | IO[Any],
    experiment_names: Mapping[str, str] | None = None,
) -> int:
    """Write runs as CSV in the shape of `runyard runs list --csv`; return how many were written.

    Columns: run_id, run_name, experiment_id, experiment_name, status (LOST for a RUNNING run without
    heartbeats), lifecycle_stage, user_id, start_time, end_time, duration_s, parent_run_id, then
    params.*, metrics.* (latest values) and tags.*. Experiment names come from `experiment_names`,
    else from the store the module API already talks to (never opening one just for this).
    """
    from runyard.tracking import fluent

    run_list = list(runs)
    if experiment_names is None and run_list:
        client = fluent._clients.get(fluent.get_tracking_uri())
        if client is not None:
            experiment_names = {e.experiment_id: e.name for e in client.list_experiments(ViewType.ALL)}
    return _export.export_runs_csv(run_list, path_or_file, experiment_names)

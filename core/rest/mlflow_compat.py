"""RestStore on a stock MLflow server: browsing computed from MLflow's search, and clear refusals.

MLflow's REST API has no overview, key scan, signature, downsampling, purge or folder rename: they are
computed here from at most OVERVIEW_SAMPLE runs (counts at that size read "1,000+") or refused with a
message naming the MLflow limitation. MLflow keeps no heartbeats, so no run is ever LOST here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..entities import PARENT_RUN_ID, DownsampledHistory, ExperimentOverview, Run, RunKeys, RunStatus
from ..exceptions import InvalidInput, InvalidQuery, RunNotFound
from .transport import RemoteNotFound

if TYPE_CHECKING:
    from .store import RestStore

OVERVIEW_SAMPLE = 1000
"""How many runs the counts of a stock MLflow server are computed from (MLflow has no count call)."""
SIGNATURE_SAMPLE = 100
"""How many of the newest runs the live-refresh signature reads on a stock MLflow server (every tick)."""
HISTORY_CAP = 100_000
"""The most points of one metric fetched from a stock MLflow server for a chart (then downsampled)."""

NO_PURGE = (
    "A stock MLflow server cannot purge runs over its REST API: run `mlflow gc --backend-store-uri ...` "
    "on the server's machine (runyard server can)."
)


def limitation(what: str) -> str:
    """The message for an operation MLflow's REST API lacks."""
    return f"The tracking server is a stock MLflow server, whose REST API has no call for {what}."


def check_search(filter_string: str, order_by: Sequence[str] | None) -> None:
    """Refuse runyard's search extensions (OR, NOT, parentheses, MIN()/MAX()/...) before MLflow sees them."""
    from ..search.parser import And, Comparison, Node, Not, Or, parse_filter, parse_order_by

    def walk(node: Node | None) -> None:
        if node is None:
            return
        if isinstance(node, Or | Not):
            raise InvalidQuery(
                "MLflow's search only joins conditions with AND (no OR, NOT or parentheses): the "
                "tracking server is a stock MLflow server. Split the query, or use a runyard server.",
                filter_string,
            )
        if isinstance(node, And):
            for item in node.items:
                walk(item)
        elif isinstance(node, Comparison) and node.aggregate not in (None, "latest"):
            raise InvalidQuery(
                f"MLflow's search compares a metric's latest value only (no {node.aggregate.upper()}()): "
                "the tracking server is a stock MLflow server.",
                filter_string,
            )

    walk(parse_filter(filter_string))
    for key in parse_order_by(list(order_by or [])):
        if key.aggregate not in (None, "latest"):
            raise InvalidQuery(
                f"MLflow sorts by a metric's latest value only (no {key.aggregate.upper()}()): the "
                "tracking server is a stock MLflow server.",
                ", ".join(order_by or []),
            )


def first_runs(store: RestStore, experiment_ids: Sequence[str], view: str = "ACTIVE_ONLY") -> list[Run]:
    """The newest OVERVIEW_SAMPLE runs of the experiments (one request)."""
    if not experiment_ids:
        return []
    return list(store.search_runs(list(experiment_ids), "", view, OVERVIEW_SAMPLE))


def get_runs(store: RestStore, run_ids: Sequence[str]) -> list[Run]:
    """Runs one request each (MLflow has no batch get), unknown ids skipped."""
    runs = []
    for run_id in run_ids:
        try:
            runs.append(store.get_run(run_id))
        except RunNotFound:
            continue
    return runs


def overview(store: RestStore, experiment_ids: Sequence[str]) -> ExperimentOverview:
    """Counts of the first OVERVIEW_SAMPLE runs; never LOST (MLflow keeps no heartbeats)."""
    runs = first_runs(store, experiment_ids)
    per_user: dict[str, int] = {}
    for run in runs:
        per_user[run.info.user_id] = per_user.get(run.info.user_id, 0) + 1
    times = [t for run in runs for t in (run.info.end_time, run.info.start_time) if t is not None]
    return ExperimentOverview(
        total_runs=len(runs),
        running=sum(run.info.status == RunStatus.RUNNING for run in runs),
        lost=0,
        failed=sum(run.info.status == RunStatus.FAILED for run in runs),
        last_activity=max(times) if times else None,
        runs_per_user=per_user,
        capped=len(runs) >= OVERVIEW_SAMPLE,
    )


def run_keys(store: RestStore, experiment_ids: Sequence[str], view: str) -> RunKeys:
    """Keys seen in the first OVERVIEW_SAMPLE runs."""
    params: set[str] = set()
    metrics: set[str] = set()
    tags: set[str] = set()
    for run in first_runs(store, experiment_ids, view):
        params.update(run.data.params)
        metrics.update(run.data.metric_summaries)
        tags.update(run.data.tags)
    return RunKeys(sorted(params), sorted(metrics), sorted(tags))


def signature(store: RestStore, experiment_ids: Sequence[str], view: str) -> tuple[int, int]:
    """(count, a hash of the ids) of the newest runs: changes when runs come, or recent ones go."""
    import zlib

    runs = list(store.search_runs(list(experiment_ids), "", view, SIGNATURE_SAMPLE))
    return (len(runs), zlib.crc32(",".join(sorted(r.info.run_id for r in runs)).encode()))


def descendants(store: RestStore, run_ids: list[str], view: str) -> list[str]:
    """Runs below these runs, found level by level with MLflow's parentRunId tag search."""
    from .protocol import mlflow_tag_key

    tag = mlflow_tag_key(PARENT_RUN_ID)
    found: list[str] = []
    seen = set(run_ids)
    level = list(run_ids)
    experiments = sorted({run.info.experiment_id for run in get_runs(store, run_ids)})
    while level and experiments:
        next_level: list[str] = []
        for parent in level:
            page = store.search_runs(experiments, f"tags.`{tag}` = '{parent}'", view, 50_000)
            for run in page:
                if run.info.run_id not in seen:
                    seen.add(run.info.run_id)
                    next_level.append(run.info.run_id)
        found.extend(next_level)
        level = next_level
    return found


def set_stage(
    store: RestStore, run_ids: list[str], action: str, descendants_too: bool, dry_run: bool
) -> list[str]:
    """Delete or restore runs one request each (and their descendants in the matching trash view)."""
    from .store import MLFLOW

    view = "ACTIVE_ONLY" if action == "delete" else "DELETED_ONLY"
    wanted = "active" if action == "delete" else "deleted"
    targets = [run.info.run_id for run in get_runs(store, run_ids) if run.info.lifecycle_stage == wanted]
    missing = set(run_ids) - {run.info.run_id for run in get_runs(store, run_ids)}
    if missing:
        raise RunNotFound(f"Run '{sorted(missing)[0]}' not found.")
    if descendants_too:
        targets += [r for r in descendants(store, targets, view) if r not in targets]
    if not dry_run:
        for run_id in targets:
            try:
                store.transport.call("POST", f"{MLFLOW}/runs/{action}", {"run_id": run_id})
            except RemoteNotFound as error:
                raise RunNotFound(str(error)) from None
    return targets


def rename_folder(store: RestStore, old_prefix: str, new_prefix: str) -> dict[str, str]:
    """Rename each experiment under the folder (MLflow has no folders: one rename each)."""
    old = old_prefix.rstrip("/")
    new = new_prefix.rstrip("/")
    if not old or not new:
        raise InvalidInput("Give both the folder to rename and its new name, e.g. /team/a -> /team/b.")
    renamed: dict[str, str] = {}
    for experiment in store.list_experiments("ALL"):
        name = experiment.name
        if name == old or name.startswith(old + "/"):
            target = new + name[len(old) :]
            store.rename_experiment(experiment.experiment_id, target)
            renamed[name] = target
    return renamed


def downsample(
    store: RestStore, run_id: str, key: str, max_points: int, x_axis: str, since_step: int | None
) -> DownsampledHistory:
    """The history fetched with max_results (at most HISTORY_CAP points) and bucketed here."""
    from ..downsample import bucket_units, from_units, none_if_nan

    points = store.get_metric_history(run_id, key, HISTORY_CAP)
    if since_step is not None:
        points = [m for m in points if m.step > since_step]
    if not points:
        return DownsampledHistory(key=key, x_axis=x_axis)
    units = []
    for m in points:
        x = m.step if x_axis == "step" else m.timestamp
        value = none_if_nan(m.value)
        units.append((x, m.step, m.timestamp, value, value, value, 1, x))
    units.sort(key=lambda unit: (unit[0], unit[1], unit[2]))
    if len(units) <= max_points:
        return from_units(key, x_axis, units, "points")
    return from_units(key, x_axis, bucket_units(units, max_points), "points")

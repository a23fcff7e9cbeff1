"""Lifecycle rules: trash and restore (with cascade), bulk by time, experiment trash, renames, gc.

Deleting is a soft delete (`lifecycle_stage` = deleted, `deleted_time` = now). Every run deleted by
one call gets the same `deletion_id`, so restoring a parent brings back exactly the descendants
that went with it, and not the ones deleted earlier on their own. Only `gc` removes data for good
(rows and artifact files), and only for runs and experiments already in the trash. Every operation
runs in one transaction; artifact files are removed only after that transaction has committed.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, select, update

from .config import retention_days
from .entities import LifecycleStage
from .exceptions import ExperimentExists, ExperimentNotFound, InvalidInput, InvalidState, RunNotFound
from .store import (
    chunked,
    experiments_t,
    runs_t,
)
from .validation import validate_experiment_name

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .store import SqlStore


MAX_BULK_RUNS = 10_000
MS_PER_DAY = 86_400_000
_RENAME_PLACEHOLDER = " runyard-rename-"  # valid names are stripped: none starts with a space


def clock_ms() -> int:
    """The current time in ms since the epoch (tests replace this module attribute to fake the clock)."""
    return time.time_ns() // 1_000_000


def _now(now_ms: int | None) -> int:
    return clock_ms() if now_ms is None else int(now_ms)


@dataclass(frozen=True)
class GcResult:
    """What `gc` removed (or, with dry_run, would remove)."""

    run_ids: list[str] = field(default_factory=list)
    experiment_ids: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def run_count(self) -> int:
        """Number of runs removed."""
        return len(self.run_ids)

    @property
    def experiment_count(self) -> int:
        """Number of experiments removed."""
        return len(self.experiment_ids)


# ----------------------------------------------------------------------------- helpers
def _id_list(run_ids: str | Iterable[str], what: str = "run") -> list[str]:
    """A run id or a list of them, de-duplicated in order; rejects an empty list."""
    ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
    for run_id in ids:
        if not isinstance(run_id, str) or not run_id:
            raise RunNotFound(f"{what.capitalize()} {run_id!r} not found: give a run id (32 hex characters).")
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise InvalidInput(f"Give at least one {what} id.")
    return unique


def _run_rows(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for chunk in chunked(list(run_ids)):
        for row in conn.execute(select(runs_t).where(runs_t.c.run_id.in_(chunk))).mappings():
            rows[row["run_id"]] = dict(row)
    return rows


def _descendants(conn: Connection, roots: Sequence[str]) -> list[dict[str, Any]]:
    """Every descendant row of the roots (children, grandchildren, ...), breadth first, any stage."""
    found: list[dict[str, Any]] = []
    seen = set(roots)
    frontier = list(roots)
    columns = (
        runs_t.c.id,
        runs_t.c.run_id,
        runs_t.c.lifecycle_stage,
        runs_t.c.deletion_id,
        runs_t.c.parent_run_id,
    )
    while frontier:
        next_frontier: list[str] = []
        for chunk in chunked(frontier):
            query = (
                select(*columns)
                .where(runs_t.c.parent_run_id.in_(chunk))
                .order_by(runs_t.c.start_time, runs_t.c.id)
            )
            for row in conn.execute(query).mappings():
                if row["run_id"] in seen:
                    continue  # a root below another root, or a cycle in parent ids
                seen.add(row["run_id"])
                found.append(dict(row))
                next_frontier.append(row["run_id"])
        frontier = next_frontier
    return found


STAGE_CHUNK = 900  # runs per UPDATE statement


def _set_run_stage(
    conn: Connection, pks: Sequence[int], stage: str, deleted_time: int | None, deletion_id: str | None
) -> None:
    """Move runs (by internal key) to a lifecycle stage, a chunk of runs per statement."""
    for chunk in chunked(list(pks), STAGE_CHUNK):
        conn.execute(
            update(runs_t)
            .where(runs_t.c.id.in_(chunk))
            .values(lifecycle_stage=stage, deleted_time=deleted_time, deletion_id=deletion_id)
        )


def _check_max_runs(max_runs: int) -> int:
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or not 1 <= max_runs <= MAX_BULK_RUNS:
        raise InvalidInput(f"max_runs must be a whole number from 1 to {MAX_BULK_RUNS}, got {max_runs!r}.")
    return max_runs


def _check_timestamp(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} must be a time in milliseconds since the epoch, got {value!r}.")
    return int(value)


def _require_experiment(conn: Connection, experiment_id: str) -> dict[str, Any]:
    row = (
        conn.execute(select(experiments_t).where(experiments_t.c.experiment_id == str(experiment_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise ExperimentNotFound(f"No experiment with id {experiment_id!r}.")
    return dict(row)


def _trashed_experiment_name(conn: Connection, experiment_id: str) -> str | None:
    """The name of the experiment when it is in the trash, else None."""
    row = conn.execute(
        select(experiments_t.c.name, experiments_t.c.lifecycle_stage).where(
            experiments_t.c.experiment_id == str(experiment_id)
        )
    ).first()
    return str(row[0]) if row is not None and row[1] != LifecycleStage.ACTIVE else None


# ----------------------------------------------------------------------------- runs
def delete_run(
    store: SqlStore,
    run_ids: str | Iterable[str],
    delete_descendants: bool = True,
    dry_run: bool = False,
    now_ms: int | None = None,
) -> list[str]:
    """Move runs (and, by default, their descendants) to the trash; returns the ids deleted, in order.

    Runs reached by a cascade of another run in the same call count as done. A run that does not
    exist (RunNotFound) or is already in the trash (InvalidState) is an error and nothing changes.
    """
    ids = _id_list(run_ids)
    timestamp = _now(now_ms)
    with store.db.connect(write=True) as conn:
        rows = _run_rows(conn, ids)
        for run_id in ids:
            row = rows.get(run_id)
            if row is None:
                raise RunNotFound(f"Run {run_id!r} not found: nothing was deleted.")
            if row["lifecycle_stage"] != LifecycleStage.ACTIVE:
                raise InvalidState(f"Run {run_id!r} is already in the trash: nothing was deleted.")
        chosen = {run_id: int(rows[run_id]["id"]) for run_id in ids}
        if delete_descendants:
            for child in _descendants(conn, ids):
                if child["lifecycle_stage"] == LifecycleStage.ACTIVE:
                    chosen.setdefault(child["run_id"], int(child["id"]))
        if not dry_run:
            _set_run_stage(conn, list(chosen.values()), LifecycleStage.DELETED, timestamp, uuid.uuid4().hex)
    return list(chosen)


def restore_run(
    store: SqlStore, run_ids: str | Iterable[str], restore_descendants: bool = True, dry_run: bool = False
) -> list[str]:
    """Bring runs back from the trash with the descendants deleted in the same operation; returns ids.

    Descendants deleted earlier on their own stay deleted. A run that does not exist or is not in
    the trash is an error and nothing changes.
    """
    ids = _id_list(run_ids)
    with store.db.connect(write=True) as conn:
        rows = _run_rows(conn, ids)
        for run_id in ids:
            row = rows.get(run_id)
            if row is None:
                raise RunNotFound(f"Run {run_id!r} not found: nothing was restored.")
            if row["lifecycle_stage"] != LifecycleStage.DELETED:
                trashed = _trashed_experiment_name(conn, row["experiment_id"])
                if trashed is not None:
                    raise InvalidState(
                        f"Run {run_id!r} is hidden because its experiment {trashed!r} is in the trash: "
                        "restore the experiment. Nothing was restored."
                    )
                raise InvalidState(f"Run {run_id!r} is not in the trash: nothing was restored.")
        chosen = {run_id: int(rows[run_id]["id"]) for run_id in ids}
        if restore_descendants:
            descendants = _descendants(conn, ids)
            parent_of = {run_id: rows[run_id]["parent_run_id"] for run_id in ids}
            parent_of.update({child["run_id"]: child["parent_run_id"] for child in descendants})
            root_deletion = {run_id: rows[run_id]["deletion_id"] for run_id in ids}
            for child in descendants:
                if child["lifecycle_stage"] != LifecycleStage.DELETED or not child["deletion_id"]:
                    continue
                if child["deletion_id"] in _root_deletions_above(child["run_id"], parent_of, root_deletion):
                    chosen.setdefault(child["run_id"], int(child["id"]))
        if not dry_run:
            _set_run_stage(conn, list(chosen.values()), LifecycleStage.ACTIVE, None, None)
    return list(chosen)


def _root_deletions_above(
    run_id: str, parent_of: dict[str, str | None], root_deletion: dict[str, str | None]
) -> set[str]:
    """The deletion ids of the named roots among a run's ancestors (the operations it may come back with)."""
    found: set[str] = set()
    seen = {run_id}
    node = parent_of.get(run_id)
    while node is not None and node not in seen:
        seen.add(node)
        deletion = root_deletion.get(node)
        if deletion:
            found.add(deletion)
        node = parent_of.get(node)
    return found


def _bulk_pks(
    conn: Connection,
    experiment_id: str,
    stage: str,
    column: Any,
    max_runs: int,
    until: int | None = None,
    since: int | None = None,
) -> list[int]:
    """Keys of an experiment's runs in this stage with column <= until (else >= since), oldest first."""
    in_range = column <= until if until is not None else column >= since
    where = and_(runs_t.c.experiment_id == str(experiment_id), runs_t.c.lifecycle_stage == stage, in_range)
    query = select(runs_t.c.id).where(where).order_by(column, runs_t.c.id).limit(max_runs)
    return [int(row[0]) for row in conn.execute(query)]


def delete_runs(
    store: SqlStore,
    experiment_id: str,
    max_timestamp_millis: int,
    max_runs: int = MAX_BULK_RUNS,
    dry_run: bool = False,
    now_ms: int | None = None,
) -> int:
    """Delete active runs of an experiment started at or before a time, oldest first; returns the count.

    Exactly the selected runs change (no cascade), at most max_runs (1 to 10000).
    """
    max_runs = _check_max_runs(max_runs)
    cutoff = _check_timestamp(max_timestamp_millis, "max_timestamp_millis")
    timestamp = _now(now_ms)
    with store.db.connect(write=True) as conn:
        _require_experiment(conn, experiment_id)
        pks = _bulk_pks(
            conn, experiment_id, LifecycleStage.ACTIVE, runs_t.c.start_time, max_runs, until=cutoff
        )
        if not dry_run:
            _set_run_stage(conn, pks, LifecycleStage.DELETED, timestamp, uuid.uuid4().hex)
    return len(pks)


def restore_runs(
    store: SqlStore,
    experiment_id: str,
    min_timestamp_millis: int,
    max_runs: int = MAX_BULK_RUNS,
    dry_run: bool = False,
) -> int:
    """Restore runs of an experiment deleted at or after a time, earliest deletion first; returns the count.

    Exactly the selected runs change (no cascade), at most max_runs (1 to 10000).
    """
    max_runs = _check_max_runs(max_runs)
    since = _check_timestamp(min_timestamp_millis, "min_timestamp_millis")
    with store.db.connect(write=True) as conn:
        _require_experiment(conn, experiment_id)
        pks = _bulk_pks(
            conn, experiment_id, LifecycleStage.DELETED, runs_t.c.deleted_time, max_runs, since=since
        )
        if not dry_run:
            _set_run_stage(conn, pks, LifecycleStage.ACTIVE, None, None)
    return len(pks)


# ----------------------------------------------------------------------------- experiments
def _set_experiment_stage(conn: Connection, experiment_id: str, stage: str, timestamp: int) -> None:
    conn.execute(
        update(experiments_t)
        .where(experiments_t.c.experiment_id == str(experiment_id))
        .values(
            lifecycle_stage=stage,
            deleted_time=timestamp if stage == LifecycleStage.DELETED else None,
            last_update_time=timestamp,
        )
    )


def delete_experiment(store: SqlStore, experiment_id: str, now_ms: int | None = None) -> None:
    """Move an experiment to the trash; its runs keep their state but are hidden with it."""
    timestamp = _now(now_ms)
    with store.db.connect(write=True) as conn:
        row = _require_experiment(conn, experiment_id)
        if row["lifecycle_stage"] != LifecycleStage.ACTIVE:
            raise InvalidState(f"Experiment {row['name']!r} is already in the trash.")
        _set_experiment_stage(conn, experiment_id, LifecycleStage.DELETED, timestamp)


def restore_experiment(store: SqlStore, experiment_id: str, now_ms: int | None = None) -> None:
    """Bring an experiment back from the trash, with its runs as they were."""
    timestamp = _now(now_ms)
    with store.db.connect(write=True) as conn:
        row = _require_experiment(conn, experiment_id)
        if row["lifecycle_stage"] != LifecycleStage.DELETED:
            raise InvalidState(f"Experiment {row['name']!r} is not in the trash.")
        _set_experiment_stage(conn, experiment_id, LifecycleStage.ACTIVE, timestamp)


def _clean_prefix(prefix: str, what: str) -> str:
    if not isinstance(prefix, str) or not prefix.strip().rstrip("/"):
        raise InvalidInput(f"{what} must be a folder name such as /team/vision, got {prefix!r}.")
    return prefix.strip().rstrip("/")


def rename_experiment_folder(
    store: SqlStore, old_prefix: str, new_prefix: str, now_ms: int | None = None
) -> dict[str, str]:
    """Rename every experiment under a folder-like prefix (any stage); returns {old name: new name}.

    `/vision` matches `/vision` itself and `/vision/...`, never `/visionary`. A new name already
    used by an experiment outside the folder is an error and nothing is renamed.
    """
    old = _clean_prefix(old_prefix, "old_prefix")
    new = _clean_prefix(new_prefix, "new_prefix")
    timestamp = _now(now_ms)
    with store.db.connect(write=True) as conn:
        rows = conn.execute(select(experiments_t.c.experiment_id, experiments_t.c.name)).all()
        moving = {
            str(row[0]): str(row[1]) for row in rows if row[1] == old or str(row[1]).startswith(old + "/")
        }
        if not moving:
            raise ExperimentNotFound(f"No experiment is named {old!r} or lies under {old + '/'!r}.")
        renames = {eid: validate_experiment_name(new + name[len(old) :]) for eid, name in moving.items()}
        staying = {str(row[1]): str(row[0]) for row in rows if str(row[0]) not in moving}
        for eid, new_name in renames.items():
            if new_name in staying:
                raise ExperimentExists(
                    f"Cannot rename {moving[eid]!r} to {new_name!r}: that name is already used by another "
                    "experiment (maybe in the trash). Nothing was renamed.",
                    key=new_name,
                )
        # Two steps, so that names swapping inside the folder never collide on the unique index.
        for eid in renames:
            conn.execute(
                update(experiments_t)
                .where(experiments_t.c.experiment_id == eid)
                .values(name=_RENAME_PLACEHOLDER + eid)
            )
        for eid, new_name in renames.items():
            conn.execute(
                update(experiments_t)
                .where(experiments_t.c.experiment_id == eid)
                .values(name=new_name, last_update_time=timestamp)
            )
    return {moving[eid]: renames[eid] for eid in sorted(moving, key=lambda e: moving[e])}


# ----------------------------------------------------------------------------- garbage collection
def older_than_ms(older_than: timedelta | str | float | None) -> int:
    """A gc age in ms: a timedelta, a duration string ('30d', '12h', '90m', '45s', '0'), days as a number.

    None means the retention setting (RUNYARD_RETENTION_DAYS, default 30 days).
    """
    if older_than is None:
        return int(retention_days() * MS_PER_DAY)
    if isinstance(older_than, timedelta):
        milliseconds = int(older_than.total_seconds() * 1000)
    elif isinstance(older_than, str):
        milliseconds = parse_duration_ms(older_than)
    elif isinstance(older_than, int | float) and not isinstance(older_than, bool):
        milliseconds = int(older_than * MS_PER_DAY)
    else:
        raise InvalidInput(
            f"older_than must be a timedelta, a duration such as '30d', or days; got {older_than!r}."
        )
    if milliseconds < 0:
        raise InvalidInput(f"older_than must not be negative, got {older_than!r}.")
    return milliseconds


_UNIT_MS = {"d": MS_PER_DAY, "h": 3_600_000, "m": 60_000, "s": 1000, "w": 7 * MS_PER_DAY}


def parse_duration_ms(text: str) -> int:
    """Milliseconds of a duration such as '30d', '12h', '90m', '45s', '2w', '1d12h' or '0'."""
    import re

    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in ("0", "0.0"):
        return 0
    parts = re.findall(r"(\d+(?:\.\d+)?)([wdhms])", cleaned)
    if not parts or "".join(number + unit for number, unit in parts) != cleaned:
        raise InvalidInput(
            f"Invalid duration {text!r}: use a number with a unit, e.g. 30d, 12h, 90m, 45s, 2w, 1d12h, or 0."
        )
    return int(sum(float(number) * _UNIT_MS[unit] for number, unit in parts))


def _tables_keyed_by(column: str, exclude: Sequence[Any]) -> list[Any]:
    """Every table of the schema with that column (so a table added later is purged too)."""
    from .models import ALL_TABLES

    tables = [model.__table__ for model in ALL_TABLES]  # type: ignore[attr-defined]
    return [table for table in tables if column in table.c and table not in exclude]


def _purge_runs(conn: Connection, pks: Sequence[int]) -> None:
    """Delete runs and every row that hangs off them (explicitly: FK cascade may be off)."""
    from .inputs import input_tags_t, inputs_t
    from .logged_models import models_t, purge_models

    dependents = _tables_keyed_by("run_pk", exclude=[runs_t])
    for chunk in chunked(list(pks)):
        conn.execute(
            delete(input_tags_t).where(
                input_tags_t.c.input_pk.in_(select(inputs_t.c.id).where(inputs_t.c.run_pk.in_(chunk)))
            )
        )
        purge_models(conn, models_t.c.run_pk.in_(chunk))
        for table in dependents:
            conn.execute(delete(table).where(table.c.run_pk.in_(chunk)))
        conn.execute(delete(runs_t).where(runs_t.c.id.in_(chunk)))


def _purge_experiments(conn: Connection, experiment_ids: Sequence[str]) -> None:
    """Delete experiments with their tags, datasets and logged models (their runs are purged first)."""
    from .logged_models import models_t, purge_models

    dependents = _tables_keyed_by("experiment_id", exclude=[runs_t, experiments_t])
    for chunk in chunked(list(experiment_ids)):
        purge_models(conn, models_t.c.experiment_id.in_(chunk))
        for table in dependents:
            conn.execute(delete(table).where(table.c.experiment_id.in_(chunk)))
        conn.execute(delete(experiments_t).where(experiments_t.c.experiment_id.in_(chunk)))


def gc(
    store: SqlStore,
    older_than: timedelta | str | float | None = None,
    run_ids: str | Iterable[str] | None = None,
    experiment_ids: str | Iterable[str] | None = None,
    dry_run: bool = False,
    now_ms: int | None = None,
) -> GcResult:
    """Permanently remove trashed runs and experiments with their params, metrics, tags and artifacts.

    With neither run_ids nor experiment_ids: everything deleted longer ago than older_than (None: the
    retention setting). Given run_ids / experiment_ids: exactly those, whatever their age; each must be
    in the trash (a run also counts as trashed while its experiment is), else an error and nothing is
    removed. Removing an experiment removes all its runs.
    """
    named_runs: list[str] | None = None
    if run_ids is not None:
        listed = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        named_runs = _id_list(listed) if listed else []
    named_experiments: list[str] | None = None
    if experiment_ids is not None:
        listed_experiments = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        named_experiments = list(dict.fromkeys(str(e) for e in listed_experiments))
    by_age = named_runs is None and named_experiments is None
    cutoff = _now(now_ms) - older_than_ms(older_than) if by_age else 0
    with store.db.connect(write=True) as conn:
        experiments = _experiments_to_purge(conn, named_experiments, cutoff if by_age else None)
        run_rows = _runs_to_purge(conn, named_runs, experiments, cutoff if by_age else None)
        model_locations = _unattached_model_locations(
            conn, [str(row["experiment_id"]) for row in experiments]
        )
        if not dry_run:
            _purge_runs(conn, [int(row["id"]) for row in run_rows])
            _purge_experiments(conn, [str(row["experiment_id"]) for row in experiments])
    if not dry_run:  # files only once the rows are gone for good
        for row in run_rows:
            _remove_artifacts(row["artifact_uri"])
        for location in model_locations:  # <experiment>/models/<model_id>/artifacts
            _remove_artifacts(location)
            _remove_empty_directory(os.path.dirname(os.path.dirname(location.rstrip("/"))))
        for row in experiments:
            _remove_empty_directory(row["artifact_location"])
    return GcResult(
        run_ids=[row["run_id"] for row in run_rows],
        experiment_ids=[str(row["experiment_id"]) for row in experiments],
        dry_run=dry_run,
    )


def _unattached_model_locations(conn: Connection, experiment_ids: Sequence[str]) -> list[str]:
    """Artifact locations of the experiments' models that belong to no run (their files go too)."""
    from .logged_models import models_t

    locations: list[str] = []
    for chunk in chunked(list(experiment_ids)):
        query = select(models_t.c.artifact_location).where(
            and_(models_t.c.experiment_id.in_(chunk), models_t.c.run_pk.is_(None))
        )
        locations += [str(row[0]) for row in conn.execute(query)]
    return locations


def _experiments_to_purge(
    conn: Connection, named: list[str] | None, cutoff: int | None
) -> list[dict[str, Any]]:
    if cutoff is not None:
        query = (
            select(experiments_t)
            .where(
                and_(
                    experiments_t.c.lifecycle_stage == LifecycleStage.DELETED,
                    experiments_t.c.deleted_time <= cutoff,
                )
            )
            .order_by(experiments_t.c.deleted_time)
        )
        return [dict(row) for row in conn.execute(query).mappings()]
    rows: list[dict[str, Any]] = []
    for experiment_id in named or []:
        row = _require_experiment(conn, experiment_id)
        if row["lifecycle_stage"] != LifecycleStage.DELETED:
            raise InvalidState(
                f"Experiment {row['name']!r} is not in the trash: delete it first. Nothing was removed."
            )
        rows.append(row)
    return rows


def _runs_to_purge(
    conn: Connection,
    named: list[str] | None,
    experiments: Sequence[dict[str, Any]],
    cutoff: int | None,
) -> list[dict[str, Any]]:
    columns = (runs_t.c.id, runs_t.c.run_id, runs_t.c.artifact_uri, runs_t.c.lifecycle_stage)
    found: dict[str, dict[str, Any]] = {}
    if cutoff is not None:
        query = (
            select(*columns)
            .where(and_(runs_t.c.lifecycle_stage == LifecycleStage.DELETED, runs_t.c.deleted_time <= cutoff))
            .order_by(runs_t.c.deleted_time, runs_t.c.id)
        )
        found.update({row["run_id"]: dict(row) for row in conn.execute(query).mappings()})
    if named:
        rows = _run_rows(conn, named)
        for run_id in named:
            row = rows.get(run_id)
            if row is None:
                raise RunNotFound(f"Run {run_id!r} not found: nothing was removed.")
            in_trash = row["lifecycle_stage"] == LifecycleStage.DELETED
            if not in_trash and _trashed_experiment_name(conn, row["experiment_id"]) is None:
                raise InvalidState(
                    f"Run {run_id!r} is active: only runs in the trash can be purged. Nothing was removed."
                )
            found[run_id] = row
    # Every run of a purged experiment goes with it (those still active were hidden in its trash).
    experiment_ids = [str(row["experiment_id"]) for row in experiments]
    for chunk in chunked(experiment_ids):
        query = select(*columns).where(runs_t.c.experiment_id.in_(chunk)).order_by(runs_t.c.id)
        for mapping in conn.execute(query).mappings():
            found.setdefault(mapping["run_id"], dict(mapping))
    return list(found.values())


def _remove_artifacts(artifact_uri: str) -> None:
    from .artifacts import ArtifactRepository, local_path_of

    ArtifactRepository(artifact_uri).delete_all()
    _remove_empty_directory(str(local_path_of(artifact_uri).parent))  # the run's own directory


def _remove_empty_directory(location: str) -> None:
    """Remove a directory only when it is empty (never anything else)."""
    from .artifacts import local_path_of

    try:
        os.rmdir(local_path_of(location))
    except OSError:
        pass

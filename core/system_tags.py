"""System tags set through the API stay consistent with the run: names rename, parents are checked.

MLflow clients write `mlflow.runName`, `mlflow.parentRunId` and `mlflow.note.content`; runyard keeps
the first two as its own `runyard.runName` / `runyard.parentRunId` (always equal to the run's name and
parent), accepts every other `mlflow.*` tag as given, and refuses the `runyard.*` tags it writes itself
(user, source, git, command, ...) except the notes. Imports write system tags through their own paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from runyard.entities import MODEL_HISTORY, PROGRESS_TOTAL
from runyard.tracking import context as ctx

from .exceptions import InvalidInput
from .validation import validate_run_name

MLFLOW_RUN_NAME = "mlflow.runName"
MLFLOW_PARENT_RUN_ID = "mlflow.parentRunId"
RUN_NAME_TAGS = (ctx.RUN_NAME, MLFLOW_RUN_NAME)
PARENT_TAGS = (ctx.PARENT_RUN_ID, MLFLOW_PARENT_RUN_ID)
USER_WRITABLE_SYSTEM_TAGS = (ctx.NOTE, MODEL_HISTORY, PROGRESS_TOTAL)  # notes; log_model's; set_progress's

# run id -> (experiment id, parent run id) of an existing run, or None
RunLookup = Callable[[str], "tuple[str, str | None] | None"]


@dataclass
class TagChanges:
    """What a set of user tags does to a run: plain tags to store, and a new name or parent."""

    tags: dict[str, str] = field(default_factory=dict)
    run_name: str | None = None
    parent_run_id: str | None = None

    def stored_tags(self) -> dict[str, str]:
        """The tags to write, with runyard.runName / runyard.parentRunId equal to the new columns."""
        tags = dict(self.tags)
        if self.run_name is not None:
            tags[ctx.RUN_NAME] = self.run_name
        if self.parent_run_id is not None:
            tags[ctx.PARENT_RUN_ID] = self.parent_run_id
        return tags


def is_read_only(key: str) -> bool:
    """True for a runyard.* tag only runyard writes (user, source, git, command, platform, ...)."""
    return (
        key.startswith(ctx.TAG_PREFIX)
        and key not in USER_WRITABLE_SYSTEM_TAGS
        and key not in RUN_NAME_TAGS
        and key not in PARENT_TAGS
    )


def split_user_tags(tags: Mapping[str, str]) -> TagChanges:
    """Sort validated user tags into plain tags, a rename and a new parent; refuse read-only system tags."""
    changes = TagChanges()
    names: dict[str, str] = {}
    parents: dict[str, str] = {}
    for key, value in tags.items():
        if key in RUN_NAME_TAGS:
            names[key] = value
        elif key in PARENT_TAGS:
            parents[key] = value
        elif is_read_only(key):
            raise InvalidInput(
                f"Tag {key!r} is written by runyard and cannot be set: choose a key without the "
                f"{ctx.TAG_PREFIX!r} prefix (runyard.runName renames the run, runyard.parentRunId moves it).",
                key=key,
            )
        else:
            changes.tags[key] = value
    name = _one(names, "run names")
    if name is not None:
        changes.run_name = validate_run_name(name)
    parent = _one(parents, "parent runs")
    if parent is not None:
        changes.parent_run_id = parent.strip()
    return changes


def _one(values: Mapping[str, str], what: str) -> str | None:
    if len(set(values.values())) > 1:
        shown = " and ".join(f"{key}={value!r}" for key, value in values.items())
        raise InvalidInput(f"Two different {what} in one call ({shown}): give one.", key=next(iter(values)))
    return next(iter(values.values()), None)


def check_parent(run_id: str, experiment_id: str, parent_run_id: str, lookup: RunLookup) -> None:
    """InvalidInput unless parent_run_id is another run of the same experiment that is not below run_id."""
    key = ctx.PARENT_RUN_ID
    if parent_run_id == run_id:
        raise InvalidInput(f"Run {run_id} cannot be its own parent ({key}).", key=key)
    found = lookup(parent_run_id)
    if found is None:
        raise InvalidInput(
            f"Parent run {parent_run_id!r} ({key}) does not exist: give the id of a run of the same "
            "experiment.",
            key=key,
        )
    if found[0] != experiment_id:
        raise InvalidInput(
            f"Parent run {parent_run_id} ({key}) is in experiment {found[0]} and run {run_id} in "
            f"{experiment_id}: a parent must be in the same experiment.",
            key=key,
        )
    seen = {parent_run_id}
    ancestor = found[1]
    while ancestor is not None and ancestor not in seen:
        if ancestor == run_id:
            raise InvalidInput(
                f"Run {parent_run_id} is a descendant of run {run_id}: it cannot become its parent ({key}); "
                "that would make a cycle.",
                key=key,
            )
        seen.add(ancestor)
        above = lookup(ancestor)
        ancestor = above[1] if above is not None else None

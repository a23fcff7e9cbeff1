"""Past-tense messages that workers post when a store call finishes (handlers update the widgets)."""

from __future__ import annotations

from typing import Any

from runyard import Experiment, Run
from textual.message import Message


class ExperimentsLoaded(Message):
    """Active experiments and their active run counts (`tree_signature`: see RunsRefreshed).

    `counted` is False for the list sent ahead of the counts, so the remembered view opens sooner.
    """

    def __init__(
        self,
        experiments: list[Experiment],
        counts: dict[str, int],
        tree_signature: Any = None,
        counted: bool = True,
    ) -> None:
        self.experiments = experiments
        self.counts = counts
        self.tree_signature = tree_signature
        self.counted = counted
        super().__init__()


class RunsLoaded(Message):
    """A page of runs for the search `generation`; `append` adds it after the loaded ones."""

    def __init__(
        self,
        generation: int,
        runs: list[Run],
        token: str | None,
        append: bool = False,
        parent_names: dict[str, str] | None = None,
        keep_cursor: bool = False,
        signature: tuple[int, int] | None = None,
    ) -> None:
        self.generation = generation
        self.runs = runs
        self.token = token
        self.append = append
        self.parent_names = parent_names or {}
        self.keep_cursor = keep_cursor
        self.signature = signature
        super().__init__()


class RunsFailed(Message):
    """The search failed: a query error (shown under the search box) or a store error."""

    def __init__(self, generation: int, error: str, query_error: bool) -> None:
        self.generation = generation
        self.error = error
        self.query_error = query_error
        super().__init__()


class RunsRefreshed(Message):
    """Fresh copies of the RUNNING runs; `changed` when runs were added or removed since the last load.

    `tree_signature` changes when experiments are created, renamed or deleted, or active runs of any
    experiment come or go (the tree's names and counts); `alerting` are the runs with an active alert."""

    def __init__(
        self,
        generation: int,
        runs: list[Run],
        changed: bool,
        tree_signature: Any = None,
        alerting: frozenset[str] = frozenset(),
    ) -> None:
        self.generation = generation
        self.runs = runs
        self.changed = changed
        self.tree_signature = tree_signature
        self.alerting = alerting
        super().__init__()


class OverviewLoaded(Message):
    """The overview counts of the shown experiments."""

    def __init__(self, view_key: str, overview: Any) -> None:
        self.view_key = view_key
        self.overview = overview
        super().__init__()


class KeysLoaded(Message):
    """The param/metric/tag keys of the shown experiments (for completion and the column chooser)."""

    def __init__(self, view_key: str, keys: Any) -> None:
        self.view_key = view_key
        self.keys = keys
        super().__init__()


class DeletePrepared(Message):
    """Runs to delete and how many descendants would go with them."""

    def __init__(self, run_ids: list[str], descendant_count: int) -> None:
        self.run_ids = run_ids
        self.descendant_count = descendant_count
        super().__init__()


class RunsDeleted(Message):
    """Runs moved to the trash."""

    def __init__(self, run_ids: list[str]) -> None:
        self.run_ids = run_ids
        super().__init__()


class ExperimentDeleted(Message):
    """An experiment moved to the trash."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__()


class RunsExported(Message):
    """Runs written to a CSV file."""

    def __init__(self, path: str, count: int) -> None:
        self.path = path
        self.count = count
        super().__init__()


class ActionFailed(Message):
    """A store action failed; `error` is the one-line message to show."""

    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__()

"""The store's browse, search, history and lifecycle operations as methods (they live in their modules).

`SqlStore` inherits these so that `TrackingClient` talks to one object with one interface (`Store` in
interface.py); each method imports its module on first use, so opening a store stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from runyard.entities import (
    DownsampledHistory,
    Experiment,
    ExperimentOverview,
    GcResult,
    Metric,
    PagedList,
    Run,
    RunKeys,
)

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore


class StoreOperations:
    """Browse, search, history and lifecycle operations of a SqlStore (mixin: `self` is the SqlStore)."""

    # ----------------------------------------------------------------- search
    def search_runs(
        self: SqlStore,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of runs matching the filter, in order; `.token` continues (None on the last page)."""
        from runyard.store.search import search_runs_page

        return search_runs_page(
            self, list(experiment_ids), filter_string, run_view_type, max_results, order_by, page_token
        )

    def search_runs_with_signature(
        self: SqlStore,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
    ) -> tuple[PagedList, tuple[int, int]]:
        """The first page of a search and runs_signature(), the signature read first (so a run that
        arrives in between makes the next refresh look again rather than go unnoticed)."""
        signature = self.runs_signature(experiment_ids, run_view_type)
        page = self.search_runs(experiment_ids, filter_string, run_view_type, max_results, order_by)
        return page, signature

    def search_experiments(
        self: SqlStore,
        filter_string: str = "",
        view_type: str = "ACTIVE_ONLY",
        order_by: Sequence[str] | str | None = None,
        max_results: int | None = None,
    ) -> list[Experiment]:
        """Experiments matching a filter, newest first by default."""
        from runyard.store.search import search_experiments

        return search_experiments(self, filter_string, view_type, order_by, max_results)

    # ----------------------------------------------------------------- metric histories
    def get_metric_history(self: SqlStore, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric in MLflow's order: timestamp, then step (charts use step order)."""
        from runyard.store.metrics import read_history

        pk = self.run_pk(run_id)
        with self.db.connect() as conn:
            return read_history(conn, pk, key)

    def get_metric_history_downsampled(
        self: SqlStore,
        run_id: str,
        key: str,
        max_points: int,
        x_axis: str = "step",
        since_step: int | None = None,
    ) -> DownsampledHistory:
        """At most max_points buckets (last value, min, max) of a metric; only steps > since_step if given."""
        from runyard.store.history import downsample_history

        return downsample_history(self, run_id, key, max_points, x_axis, since_step)

    def get_metric_history_frame(
        self: SqlStore, run_ids: Sequence[str] | str, keys: Sequence[str] | str | None = None
    ) -> Any:
        """Every point as a long pandas DataFrame: run_id, key, step, timestamp, value."""
        from runyard.interop.frames import metric_history_frame

        return metric_history_frame(self, run_ids, keys)

    def iter_metric_points(
        self: SqlStore, run_id: str, chunk: int = 65_536
    ) -> Iterator[list[tuple[str, int, int, float]]]:
        """Every point of every metric of a run (key, step, timestamp, value), in chunks, streamed."""
        from runyard.store.streams import iter_metric_points

        return iter_metric_points(self, run_id, chunk)

    # ----------------------------------------------------------------- browsing
    def experiment_overview(
        self: SqlStore, experiment_ids: Sequence[str], now_ms: int | None = None
    ) -> ExperimentOverview:
        """Counts over the active runs of the experiments: total, running, lost, failed, per user."""
        from runyard.store.browse import experiment_overview

        return experiment_overview(self, experiment_ids, now_ms)

    def run_keys(
        self: SqlStore, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY"
    ) -> RunKeys:
        """Distinct param, metric and tag keys of the experiments' runs in that view."""
        from runyard.store.browse import run_keys

        return run_keys(self, list(experiment_ids), run_view_type)

    def get_runs(self: SqlStore, run_ids: Sequence[str]) -> list[Run]:
        """Runs by id in the order given (unknown ids skipped)."""
        from runyard.store.browse import get_runs

        return get_runs(self, list(run_ids))

    def run_names(self: SqlStore, run_ids: Sequence[str]) -> dict[str, str]:
        """Names of runs by id."""
        from runyard.store.browse import run_names

        return run_names(self, list(run_ids))

    def runs_signature(
        self: SqlStore, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY"
    ) -> tuple[int, int]:
        """A value that changes when runs are added to or removed from the experiments."""
        from runyard.store.browse import runs_signature

        return runs_signature(self, list(experiment_ids), run_view_type)

    def descendant_run_ids(self: SqlStore, run_ids: Sequence[str]) -> list[str]:
        """Active runs below these runs (children, grandchildren, ...)."""
        from runyard.store.browse import descendant_run_ids

        return descendant_run_ids(self, list(run_ids))

    # ----------------------------------------------------------------- lifecycle
    def delete_run(
        self: SqlStore, run_ids: str | Iterable[str], delete_descendants: bool = True, dry_run: bool = False
    ) -> list[str]:
        """Move runs (and their descendants unless told not to) to the trash; returns the ids deleted."""
        from runyard.store import lifecycle

        return lifecycle.delete_run(self, run_ids, delete_descendants, dry_run)

    def restore_run(
        self: SqlStore, run_ids: str | Iterable[str], restore_descendants: bool = True, dry_run: bool = False
    ) -> list[str]:
        """Bring runs back from the trash; returns the ids restored."""
        from runyard.store import lifecycle

        return lifecycle.restore_run(self, run_ids, restore_descendants, dry_run)

    def delete_runs(
        self: SqlStore, experiment_id: str, max_timestamp_millis: int, max_runs: int, dry_run: bool = False
    ) -> int:
        """Trash the experiment's runs created at or before max_timestamp_millis (MLflow's bulk call)."""
        from runyard.store import lifecycle

        return lifecycle.delete_runs(self, experiment_id, max_timestamp_millis, max_runs, dry_run)

    def restore_runs(
        self: SqlStore, experiment_id: str, min_timestamp_millis: int, max_runs: int, dry_run: bool = False
    ) -> int:
        """Restore the experiment's runs deleted at or after min_timestamp_millis (MLflow's bulk call)."""
        from runyard.store import lifecycle

        return lifecycle.restore_runs(self, experiment_id, min_timestamp_millis, max_runs, dry_run)

    def delete_experiment(self: SqlStore, experiment_id: str) -> None:
        """Move an experiment and its runs to the trash."""
        from runyard.store import lifecycle

        lifecycle.delete_experiment(self, experiment_id)

    def restore_experiment(self: SqlStore, experiment_id: str) -> None:
        """Bring an experiment back from the trash."""
        from runyard.store import lifecycle

        lifecycle.restore_experiment(self, experiment_id)

    def rename_experiment_folder(self: SqlStore, old_prefix: str, new_prefix: str) -> dict[str, str]:
        """Rename every experiment under a folder prefix; returns old name -> new name."""
        from runyard.store import lifecycle

        return lifecycle.rename_experiment_folder(self, old_prefix, new_prefix)

    def gc(
        self: SqlStore,
        older_than: timedelta | str | float | None = None,
        run_ids: str | Iterable[str] | None = None,
        experiment_ids: str | Iterable[str] | None = None,
        dry_run: bool = False,
    ) -> GcResult:
        """Delete for good what has been in the trash long enough (or the given ids)."""
        from runyard.store import lifecycle

        return lifecycle.gc(self, older_than, run_ids, experiment_ids, dry_run)

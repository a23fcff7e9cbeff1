"""The one interface `TrackingClient` knows: every operation of a tracking store, plain entities in and out.

`SqlStore` implements it on SQLite and PostgreSQL; an HTTP client of `runyard server` implements it over
the network. Nothing here speaks SQL or leaks sessions or rows: paging is by opaque token, times are
integer ms, ids are strings. The writer's hot path (`write_metric_points`) takes buffered tuples
(run_id, key, value, timestamp_ms, step) so that it can be sent as a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from runyard.entities import (
        ConsoleChunk,
        DatasetInput,
        DownsampledHistory,
        Experiment,
        ExperimentOverview,
        GcResult,
        LoggedModel,
        LoggedModelInput,
        LoggedModelMetric,
        LoggedModelOutput,
        Metric,
        PagedList,
        Run,
        RunKeys,
    )
    from runyard.tracking.artifacts import ArtifactRepository


class Store(Protocol):
    """Every operation of a tracking store (see the module docstring)."""

    tracking_uri: str

    # experiments
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
        experiment_id: str | None = None,
        creation_time: int | None = None,
    ) -> str: ...
    def get_or_create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> str: ...
    def get_experiment(self, experiment_id: str) -> Experiment: ...
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...
    def list_experiments(self, view_type: str = "ACTIVE_ONLY") -> list[Experiment]: ...
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...
    def count_runs(self, experiment_ids: Sequence[str]) -> dict[str, int]: ...
    def search_experiments(
        self,
        filter_string: str = "",
        view_type: str = "ACTIVE_ONLY",
        order_by: Sequence[str] | str | None = None,
        max_results: int | None = None,
    ) -> list[Experiment]: ...

    # runs
    def create_run(
        self,
        experiment_id: str,
        run_name: str | None,
        user_id: str,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        source_type: str | None = None,
        source_name: str | None = None,
        entry_point: str | None = None,
        source_version: str | None = None,
        status: str = "RUNNING",
        run_id: str | None = None,
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def get_runs(self, run_ids: Sequence[str]) -> list[Run]: ...
    def update_run(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        clear_end_time: bool = False,
    ) -> None: ...
    def heartbeat(self, run_ids: Sequence[str], timestamp: int | None = None) -> None: ...
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList: ...
    def search_runs_with_signature(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
    ) -> tuple[PagedList, tuple[int, int]]: ...

    # logging
    def log_params(self, run_id: str, params: Mapping[str, object]) -> None: ...
    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None: ...
    def delete_tag(self, run_id: str, key: str) -> None: ...
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, float, int, int]] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> None: ...

    # dataset inputs and logged models (MLflow 3)
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> int: ...
    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None: ...
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel: ...
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel: ...
    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel: ...
    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, object]) -> None: ...
    def delete_logged_model_tag(self, model_id: str, key: str) -> None: ...
    def log_logged_model_params(self, model_id: str, params: Mapping[str, object]) -> None: ...
    def log_logged_model_metrics(self, model_id: str, metrics: Sequence[LoggedModelMetric]) -> None: ...
    def delete_logged_model(self, model_id: str) -> None: ...
    def logged_model_artifacts(self, model_id: str) -> ArtifactRepository: ...
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList: ...

    # settings of the whole store (alert thresholds, ...)
    def get_store_settings(self, prefix: str = "") -> dict[str, str]: ...
    def set_store_setting(self, key: str, value: str | None) -> None: ...

    # the last points (up to 32) of each (run, key), kept beside the summary
    def recent_metrics(
        self, run_ids: Sequence[str], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, list[Metric]]]: ...

    # console output: (timestamp_ms, stream, text) in; chunks numbered by seq out
    def append_console(
        self, run_id: str, chunks: Sequence[tuple[int, str, str]], max_chars: int | None = None
    ) -> None: ...
    def get_console(
        self, run_id: str, after_seq: int | None = None, limit: int | None = None, newest: bool = False
    ) -> list[ConsoleChunk]: ...

    # metric histories
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]: ...
    def get_metric_history_downsampled(
        self, run_id: str, key: str, max_points: int, x_axis: str = "step", since_step: int | None = None
    ) -> DownsampledHistory: ...
    def get_metric_history_frame(
        self, run_ids: Sequence[str] | str, keys: Sequence[str] | str | None = None
    ) -> Any: ...

    def iter_metric_points(
        self, run_id: str, chunk: int = 65_536
    ) -> Iterator[list[tuple[str, int, int, float]]]: ...

    # browsing
    def experiment_overview(
        self, experiment_ids: Sequence[str], now_ms: int | None = None
    ) -> ExperimentOverview: ...
    def run_keys(self, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY") -> RunKeys: ...
    def run_names(self, run_ids: Sequence[str]) -> dict[str, str]: ...
    def runs_signature(
        self, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY"
    ) -> tuple[int, int]: ...
    def descendant_run_ids(self, run_ids: Sequence[str]) -> list[str]: ...

    # lifecycle
    def delete_run(
        self, run_ids: str | Iterable[str], delete_descendants: bool = True, dry_run: bool = False
    ) -> list[str]: ...
    def restore_run(
        self, run_ids: str | Iterable[str], restore_descendants: bool = True, dry_run: bool = False
    ) -> list[str]: ...
    def delete_runs(
        self, experiment_id: str, max_timestamp_millis: int, max_runs: int, dry_run: bool = False
    ) -> int: ...
    def restore_runs(
        self, experiment_id: str, min_timestamp_millis: int, max_runs: int, dry_run: bool = False
    ) -> int: ...
    def delete_experiment(self, experiment_id: str) -> None: ...
    def restore_experiment(self, experiment_id: str) -> None: ...
    def rename_experiment_folder(self, old_prefix: str, new_prefix: str) -> dict[str, str]: ...
    def gc(
        self,
        older_than: timedelta | str | float | None = None,
        run_ids: str | Iterable[str] | None = None,
        experiment_ids: str | Iterable[str] | None = None,
        dry_run: bool = False,
    ) -> GcResult: ...

    # artifacts
    def artifacts(self, run_id: str) -> ArtifactRepository: ...

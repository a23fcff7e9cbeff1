"""TrackingClient: every tracking operation by explicit id; what the TUI and the CLI use."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runyard.config import default_tracking_uri, is_remote_uri, normalize_tracking_uri
from runyard.entities import (
    Experiment,
    FileInfo,
    Metric,
    PagedList,
    Param,
    Run,
    RunStatus,
    RunTag,
)
from runyard.tracking.artifacts import ArtifactRepository
from runyard.validation import validate_key, validate_metric_value, validate_step, validate_timestamp

if TYPE_CHECKING:
    from runyard.entities import (
        ConsoleChunk,
        DatasetInput,
        DownsampledHistory,
        ExperimentOverview,
        GcResult,
        LoggedModel,
        LoggedModelInput,
        LoggedModelOutput,
        RunKeys,
    )
    from runyard.store.interface import Store
    from runyard.tracking.models import ModelInfo


class TrackingClient:
    """Operations on one tracking store, by explicit run and experiment ids (MLflow's client names)."""

    def __init__(
        self, tracking_uri: str | None = None, artifact_root: str | None = None, must_exist: bool = False
    ) -> None:
        self.tracking_uri = (
            normalize_tracking_uri(tracking_uri)
            if tracking_uri
            else normalize_tracking_uri(default_tracking_uri())
        )
        self._artifact_root = artifact_root
        self._must_exist = must_exist
        self._store: Store | None = None

    @property
    def is_remote(self) -> bool:
        """True when the store is a tracking server reached over HTTP (runyard's or MLflow's)."""
        return is_remote_uri(self.tracking_uri)

    @property
    def store(self) -> Store:
        """The store, opened on first use: SQL for a database URI, HTTP (RestStore) for http(s)://.

        SQLAlchemy or httpx is imported then, not at import runyard.
        """
        if self._store is None:
            if is_remote_uri(self.tracking_uri):
                from runyard.rest.store import RestStore

                self._store = RestStore(self.tracking_uri)
            else:
                from runyard.store.sql_store import SqlStore

                self._store = SqlStore(self.tracking_uri, self._artifact_root, must_exist=self._must_exist)
        return self._store

    # ----------------------------------------------------------------- experiments
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        """Create an experiment; returns its id."""
        return self.store.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with that id."""
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with that name, or None."""
        return self.store.get_experiment_by_name(name)

    def list_experiments(self, view_type: str = "ACTIVE_ONLY") -> list[Experiment]:
        """Experiments of the lifecycle view, by name."""
        return self.store.list_experiments(view_type)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        self.store.rename_experiment(str(experiment_id), new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set a tag on an experiment."""
        self.store.set_experiment_tag(str(experiment_id), key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag of an experiment."""
        self.store.delete_experiment_tag(str(experiment_id), key)

    def count_runs(self, experiment_ids: Sequence[str]) -> dict[str, int]:
        """Active runs per experiment."""
        return self.store.count_runs(experiment_ids)

    # ----------------------------------------------------------------- runs
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        run_name: str | None = None,
        parent_run_id: str | None = None,
        user_id: str | None = None,
        **source: Any,
    ) -> Run:
        """Create a RUNNING run in an experiment; returns it."""
        from runyard.tracking.context import current_user

        return self.store.create_run(
            str(experiment_id),
            run_name,
            user_id or current_user(),
            start_time=start_time,
            tags=tags,
            parent_run_id=parent_run_id,
            **source,
        )

    def get_run(self, run_id: str) -> Run:
        """The run with its params, latest metrics and tags."""
        return self.store.get_run(run_id)

    def recent_metrics(
        self, run_ids: Sequence[str], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, list[Metric]]]:
        """run id -> key -> its last points (up to 32, oldest first): what sparklines and alerts read."""
        return self.store.recent_metrics(run_ids, keys)

    def get_console(
        self, run_id: str, after_seq: int | None = None, limit: int | None = None, newest: bool = False
    ) -> list[ConsoleChunk]:
        """A run's captured output chunks in order: after after_seq; the first (newest: the last) limit."""
        return self.store.get_console(run_id, after_seq=after_seq, limit=limit, newest=newest)

    def get_console_text(self, run_id: str) -> str:
        """A run's whole captured output (stdout and stderr as they interleaved, ANSI colours kept)."""
        return "".join(chunk.text for chunk in self.get_console(run_id))

    def set_terminated(
        self, run_id: str, status: str = RunStatus.FINISHED, end_time: int | None = None
    ) -> None:
        """End a run with a terminal status (FINISHED, FAILED, KILLED)."""
        from runyard.clock import now_ms
        from runyard.exceptions import InvalidInput

        if status not in RunStatus.TERMINAL:
            raise InvalidInput(f"Invalid end status {status!r}: use one of {', '.join(RunStatus.TERMINAL)}.")
        self.store.update_run(run_id, status=status, end_time=end_time or now_ms())

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Change a run's status or name."""
        self.store.update_run(run_id, status=status, run_name=name)

    def rename_run(self, run_id: str, new_name: str) -> None:
        """Give a run a new name."""
        self.store.update_run(run_id, run_name=new_name)

    def search_runs(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of runs matching the filter; `.token` of the result continues (None on the last page)."""
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self.store.search_runs(ids, filter_string, run_view_type, max_results, order_by, page_token)

    def search_runs_with_signature(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
    ) -> tuple[PagedList, tuple[int, int]]:
        """The first page of a search and runs_signature() of the experiments, read just before it.

        What the app reads for every new search: a tracking server answers both in one request.
        """
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self.store.search_runs_with_signature(ids, filter_string, run_view_type, max_results, order_by)

    def export_runs_csv(
        self,
        path_or_file: str | os.PathLike[str] | Any,
        experiment_ids: Sequence[str] | str,
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        order_by: Sequence[str] | None = None,
        max_results: int | None = None,
    ) -> int:
        """Write every run of a search (or the first max_results) as CSV; return how many were written.

        The shape of `runyard runs list --csv` (runyard.tracking.export.csv_rows), experiment names included.
        """
        from runyard.tracking.export import export_runs_csv

        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        runs: list[Run] = []
        token: str | None = None
        while ids and (max_results is None or len(runs) < max_results):
            size = 50_000 if max_results is None else min(50_000, max_results - len(runs))
            page = self.search_runs(ids, filter_string, run_view_type, size, order_by, token)
            runs.extend(page)
            token = page.token
            if token is None:
                break
        names = {experiment.experiment_id: experiment.name for experiment in self.list_experiments("ALL")}
        return export_runs_csv(runs, path_or_file, names)

    # ----------------------------------------------------------------- logging
    def log_param(self, run_id: str, key: str, value: object) -> None:
        """Log a write-once param."""
        self.store.log_params(run_id, {key: value})

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        """Log several params at once (all or nothing)."""
        self.store.log_params(run_id, params)

    def log_metric(
        self, run_id: str, key: str, value: float, timestamp: int | None = None, step: int | None = None
    ) -> None:
        """Write one metric point now (synchronously; the fluent API batches instead)."""
        self.log_batch(run_id, metrics=[Metric(key, value, timestamp, step)])

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] | None = None,
        params: Mapping[str, object] | Sequence[Param] | None = None,
        tags: Mapping[str, object] | Sequence[RunTag] | None = None,
    ) -> None:
        """Write metrics, params and tags (dicts, or Param/RunTag lists as in MLflow) in one transaction."""
        from runyard.clock import now_ms

        points = validated_points(metrics or (), now_ms())
        self.store.log_batch(run_id, points, key_values(params, "param"), key_values(tags, "tag"))

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        """Set or replace a tag."""
        self.store.set_tags(run_id, {key: value})

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        """Set several tags at once."""
        self.store.set_tags(run_id, tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag."""
        self.store.delete_tag(run_id, key)

    # ----------------------------------------------------------------- inputs and logged models
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> int:
        """Record datasets (and models) a run used, once per (run, dataset, context); returns new inputs."""
        return self.store.log_inputs(run_id, datasets, models)

    def log_input(
        self, run_id: str, dataset: Any, context: str | None = "training", name: str | None = None
    ) -> DatasetInput:
        """Record a DataFrame, numpy array, file, directory or URI as a dataset the run used; returns it.

        Once per (run, dataset, context): logging the same data again for the same purpose changes nothing.
        """
        from runyard.tracking.datasets import dataset_input

        item = dataset_input(dataset, context, name)
        self.store.log_inputs(run_id, [item])
        return item

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models a run produced."""
        self.store.log_outputs(run_id, models)

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model; its files go under its artifact_location."""
        return self.store.create_logged_model(experiment_id, name, source_run_id, tags, params, model_type)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """A logged model with its tags, params and metrics."""
        return self.store.get_logged_model(model_id, allow_deleted)

    def finalize_logged_model(self, model_id: str, status: str = "READY") -> LoggedModel:
        """Mark a logged model READY (or FAILED) once its files are written."""
        return self.store.finalize_logged_model(model_id, status)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, object]) -> None:
        """Set or replace tags of a logged model."""
        self.store.set_logged_model_tags(model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag of a logged model."""
        self.store.delete_logged_model_tag(model_id, key)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, object]) -> None:
        """Write params of a logged model (write-once)."""
        self.store.log_logged_model_params(model_id, params)

    def delete_logged_model(self, model_id: str) -> None:
        """Move a logged model to the trash."""
        self.store.delete_logged_model(model_id)

    def logged_model_artifacts(self, model_id: str) -> ArtifactRepository:
        """The files of a logged model (`models:/<model_id>`), wherever they live."""
        return self.store.logged_model_artifacts(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of logged models of the experiments matching the filter; `.token` continues."""
        return self.store.search_logged_models(
            experiment_ids, filter_string, max_results, order_by, page_token
        )

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric in MLflow's order: timestamp, then step (charts use step order)."""
        return self.store.get_metric_history(run_id, key)

    def iter_metric_points(
        self, run_id: str, chunk: int = 65_536
    ) -> Iterator[list[tuple[str, int, int, float]]]:
        """Every point of every metric of a run as (key, step, timestamp, value) rows, in chunks."""
        return self.store.iter_metric_points(run_id, chunk)

    # ----------------------------------------------------------------- artifacts
    def artifact_repository(self, run_id: str) -> ArtifactRepository:
        """The artifact directory of a run."""
        return self.store.artifacts(run_id)

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> str:
        """Copy a local file into the run's artifacts."""
        return self.artifact_repository(run_id).log_file(local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[str]:
        """Copy a local directory into the run's artifacts."""
        return self.artifact_repository(run_id).log_directory(local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> str:
        """Write text (UTF-8) as an artifact file."""
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise _unwritable_text(artifact_file, f"at position {error.start}") from None
        return self.artifact_repository(run_id).write_bytes(artifact_file, data)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> str:
        """Write a dict as JSON (or YAML when artifact_file ends with .yaml/.yml and PyYAML is installed)."""
        if artifact_file.endswith((".yaml", ".yml")):
            try:
                import yaml

                text = yaml.safe_dump(dictionary, sort_keys=False)
            except ImportError:
                text = json.dumps(dictionary, indent=2)
        else:
            text = json.dumps(dictionary, indent=2, default=str)
        if "\\u" in text or "\\U" in text:  # escaped characters: lone surrogates hide among them
            probe = json.dumps(dictionary, ensure_ascii=False, default=str)
            try:
                probe.encode("utf-8")
            except UnicodeEncodeError as error:
                near = probe[max(0, error.start - 20) : error.end]
                raise _unwritable_text(artifact_file, f"near {near!r}") from None
        return self.log_text(run_id, text, artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """Entries directly under path in the run's artifacts."""
        return self.artifact_repository(run_id).list(path)

    def log_model(
        self,
        run_id: str,
        model: Any,
        name: str = "model",
        input_example: Any = None,
        serialization_format: str | None = None,
    ) -> ModelInfo:
        """Store a model under `name/` in the run's artifacts with an MLflow-readable MLmodel descriptor."""
        import tempfile

        from runyard.entities import MODEL_HISTORY
        from runyard.tracking.artifacts import check_relative_path
        from runyard.tracking.models import save_model

        name = check_relative_path(name, "model name")
        self.get_run(run_id)  # an unknown run fails before anything is written
        with tempfile.TemporaryDirectory(prefix="runyard-model-") as staging:
            info = save_model(
                model, Path(staging) / "model", input_example, serialization_format, run_id, name
            )
            self.log_artifacts(run_id, Path(staging) / "model", name)
        history = json.loads(self.get_run(run_id).data.tags.get(MODEL_HISTORY) or "[]")
        history = [entry for entry in history if entry.get("name") != name]
        history.append({"name": name, "flavor": info.flavor})
        self.store.set_tags(run_id, {MODEL_HISTORY: json.dumps(history)})
        return info

    def load_model(self, model_uri: str, trusted: bool = False) -> Any:
        """The model at `runs:/<run_id>/<name>`, `models:/<model_id>` or a local path (pickles: trusted)."""
        from runyard.tracking.models import fetch_model, load_model_from_directory

        return load_model_from_directory(fetch_model(self, model_uri), trusted)

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy an artifact (file or directory) to dst_path (a new temporary directory by default)."""
        import tempfile

        destination = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="runyard-"))
        return str(self.artifact_repository(run_id).download(path or None, destination))

    # ----------------------------------------------------------------- browsing (TUI; core/browse.py)
    def experiment_overview(
        self, experiment_ids: Sequence[str], now_ms: int | None = None
    ) -> ExperimentOverview:
        """ExperimentOverview of the active runs: total, running, lost, failed, last activity, per user."""
        return self.store.experiment_overview(list(experiment_ids), now_ms)

    def run_keys(self, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY") -> RunKeys:
        """RunKeys: distinct param, metric and tag keys of the experiments' runs in that view."""
        return self.store.run_keys(list(experiment_ids), run_view_type)

    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """Runs by id in the order given (unknown ids skipped); cheap refresh of RUNNING runs."""
        return self.store.get_runs(list(run_ids))

    def run_names(self, run_ids: Sequence[str]) -> dict[str, str]:
        """Names of runs by id."""
        return self.store.run_names(list(run_ids))

    def runs_signature(
        self, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY"
    ) -> tuple[int, int]:
        """A value that changes when runs are added to or removed from the experiments."""
        return self.store.runs_signature(list(experiment_ids), run_view_type)

    def descendant_run_ids(self, run_ids: Sequence[str]) -> list[str]:
        """Active runs below these runs (children, grandchildren, ...)."""
        return self.store.descendant_run_ids(list(run_ids))

    # ----------------------------------------------------------------- lifecycle (core/lifecycle.py)
    @property
    def retention_days(self) -> float:
        """Days a deleted run stays in the trash before `gc` may remove it (RUNYARD_RETENTION_DAYS)."""
        from runyard.config import retention_days

        return retention_days()

    def delete_run(
        self, run_id: str | Sequence[str], delete_descendants: bool = True, dry_run: bool = False
    ) -> list[str]:
        """Move runs (and their descendants unless told not to) to the trash; returns the ids deleted."""
        return self.store.delete_run(run_id, delete_descendants, dry_run)

    def restore_run(
        self, run_id: str | Sequence[str], restore_descendants: bool = True, dry_run: bool = False
    ) -> list[str]:
        """Bring runs back from the trash with the descendants deleted together with them; returns ids."""
        return self.store.restore_run(run_id, restore_descendants, dry_run)

    def delete_runs(
        self, experiment_id: str, max_timestamp_millis: int, max_runs: int = 10_000, dry_run: bool = False
    ) -> int:
        """Delete active runs started at or before a time, oldest first (no cascade); returns the count."""
        return self.store.delete_runs(str(experiment_id), max_timestamp_millis, max_runs, dry_run)

    def restore_runs(
        self, experiment_id: str, min_timestamp_millis: int, max_runs: int = 10_000, dry_run: bool = False
    ) -> int:
        """Restore runs deleted at or after a time (no cascade); returns the count."""
        return self.store.restore_runs(str(experiment_id), min_timestamp_millis, max_runs, dry_run)

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment to the trash (its runs are hidden with it; its name stays reserved)."""
        self.store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring an experiment back from the trash with its runs."""
        self.store.restore_experiment(str(experiment_id))

    def rename_experiment_folder(self, old_prefix: str, new_prefix: str) -> dict[str, str]:
        """Rename every experiment under a folder prefix; returns {old name: new name}."""
        return self.store.rename_experiment_folder(old_prefix, new_prefix)

    def gc(
        self,
        older_than: Any = None,
        run_ids: Sequence[str] | None = None,
        experiment_ids: Sequence[str] | None = None,
        dry_run: bool = False,
    ) -> GcResult:
        """Permanently remove trashed runs/experiments (older than older_than, or exactly those named)."""
        return self.store.gc(older_than, run_ids, experiment_ids, dry_run)

    # ----------------------------------------------------------------- run details (issue 6: history.py)
    def get_metric_history_downsampled(
        self, run_id: str, key: str, max_points: int, x_axis: str = "step", since_step: int | None = None
    ) -> DownsampledHistory:
        """At most max_points buckets (last value, min, max) of a metric; only steps > since_step if given."""
        return self.store.get_metric_history_downsampled(run_id, key, max_points, x_axis, since_step)

    def artifact_local_path(self, run_id: str, path: str) -> str:
        """The local file system path of an artifact (checked to stay inside the run's directory)."""
        return str(self.artifact_repository(run_id).resolve(path))

    def read_artifact_head(self, run_id: str, path: str, max_bytes: int = 1 << 20) -> tuple[bytes, int]:
        """The first max_bytes of an artifact file and its full size in bytes (previews read no more)."""
        from runyard.exceptions import InvalidInput

        target = self.artifact_repository(run_id).resolve(path)
        if not target.is_file():
            raise InvalidInput(f"No artifact file {path!r} in run {run_id}.")
        with open(target, "rb") as handle:
            return handle.read(max_bytes), target.stat().st_size

    # ----------------------------------------------------------------- interop (issue 9)
    def get_metric_history_frame(
        self, run_ids: Sequence[str] | str, keys: Sequence[str] | str | None = None
    ) -> Any:
        """Every point as a long pandas DataFrame: run_id, key, step, timestamp, value (runyard[pandas])."""
        return self.store.get_metric_history_frame(run_ids, keys)

    # ----------------------------------------------------------------- search (issue 3)
    def search_experiments(
        self,
        filter_string: str = "",
        view_type: str = "ACTIVE_ONLY",
        order_by: Sequence[str] | None = None,
        max_results: int | None = None,
    ) -> list[Experiment]:
        """Experiments matching a filter (`name LIKE '/team/%'`, `tags.x = 'y'`), newest first by default."""
        return self.store.search_experiments(filter_string, view_type, order_by, max_results)


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _unwritable_text(artifact_file: str, where: str) -> Exception:
    """The error for text that UTF-8 cannot hold (a lone surrogate such as '\\ud800')."""
    from runyard.exceptions import InvalidInput

    return InvalidInput(
        f"Cannot write artifact {artifact_file!r}: the text has a lone surrogate character {where}, "
        "which UTF-8 cannot encode. Fix the string (nothing was written)."
    )


def validated_points(metrics: Sequence[Metric], now: int) -> list[tuple[str, float, int, int]]:
    """(key, value, timestamp, step) of each metric, checked; a missing timestamp becomes now."""
    points: list[tuple[str, float, int, int]] = []
    for metric in metrics:
        key = validate_key(metric.key, "metric")
        points.append(
            (
                key,
                validate_metric_value(key, metric.value),
                _or(validate_timestamp(key, metric.timestamp), now),
                validate_step(key, metric.step),
            )
        )
    return points


def key_values(
    items: Mapping[str, object] | Sequence[Param] | Sequence[RunTag] | None, kind: str
) -> dict[str, object]:
    """A dict from a mapping or from MLflow-style Param/RunTag entities; a param given twice must agree."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    result: dict[str, object] = {}
    for item in items:
        if kind == "param" and item.key in result and result[item.key] != item.value:
            from runyard.exceptions import InvalidInput

            raise InvalidInput(
                f"Param {item.key!r} is given twice in one batch with different values "
                f"({result[item.key]!r} and {item.value!r}): params are write-once.",
                key=item.key,
            )
        result[item.key] = item.value
    return result

"""Module-level logging API (MLflow's names): an active-run stack, start_run, log_*, set_tag, ...

Metrics go to a per-store background writer (see writer.py); params, tags and run state are
written at once. Runs left open are ended at interpreter exit: FAILED when the interpreter exits
on an uncaught exception, FINISHED otherwise. A forked child never ends its parent's runs.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from runyard import clock
from runyard.config import choose_tracking_uri, default_tracking_uri, normalize_tracking_uri
from runyard.entities import Experiment, FileInfo, Run, RunData, RunInfo, RunStatus
from runyard.exceptions import InvalidInput, InvalidState
from runyard.tracking import context as ctx
from runyard.validation import validate_key, validate_metric_value, validate_step, validate_timestamp

if TYPE_CHECKING:  # loaded when first used: `import runyard` stays cheap
    from runyard.entities import DatasetInput
    from runyard.tracking.client import TrackingClient
    from runyard.tracking.console import ConsoleCapture
    from runyard.tracking.models import ModelInfo
    from runyard.tracking.system_metrics import SystemMetricsSampler
    from runyard.tracking.writer import MetricWriter, PointStore

_state_lock = threading.RLock()
_active_experiment_id: str | None = None
_clients: dict[str, TrackingClient] = {}
_writers: dict[str, MetricWriter] = {}
_run_stack: list[ActiveRun] = []
_uncaught_exception = False


class ActiveRun:
    """The run returned by start_run; a context manager that ends the run on exit."""

    def __init__(self, run: Run, client: TrackingClient, writer: MetricWriter) -> None:
        self._run = run
        self.client = client
        self.writer = writer
        self.owner_pid = os.getpid()
        self.system_metrics: SystemMetricsSampler | None = None
        self.console: ConsoleCapture | None = None

    @property
    def info(self) -> RunInfo:
        """The run's attributes (as when it started)."""
        return self._run.info

    @property
    def data(self) -> RunData:
        """The run's data as when it started; call get_run(run_id) for current values."""
        return self._run.data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        _end_specific_run(self, status)

    def __repr__(self) -> str:
        return f"<ActiveRun: run_id={self.info.run_id!r}, run_name={self.info.run_name!r}>"


# ----------------------------------------------------------------------------- tracking URI
def set_tracking_uri(uri: str) -> None:
    """Use this store for the following calls and for TrackingClient() (a database URL or a file path)."""
    global _active_experiment_id
    with _state_lock:
        choose_tracking_uri(str(uri))
        _active_experiment_id = None


def get_tracking_uri() -> str:
    """The store in use: set_tracking_uri's, else $RUNYARD_TRACKING_URI, $MLFLOW_TRACKING_URI, runyard.db."""
    return normalize_tracking_uri(default_tracking_uri())


def _client() -> TrackingClient:
    uri = get_tracking_uri()
    with _state_lock:
        client = _clients.get(uri)
        if client is None:
            from runyard.tracking.client import TrackingClient  # on first use: `import runyard` stays cheap

            client = TrackingClient(uri)
            _clients[uri] = client
        return client


def _writer_for(client: TrackingClient) -> MetricWriter:
    with _state_lock:
        writer = _writers.get(client.tracking_uri)
        if writer is None:
            from runyard.tracking.writer import MetricWriter  # on first use, with its fork gate and signals

            writer = MetricWriter(_point_store_for(client))
            _writers[client.tracking_uri] = writer
        return writer


def _point_store_for(client: TrackingClient) -> PointStore:
    """Where the writer sends points: the store, or for a tracking server an outbox-backed sender."""
    from runyard.rest.transport import is_remote_uri

    if not is_remote_uri(client.tracking_uri):
        return client.store
    from runyard.rest.sender import OutboxSender

    return OutboxSender(
        client.tracking_uri, store=client.store, transport=getattr(client.store, "transport", None)
    )


# ----------------------------------------------------------------------------- experiments
def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment active for following runs (created when a name is given and missing)."""
    global _active_experiment_id
    client = _client()
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidInput("set_experiment takes exactly one of experiment_name or experiment_id.")
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
        if experiment.lifecycle_stage != "active":
            raise InvalidState(f"Experiment {experiment.name!r} is in the trash: restore it first.")
    else:
        experiment = client.get_experiment(client.store.get_or_create_experiment(str(experiment_name)))
    with _state_lock:
        _active_experiment_id = experiment.experiment_id
    return experiment


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
) -> str:
    """Create an experiment; returns its id."""
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """The experiment with that id."""
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment with that name, or None."""
    return _client().get_experiment_by_name(name)


def _default_experiment_id(client: TrackingClient) -> str:
    if _active_experiment_id is not None:
        return _active_experiment_id
    env_id = os.environ.get("RUNYARD_EXPERIMENT_ID")
    if env_id:
        return env_id
    env_name = os.environ.get("RUNYARD_EXPERIMENT_NAME")
    if env_name:
        return client.store.get_or_create_experiment(env_name)
    name, source_type = ctx.default_experiment_name()
    tags = {ctx.EXPERIMENT_SOURCE_TYPE: source_type} if source_type else None
    return client.store.get_or_create_experiment(name, tags=tags)


# ----------------------------------------------------------------------------- runs
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_info: bool = True,
    log_system_metrics: bool | None = None,
    capture_output: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume one by run_id) and make it active; use it as a context manager.

    log_system_metrics samples CPU, memory, disk, network and GPUs into `system/...` metrics (None: as
    enable_system_metrics_logging() or RUNYARD_SYSTEM_METRICS / MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING say).
    capture_output keeps what the process prints to stdout/stderr with the run, still showing it (None:
    on unless RUNYARD_CAPTURE_OUTPUT=0); while one run captures, runs nested in it do not capture again.
    """
    client = _client()
    with _state_lock:
        if _run_stack and not nested and _run_stack[-1].owner_pid == os.getpid():
            active = _run_stack[-1].info.run_id
            raise InvalidState(
                f"Run with UUID {active} is already active. To start a nested run, call start_run with "
                "nested=True; to start a new run, call end_run() first."
            )
        parent = _run_stack[-1] if (_run_stack and nested) else None
    _install_excepthook()
    if not client.is_remote:
        client.store.db.create_if_missing()  # starting (or resuming) a run writes: a new store is created
    from runyard.tracking import console, signals, system_metrics

    signals.install_sigterm_handler(_end_runs_on_sigterm)
    extra_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    if description is not None:
        extra_tags[ctx.NOTE] = description
    if run_id is not None:
        existing = client.get_run(run_id)
        if existing.info.lifecycle_stage != "active":
            raise InvalidState(f"Run {run_id} is in the trash: restore it before resuming it.")
        client.store.update_run(run_id, status=RunStatus.RUNNING, clear_end_time=True, run_name=run_name)
        if extra_tags:
            client.set_tags(run_id, extra_tags)
        run = client.get_run(run_id)
    else:
        exp_id = (
            str(experiment_id)
            if experiment_id is not None
            else (parent.info.experiment_id if parent is not None else _default_experiment_id(client))
        )
        captured = ctx.capture_context() if log_system_info else None
        run_tags = dict(captured.tags) if captured else {}
        run_tags.update(extra_tags)
        run = client.store.create_run(
            exp_id,
            run_name,
            captured.user if captured else ctx.current_user(),
            tags=run_tags,
            parent_run_id=parent.info.run_id if parent is not None else None,
            source_type=captured.source_type if captured else None,
            source_name=captured.source_name if captured else None,
            entry_point=captured.entry_point if captured else None,
            source_version=captured.git_commit if captured else None,
        )
        if log_system_info:
            try:
                client.log_text(run.info.run_id, ctx.installed_requirements(), ctx.REQUIREMENTS_ARTIFACT)
            except OSError as error:  # an unwritable artifact root must not leave an orphaned RUNNING run
                import warnings

                warnings.warn(
                    f"runyard: could not save {ctx.REQUIREMENTS_ARTIFACT} for run {run.info.run_id} "
                    f"({error}); check RUNYARD_ARTIFACT_ROOT. The run goes on without it.",
                    stacklevel=2,
                )
    writer = _writer_for(client)
    writer.watch_run(run.info.run_id)
    active_run_obj = ActiveRun(run, client, writer)
    if system_metrics.wanted(log_system_metrics):
        active_run_obj.system_metrics = system_metrics.start_sampler(run.info.run_id, writer.add_many)
    with _state_lock:
        capturing = any(r.console is not None and r.owner_pid == os.getpid() for r in _run_stack)
        if console.wanted(capture_output) and not capturing:
            active_run_obj.console = console.ConsoleCapture(run.info.run_id, client.store).start()
        _run_stack.append(active_run_obj)
    return active_run_obj


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    with _state_lock:
        return _run_stack[-1] if _run_stack else None


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the innermost active run (writes its buffered metrics first)."""
    if status not in RunStatus.TERMINAL:  # check before the run leaves the stack: a typo must not orphan it
        raise InvalidInput(f"Invalid end status {status!r}: use one of {', '.join(RunStatus.TERMINAL)}.")
    run = active_run()
    if run is not None:
        _end_specific_run(run, status)


def _end_specific_run(run: ActiveRun, status: str) -> None:
    with _state_lock:
        if run in _run_stack:
            # Ending a parent ends the children started under it too, innermost first.
            while _run_stack and _run_stack[-1] is not run:
                child = _run_stack.pop()
                _finish(child, status)
            _run_stack.pop()
        else:
            return
    _finish(run, status)


def _finish(run: ActiveRun, status: str) -> None:
    if run.system_metrics is not None:
        run.system_metrics.stop()
    if run.console is not None:
        run.console.stop()
    try:
        run.writer.flush()
    finally:  # a failed flush (raised to the caller) must not leave the run RUNNING forever
        run.writer.unwatch_run(run.info.run_id)
        if run.owner_pid == os.getpid():
            run.client.set_terminated(run.info.run_id, status)


def _require_active() -> ActiveRun:
    run = active_run()
    if run is None:
        run = start_run()
    return run


# ----------------------------------------------------------------------------- logging
def log_param(key: str, value: Any) -> Any:
    """Log a write-once param of the active run (started on demand)."""
    run = _require_active()
    run.client.log_param(run.info.run_id, key, value)
    return value


def log_params(params: Mapping[str, Any]) -> None:
    """Log several params at once: all or nothing."""
    run = _require_active()
    run.client.log_params(run.info.run_id, params)


def log_metric(key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
    """Buffer one metric point; the background writer stores it within the flush interval."""
    run = _run_stack[-1] if _run_stack else _require_active()
    key = validate_key(key, "metric")
    number = validate_metric_value(key, value)
    step_number = 0 if step is None else validate_step(key, step)
    if timestamp is None:
        timestamp = clock.now_ms()
    else:
        timestamp = validate_timestamp(key, timestamp)
    run.writer.add((run.info.run_id, key, number, timestamp, step_number))


def log_metrics(metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None) -> None:
    """Buffer several metric points with one step; a bad key or value rejects the whole call."""
    run = _require_active()
    timestamp = validate_timestamp("metrics", timestamp) if timestamp is not None else clock.now_ms()
    points = []
    for key, value in metrics.items():
        key = validate_key(key, "metric")
        points.append(
            (run.info.run_id, key, validate_metric_value(key, value), timestamp, validate_step(key, step))
        )
    run.writer.add_many(points)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the active run."""
    run = _require_active()
    run.client.set_tag(run.info.run_id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags on the active run."""
    run = _require_active()
    run.client.set_tags(run.info.run_id, tags)


def delete_tag(key: str) -> None:
    """Remove a tag of the active run."""
    run = _require_active()
    run.client.delete_tag(run.info.run_id, key)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Copy a local file into the active run's artifacts."""
    run = _require_active()
    run.client.log_artifact(run.info.run_id, local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Copy a local directory into the active run's artifacts."""
    run = _require_active()
    run.client.log_artifacts(run.info.run_id, local_dir, artifact_path)


def log_input(dataset: Any, context: str | None = "training", name: str | None = None) -> DatasetInput:
    """Record a DataFrame, numpy array, file, directory or URI as a dataset the active run used."""
    run = _require_active()
    return run.client.log_input(run.info.run_id, dataset, context, name)


def log_text(text: str, artifact_file: str) -> None:
    """Write text as an artifact file of the active run."""
    run = _require_active()
    run.client.log_text(run.info.run_id, text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    """Write a dict as a JSON (or YAML) artifact file of the active run."""
    run = _require_active()
    run.client.log_dict(run.info.run_id, dictionary, artifact_file)


def log_model(
    model: Any, name: str = "model", input_example: Any = None, serialization_format: str | None = None
) -> ModelInfo:
    """Store a model (scikit-learn, any picklable object, or a directory of files) in the active run."""
    run = _require_active()
    return run.client.log_model(run.info.run_id, model, name, input_example, serialization_format)


def predict(model: Any, data: Any) -> Any:
    """The model's predictions for a pandas DataFrame (or anything its predict method takes)."""
    from runyard.tracking.models import predict as predict_with

    return predict_with(model, data)


def enable_system_metrics_logging() -> None:
    """Sample system metrics in every run started from now on (MLflow's name)."""
    from runyard.tracking import system_metrics

    system_metrics.enable_system_metrics_logging()


def disable_system_metrics_logging() -> None:
    """Stop sampling system metrics in runs started from now on (MLflow's name)."""
    from runyard.tracking import system_metrics

    system_metrics.disable_system_metrics_logging()


def load_model(model_uri: str, trusted: bool = False) -> Any:
    """The model at `runs:/<run_id>/<name>`, `models:/<model_id>` or a local path (pickles: trusted=True)."""
    return _client().load_model(model_uri, trusted)


def list_artifacts(run_id: str, path: str | None = None) -> list[FileInfo]:
    """Entries of a run's artifact directory."""
    return _client().list_artifacts(run_id, path)


def get_run(run_id: str) -> Run:
    """A run by id, with its current params, metrics and tags (buffered metrics are written first)."""
    flush()
    return _client().get_run(run_id)


def flush() -> None:
    """Write every buffered metric point (and captured console output) now."""
    with _state_lock:
        writers = list(_writers.values())
        consoles = [run.console for run in _run_stack if run.console is not None]
    for console in consoles:
        console.flush()
    for writer in writers:
        writer.flush()


def set_progress(total: int) -> None:
    """Say how many steps the active run will take, so that `runyard watch` shows its ETA."""
    from runyard.tracking.watch import PROGRESS_TOTAL_TAG

    if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
        raise InvalidInput(f"set_progress(total={total!r}): give the number of steps, a whole number > 0.")
    run = _require_active()
    run.client.set_tags(run.info.run_id, {PROGRESS_TOTAL_TAG: str(total)})


def get_console(run_id: str) -> str:
    """The output a run's process printed (stdout and stderr as captured, ANSI colours kept)."""
    flush()
    return _client().get_console_text(run_id)


# ----------------------------------------------------------------------------- exit handling
_hook_installed = False


def _install_excepthook() -> None:
    global _hook_installed
    if _hook_installed:
        return
    _hook_installed = True
    previous = sys.excepthook

    def _record_uncaught(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        global _uncaught_exception
        _uncaught_exception = True
        if issubclass(exc_type, KeyboardInterrupt):
            _end_all(RunStatus.KILLED)
        previous(exc_type, exc, tb)

    sys.excepthook = _record_uncaught


def _end_all(status: str) -> None:
    with _state_lock:
        runs = [run for run in _run_stack if run.owner_pid == os.getpid()]
    for run in reversed(runs):
        try:
            _end_specific_run(run, status)
        except Exception:  # noqa: BLE001 - at exit, do what can be done
            pass


def _end_runs_on_sigterm() -> bool:
    """End this process's runs as KILLED (buffered points written first); False when it owns none."""
    with _state_lock:
        owned = any(run.owner_pid == os.getpid() for run in _run_stack)
    if owned:
        _end_all(RunStatus.KILLED)
    return owned


def _end_runs_at_exit() -> None:
    _end_all(RunStatus.FAILED if _uncaught_exception else RunStatus.FINISHED)


def _after_fork_in_child() -> None:
    # The child keeps the stack (so log_metric from a data-loader worker goes to the same run) but
    # owns none of its runs, and registers a flush at multiprocessing's exit (which skips atexit).
    global _state_lock
    _state_lock = threading.RLock()  # another parent thread may have held it at fork time
    mp = sys.modules.get("multiprocessing.util")
    if mp is not None:
        _register_flush_at_mp_exit(mp)
        # A multiprocessing.Process child clears its finalizers right after the fork, then runs the
        # registered after-forkers: register once more from there, or its points would be lost.
        global _mp_after_forker_registered
        if not _mp_after_forker_registered:
            _mp_after_forker_registered = True
            mp.register_after_fork(_register_flush_at_mp_exit, lambda _: _register_flush_at_mp_exit(mp))


_mp_after_forker_registered = False


def _register_flush_at_mp_exit(mp: Any) -> None:
    mp.Finalize(None, _at_multiprocessing_exit, exitpriority=100)


def _at_multiprocessing_exit() -> None:
    """A multiprocessing child's exit (atexit never runs there): end the runs it started, flush the rest."""
    exc_type = sys.exc_info()[0]  # set while Process.run's exception propagates through this finalizer
    if exc_type is None:
        status = RunStatus.FINISHED
    elif issubclass(exc_type, KeyboardInterrupt):
        status = RunStatus.KILLED
    elif issubclass(exc_type, SystemExit):
        code = getattr(sys.exc_info()[1], "code", None)
        status = RunStatus.FINISHED if code in (None, 0) else RunStatus.FAILED
    else:
        status = RunStatus.FAILED
    _end_all(status)
    flush()


atexit.register(_end_runs_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ----------------------------------------------------------------------------- lifecycle (core/lifecycle.py)
def delete_run(run_id: str | list[str], delete_descendants: bool = True) -> list[str]:
    """Move runs (and their descendants unless told not to) to the trash; returns the ids deleted."""
    return _client().delete_run(run_id, delete_descendants)


def restore_run(run_id: str | list[str], restore_descendants: bool = True) -> list[str]:
    """Bring runs back from the trash with the descendants deleted together with them; returns ids."""
    return _client().restore_run(run_id, restore_descendants)


def delete_runs(
    experiment_id: str, max_timestamp_millis: int, max_runs: int = 10_000, dry_run: bool = False
) -> int:
    """Delete active runs started at or before a time, oldest first (no cascade); returns the count."""
    return _client().delete_runs(experiment_id, max_timestamp_millis, max_runs, dry_run)


def restore_runs(
    experiment_id: str, min_timestamp_millis: int, max_runs: int = 10_000, dry_run: bool = False
) -> int:
    """Restore runs deleted at or after a time (no cascade); returns the count."""
    return _client().restore_runs(experiment_id, min_timestamp_millis, max_runs, dry_run)


def delete_experiment(experiment_id: str) -> None:
    """Move an experiment to the trash (its runs are hidden with it; its name stays reserved)."""
    _client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    """Bring an experiment back from the trash with its runs."""
    _client().restore_experiment(experiment_id)


def rename_run(run_id: str, new_name: str) -> None:
    """Give a run a new name."""
    _client().rename_run(run_id, new_name)


def rename_experiment(experiment_id: str, new_name: str) -> None:
    """Give an experiment a new (unused) name."""
    _client().rename_experiment(experiment_id, new_name)


def rename_experiment_folder(old_prefix: str, new_prefix: str) -> dict[str, str]:
    """Rename every experiment under a folder prefix (e.g. /vision -> /cv); returns {old: new}."""
    return _client().rename_experiment_folder(old_prefix, new_prefix)


def gc(
    older_than: Any = None,
    run_ids: list[str] | None = None,
    experiment_ids: list[str] | None = None,
    dry_run: bool = False,
) -> Any:
    """Permanently remove trashed runs and experiments (see TrackingClient.gc); returns a GcResult."""
    flush()
    return _client().gc(older_than, run_ids, experiment_ids, dry_run)

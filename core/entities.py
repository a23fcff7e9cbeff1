"""Plain read models handed to callers; never live ORM rows, so they outlive any session."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# System tags: what runyard records about a run (names as MLflow's, under "runyard.").
TAG_PREFIX = "runyard."
PARENT_RUN_ID = "runyard.parentRunId"
NOTE = "runyard.note.content"
USER = "runyard.user"
SOURCE_NAME = "runyard.source.name"
SOURCE_TYPE = "runyard.source.type"
GIT_COMMIT = "runyard.source.git.commit"
GIT_BRANCH = "runyard.source.git.branch"
GIT_REPO_URL = "runyard.source.git.repoURL"
GIT_DIRTY = "runyard.source.git.dirty"
PYTHON_VERSION = "runyard.python.version"
PLATFORM = "runyard.platform"
COMMAND = "runyard.command"
RUN_NAME = "runyard.runName"
EXPERIMENT_SOURCE_TYPE = "runyard.experimentType"
# Set on runs whose only signs of life are their writes (runs logged through the server by MLflow clients).
HEARTBEAT_SOURCE = "runyard.heartbeatSource"
HEARTBEAT_FROM_WRITES = "writes"
PROGRESS_TOTAL = "runyard.progress.total"  # steps the run will take (set_progress): the watch's ETA
MODEL_HISTORY = "runyard.log-model.history"  # JSON list of the run's logged models: name, flavor


class RunStatus:
    """Run status names, as in MLflow."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
    ALL = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)
    TERMINAL = (FINISHED, FAILED, KILLED)
    LOST = "LOST"  # shown, never stored: a RUNNING run whose heartbeat stopped (see RunInfo.display_status)


class LifecycleStage:
    """Soft-delete state of runs and experiments."""

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType:
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"
    VALUES = (ACTIVE_ONLY, DELETED_ONLY, ALL)


class SourceType:
    """Where a run was launched from."""

    SCRIPT = "SCRIPT"
    NOTEBOOK = "NOTEBOOK"
    JOB = "JOB"
    LOCAL = "LOCAL"
    ALL = (SCRIPT, NOTEBOOK, JOB, LOCAL)


@dataclass(frozen=True)
class Experiment:
    """An experiment: a named group of runs; the name may be a path such as /team/vision/resnet."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    deleted_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """One logged metric point."""

    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True)
class ConsoleChunk:
    """A piece of a run's captured output: stream is "stdout", "stderr" or "runyard" (a note of ours)."""

    seq: int
    timestamp: int
    stream: str
    text: str


@dataclass(frozen=True)
class MetricSummary:
    """Per-(run, key) summary kept current by every write: latest point, min, max, count."""

    key: str
    latest_value: float
    latest_step: int
    latest_timestamp: int
    min_value: float
    max_value: float
    count: int


@dataclass(frozen=True)
class Param:
    """A write-once run parameter."""

    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    """An editable run tag."""

    key: str
    value: str


@dataclass(frozen=True)
class RunInfo:
    """Attributes of a run (MLflow's RunInfo plus source, parent and heartbeat)."""

    run_id: str
    run_name: str
    experiment_id: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    deleted_time: int | None = None
    source_type: str | None = None
    source_name: str | None = None
    entry_point: str | None = None
    source_version: str | None = None
    parent_run_id: str | None = None
    heartbeat_time: int | None = None
    heartbeat_from_writes: bool = False  # no runyard heartbeat ever: only writes show it alive

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for run_id."""
        return self.run_id

    @property
    def duration(self) -> int | None:
        """Milliseconds from start to end (None while running or never started)."""
        if self.start_time is None or self.end_time is None:
            return None
        return self.end_time - self.start_time

    def is_lost(self, now_ms: int, stale_after_ms: int | None = None) -> bool:
        """True for a RUNNING run whose writer stopped sending heartbeats (killed, OOM, preempted).

        A run that never sent a runyard heartbeat (an MLflow client logging through the server, where
        each write counts as one) is lost only after config.STALE_WRITES_MS without a write.
        """
        if stale_after_ms is None:  # the same threshold everywhere (TUI, CLI): config.STALE_HEARTBEAT_MS
            from .config import STALE_HEARTBEAT_MS

            stale_after_ms = STALE_HEARTBEAT_MS
        if self.status != RunStatus.RUNNING:
            return False
        if self.heartbeat_from_writes:
            from .config import STALE_WRITES_MS

            stale_after_ms = max(stale_after_ms, STALE_WRITES_MS)
        last_sign_of_life = self.heartbeat_time or self.start_time or 0
        return now_ms - last_sign_of_life > stale_after_ms

    def display_status(self, now_ms: int | None = None) -> str:
        """The status every view shows: LOST for a RUNNING run without a recent heartbeat, else status."""
        if now_ms is None:
            import time

            now_ms = time.time_ns() // 1_000_000
        return RunStatus.LOST if self.is_lost(now_ms) else self.status


@dataclass(frozen=True)
class RunData:
    """Params, latest metric values and tags of a run; summaries carry min/max/count too."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metric_summaries: dict[str, MetricSummary] = field(default_factory=dict)


DATASET_CONTEXT_TAG = "mlflow.data.context"
"""The input tag naming what a run used a dataset for (training, validation, ...), as in MLflow."""


@dataclass(frozen=True)
class Dataset:
    """A dataset as MLflow records it: name and digest identify it within an experiment."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class InputTag:
    """A tag of a dataset input, such as mlflow.data.context = training."""

    key: str
    value: str


@dataclass(frozen=True)
class DatasetInput:
    """A dataset used by a run, with the input's tags (its context among them)."""

    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)

    @property
    def context(self) -> str | None:
        """The value of the mlflow.data.context tag (None without one)."""
        return next((tag.value for tag in self.tags if tag.key == DATASET_CONTEXT_TAG), None)


@dataclass(frozen=True)
class LoggedModelInput:
    """A logged model a run used as input."""

    model_id: str


@dataclass(frozen=True)
class LoggedModelOutput:
    """A logged model a run produced, at a step."""

    model_id: str
    step: int = 0


@dataclass(frozen=True)
class RunInputs:
    """What a run consumed: dataset inputs and logged models."""

    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[LoggedModelInput] = field(default_factory=list)


@dataclass(frozen=True)
class RunOutputs:
    """What a run produced: logged models."""

    model_outputs: list[LoggedModelOutput] = field(default_factory=list)


@dataclass(frozen=True)
class Run:
    """A run: `.info` attributes, `.data` params/metrics/tags, `.inputs` and `.outputs`, as in MLflow."""

    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)


class LoggedModelStatus:
    """Upload state of a logged model, as MLflow names it."""

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
    ALL = (UNSPECIFIED, PENDING, READY, FAILED)


@dataclass(frozen=True)
class LoggedModelMetric:
    """A metric point of a logged model (MLflow keeps the run and dataset it was measured with)."""

    key: str
    value: float
    timestamp: int
    step: int
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True)
class LoggedModel:
    """A model logged to an experiment (MLflow 3's LoggedModel); its files live under artifact_location."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str = LoggedModelStatus.PENDING
    status_message: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[LoggedModelMetric] = field(default_factory=list)

    @property
    def model_uri(self) -> str:
        """models:/<model_id>, as MLflow names a logged model."""
        return f"models:/{self.model_id}"


@dataclass(frozen=True)
class FileInfo:
    """An entry of a run's artifact directory (path relative to it)."""

    path: str
    is_dir: bool
    file_size: int | None


class PagedList(list):
    """A list of results with `.token` for the next page (None on the last page)."""

    def __init__(self, items: Any = (), token: str | None = None) -> None:
        super().__init__(items)
        self.token = token


def is_nan(value: float | None) -> bool:
    """True when value is a float NaN."""
    return isinstance(value, float) and math.isnan(value)


@dataclass
class DownsampledHistory:
    """Buckets of one metric's history, in x order: last step/time/value of each, with its min and max."""

    key: str
    x_axis: str = "step"
    steps: list[int] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    mins: list[float] = field(default_factory=list)
    maxs: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    source: str = "empty"
    """How it was computed: 'empty', 'points', 'sql-buckets', 'blocks' or 'merged'."""

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def total_points(self) -> int:
        """How many logged points the buckets cover."""
        return sum(self.counts)

    @property
    def last_step(self) -> int | None:
        """The greatest step covered (pass it as since_step to fetch only newer points)."""
        return max(self.steps) if self.steps else None

    @property
    def xs(self) -> list[int]:
        """The x coordinate of each bucket: its last step, or its last timestamp on the time axis."""
        return self.steps if self.x_axis == "step" else self.timestamps

    def extended(self, newer: DownsampledHistory, max_points: int) -> DownsampledHistory:
        """This history followed by a newer tail (from since_step), re-bucketed to at most max_points."""
        if not newer.steps:
            return self
        if not self.steps:
            return newer
        from runyard.downsample import bucket_units, from_units, units_of

        units = list(units_of(self)) + list(units_of(newer))
        if len(units) <= max_points:
            return from_units(self.key, self.x_axis, units, "merged")
        return from_units(self.key, self.x_axis, bucket_units(units, max_points), "merged")


@dataclass(frozen=True)
class ExperimentOverview:
    """Counts over the active runs of one or more experiments."""

    total_runs: int = 0
    running: int = 0  # RUNNING with a recent heartbeat
    lost: int = 0  # RUNNING, but the heartbeat stopped (killed, out of memory, preempted)
    failed: int = 0
    last_activity: int | None = None
    runs_per_user: dict[str, int] = field(default_factory=dict)
    capped: bool = False  # counted from the first runs only (a stock MLflow server): "1,000+"


@dataclass(frozen=True)
class RunKeys:
    """The distinct param, metric and tag keys of a set of runs, each sorted."""

    params: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


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

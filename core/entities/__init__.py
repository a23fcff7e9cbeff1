"""Plain read models handed to callers; never live ORM rows, so they outlive any session.

What every run carries (Run, RunInfo, RunData, Experiment, Metric, ...) is defined here; the rest
loads on first use so that `import runyard` stays cheap (each frozen dataclass costs a little to
create): datasets and MLflow 3 logged models in `entities.inputs`, summaries and the read models of
the browse views in `entities.summaries`. `from runyard.entities import X` works for all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded on first use (module __getattr__ below); mypy sees them here
    from .inputs import Dataset as Dataset
    from .inputs import DatasetInput as DatasetInput
    from .inputs import InputTag as InputTag
    from .inputs import LoggedModel as LoggedModel
    from .inputs import LoggedModelInput as LoggedModelInput
    from .inputs import LoggedModelMetric as LoggedModelMetric
    from .inputs import LoggedModelOutput as LoggedModelOutput
    from .inputs import LoggedModelStatus as LoggedModelStatus
    from .summaries import ConsoleChunk as ConsoleChunk
    from .summaries import DownsampledHistory as DownsampledHistory
    from .summaries import ExperimentOverview as ExperimentOverview
    from .summaries import GcResult as GcResult
    from .summaries import MetricSummary as MetricSummary
    from .summaries import RunKeys as RunKeys

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
            from ..config import STALE_HEARTBEAT_MS

            stale_after_ms = STALE_HEARTBEAT_MS
        if self.status != RunStatus.RUNNING:
            return False
        if self.heartbeat_from_writes:
            from ..config import STALE_WRITES_MS

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


LAZY = {
    **dict.fromkeys(
        (
            "Dataset",
            "DatasetInput",
            "InputTag",
            "LoggedModel",
            "LoggedModelInput",
            "LoggedModelMetric",
            "LoggedModelOutput",
            "LoggedModelStatus",
        ),
        "runyard.entities.inputs",
    ),
    **dict.fromkeys(
        ("ConsoleChunk", "DownsampledHistory", "ExperimentOverview", "GcResult", "MetricSummary", "RunKeys"),
        "runyard.entities.summaries",
    ),
}
"""The entities defined in a submodule, loaded when first asked for: name -> module."""


def __getattr__(name: str) -> object:
    """An entity of a submodule, loaded on first use (then cached here: later lookups are plain)."""
    module = LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runyard.entities' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value

"""runyard: a terminal-first experiment tracker. `import runyard` then log runs with MLflow's names.

This package never imports the UI stack (textual, rich, plotext) and imports SQLAlchemy only when a
store is first used, so that a training job pays little for `import runyard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runyard import entities as _entities
from runyard.entities import (
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    SourceType,
    ViewType,
)
from runyard.exceptions import (
    ExperimentExists,
    ExperimentNotFound,
    InvalidInput,
    InvalidQuery,
    InvalidState,
    LoggedModelNotFound,
    MissingExtra,
    ParamImmutable,
    RunNotFound,
    RunyardError,
    SchemaVersionError,
    StoreError,
    UnsafeArtifactPath,
)
from runyard.interop import copy_runs, export_runs, import_mlflow, import_runs
from runyard.tracking.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_run,
    delete_runs,
    delete_tag,
    disable_system_metrics_logging,
    enable_system_metrics_logging,
    end_run,
    flush,
    gc,
    get_console,
    get_experiment,
    get_experiment_by_name,
    get_run,
    get_tracking_uri,
    list_artifacts,
    load_model,
    log_artifact,
    log_artifacts,
    log_dict,
    log_input,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    log_text,
    predict,
    rename_experiment,
    rename_experiment_folder,
    rename_run,
    restore_experiment,
    restore_run,
    restore_runs,
    set_experiment,
    set_progress,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from runyard.tracking.fluent_search import export_runs_csv, search_experiments, search_runs

if TYPE_CHECKING:  # loaded on first use (__getattr__ below), so that `import runyard` stays cheap
    from runyard.entities import (
        ConsoleChunk,
        Dataset,
        DatasetInput,
        InputTag,
        LoggedModel,
        LoggedModelInput,
        LoggedModelMetric,
        LoggedModelOutput,
        LoggedModelStatus,
        MetricSummary,
    )
    from runyard.tracking.client import TrackingClient
    from runyard.tracking.models import ModelInfo

__version__ = "0.1.0"

__all__ = [
    "active_run",
    "ActiveRun",
    "ConsoleChunk",
    "copy_runs",
    "create_experiment",
    "Dataset",
    "DatasetInput",
    "delete_experiment",
    "delete_run",
    "delete_runs",
    "delete_tag",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "end_run",
    "Experiment",
    "ExperimentExists",
    "ExperimentNotFound",
    "export_runs",
    "export_runs_csv",
    "FileInfo",
    "flush",
    "gc",
    "get_experiment",
    "get_experiment_by_name",
    "get_console",
    "get_run",
    "get_tracking_uri",
    "import_mlflow",
    "import_runs",
    "InputTag",
    "InvalidInput",
    "InvalidQuery",
    "InvalidState",
    "LifecycleStage",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "load_model",
    "predict",
    "ModelInfo",
    "log_param",
    "log_params",
    "log_text",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelMetric",
    "LoggedModelNotFound",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "Metric",
    "MetricSummary",
    "MissingExtra",
    "PagedList",
    "Param",
    "ParamImmutable",
    "rename_experiment",
    "rename_experiment_folder",
    "rename_run",
    "restore_experiment",
    "restore_run",
    "restore_runs",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunNotFound",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "RunyardError",
    "SchemaVersionError",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_progress",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "SourceType",
    "start_run",
    "StoreError",
    "TrackingClient",
    "UnsafeArtifactPath",
    "ViewType",
]


def __getattr__(name: str) -> object:
    """Names loaded on first use, so that `import runyard` stays cheap."""
    if name == "ModelInfo":
        from runyard.tracking.models import ModelInfo

        return ModelInfo
    if name == "TrackingClient":
        from runyard.tracking.client import TrackingClient

        return TrackingClient
    if name in __all__ and name in _entities.LAZY:
        return getattr(_entities, name)
    raise AttributeError(f"module 'runyard' has no attribute {name!r}")

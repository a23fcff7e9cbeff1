"""runyard: a terminal-first experiment tracker. `import runyard` then log runs with MLflow's names.

This package never imports the UI stack (textual, rich, plotext) and imports SQLAlchemy only when a
store is first used, so that a training job pays little for `import runyard`.
"""

from __future__ import annotations

from .client import TrackingClient
from .entities import (
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    MetricSummary,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    SourceType,
    ViewType,
)
from .exceptions import (
    ExperimentExists,
    ExperimentNotFound,
    InvalidInput,
    InvalidQuery,
    InvalidState,
    MissingExtra,
    ParamImmutable,
    RunNotFound,
    RunyardError,
    SchemaVersionError,
    StoreError,
    UnsafeArtifactPath,
)
from .fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_tag,
    end_run,
    flush,
    get_experiment,
    get_experiment_by_name,
    get_run,
    get_tracking_uri,
    list_artifacts,
    log_artifact,
    log_artifacts,
    log_dict,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    set_experiment,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "Experiment",
    "ExperimentExists",
    "ExperimentNotFound",
    "FileInfo",
    "InvalidInput",
    "InvalidQuery",
    "InvalidState",
    "LifecycleStage",
    "Metric",
    "MetricSummary",
    "MissingExtra",
    "PagedList",
    "Param",
    "ParamImmutable",
    "Run",
    "RunData",
    "RunInfo",
    "RunNotFound",
    "RunStatus",
    "RunTag",
    "RunyardError",
    "SchemaVersionError",
    "SourceType",
    "StoreError",
    "TrackingClient",
    "UnsafeArtifactPath",
    "ViewType",
    "active_run",
    "create_experiment",
    "delete_tag",
    "end_run",
    "flush",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

# ----------------------------------------------------------------------------- lifecycle (core/lifecycle.py)
from .fluent import (  # noqa: E402
    delete_experiment,
    delete_run,
    delete_runs,
    gc,
    rename_experiment,
    rename_experiment_folder,
    rename_run,
    restore_experiment,
    restore_run,
    restore_runs,
)

__all__ += [
    "delete_experiment",
    "delete_run",
    "delete_runs",
    "gc",
    "rename_experiment",
    "rename_experiment_folder",
    "rename_run",
    "restore_experiment",
    "restore_run",
    "restore_runs",
]

# ----------------------------------------------------------------------------- interop (core/interop/)
from .interop import copy_runs, export_runs, import_mlflow, import_runs  # noqa: E402

__all__ += ["copy_runs", "export_runs", "import_mlflow", "import_runs"]

# ----------------------------------------------------------------------------- search (core/fluent_search.py)
from .fluent_search import export_runs_csv, search_experiments, search_runs  # noqa: E402

__all__ += ["export_runs_csv", "search_experiments", "search_runs"]

# ----------------------------------------------------------------------------- datasets and logged models
from .entities import (  # noqa: E402
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelStatus,
    RunInputs,
    RunOutputs,
)
from .exceptions import LoggedModelNotFound  # noqa: E402
from .fluent import log_input  # noqa: E402

__all__ += [
    "Dataset",
    "DatasetInput",
    "InputTag",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelMetric",
    "LoggedModelNotFound",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "RunInputs",
    "RunOutputs",
    "log_input",
]

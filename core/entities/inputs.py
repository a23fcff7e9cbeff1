"""Datasets a run used and MLflow 3 logged models: loaded on first use (see runyard.entities)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import DATASET_CONTEXT_TAG


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

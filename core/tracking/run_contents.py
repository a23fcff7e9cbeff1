"""A run's models and datasets summarised for people: flavor, schema and prediction snippet; dataset facts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runyard.entities import DATASET_CONTEXT_TAG, MODEL_HISTORY, Dataset, LoggedModel, Run
from runyard.exceptions import RunyardError

MAX_MODELS = 100
_NOT_FLAVORS = ("python_function",)


@dataclass(frozen=True)
class ModelSummary:
    """One model of a run: where it is, its flavor and schema, and Python that loads it and predicts."""

    path: str  # inside the run's artifacts (runs:/<run_id>/<path>), else the name of a models:/<model_id>
    flavor: str
    inputs: str
    outputs: str
    snippet: str
    model_id: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class DatasetSummary:
    """One dataset input of a run, in words."""

    name: str
    digest: str
    context: str
    source: str
    schema: str
    rows: int | None


def _history_paths(run: Run) -> list[str]:
    try:
        history = json.loads(run.data.tags.get(MODEL_HISTORY) or "[]")
    except ValueError:
        return []
    paths = []
    for entry in history if isinstance(history, list) else []:
        if isinstance(entry, dict):
            name = entry.get("name") or str(entry.get("artifact_path") or "").rsplit("/", 1)[-1]
            if name:
                paths.append(str(name))
    return paths


def _logged_models(client: Any, run: Run) -> list[LoggedModel]:
    run_id = run.info.run_id.replace("'", "")
    try:
        page = client.search_logged_models(
            [run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'", max_results=MAX_MODELS
        )
    except (RunyardError, AttributeError):
        return []
    return list(page)


def _inside_run(client: Any, run: Run, model: LoggedModel) -> str | None:
    """Where the model's files are inside the run's artifacts (None when they live elsewhere)."""
    from runyard.tracking.artifacts import local_path_of

    location, root = model.artifact_location.rstrip("/"), run.info.artifact_uri.rstrip("/")
    if root and location.startswith(f"{root}/"):  # a server's URIs, or the same local spelling
        return location[len(root) + 1 :]
    try:
        root_path = Path(client.artifact_local_path(run.info.run_id, "")).resolve()
        return local_path_of(model.artifact_location).resolve().relative_to(root_path).as_posix()
    except (RunyardError, ValueError, OSError):
        return None


def _descriptor(client: Any, run_id: str, path: str) -> dict[str, Any]:
    """The model's MLmodel descriptor (on a server: that one file is downloaded), {} when unreadable."""
    from runyard.tracking.models import MODEL_FILE, from_yaml

    try:
        data, _size = client.read_artifact_head(run_id, f"{path}/{MODEL_FILE}")
        return from_yaml(data.decode("utf-8"))
    except (RunyardError, ValueError, OSError):
        return {}


def flavor_of(descriptor: dict[str, Any]) -> str:
    """runyard's flavor, else the first MLflow flavor that is not the generic python_function."""
    runyard_flavor = (descriptor.get("runyard") or {}).get("flavor")
    if runyard_flavor:
        return str(runyard_flavor)
    flavors = list(descriptor.get("flavors") or {})
    return next((f for f in flavors if f not in _NOT_FLAVORS), flavors[0] if flavors else "unknown")


def schema_text(spec: str | None) -> str:
    """A signature's inputs or outputs in one line: `a double, b long` or `tensor float64 [-1, 2]`."""
    try:
        items = json.loads(spec or "[]")
    except ValueError:
        return "unreadable"
    parts = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "tensor":
            tensor = item.get("tensor-spec") or {}
            parts.append(f"tensor {tensor.get('dtype', '?')} {tensor.get('shape', '')}".strip())
        else:
            parts.append(f"{item.get('name', '?')} {item.get('type', '?')}")
    return ", ".join(parts) or "not recorded"


def run_models(client: Any, run: Run) -> list[ModelSummary]:
    """The run's models: those log_model recorded and MLflow 3's logged models of the run (reads files).

    A logged model whose files live outside the run (MLflow 3's own layout on its server) is listed by
    name, its snippet loading `models:/<model_id>`.
    """
    from runyard.tracking.models import prediction_snippet

    found: dict[str, tuple[str | None, str | None]] = {path: (None, None) for path in _history_paths(run)}
    elsewhere: list[LoggedModel] = []
    for model in _logged_models(client, run):
        path = _inside_run(client, run, model)
        if path:
            found[path] = (model.model_id, model.status)
        else:
            elsewhere.append(model)
    summaries = []
    for path, (model_id, status) in list(found.items())[:MAX_MODELS]:
        descriptor = _descriptor(client, run.info.run_id, path)
        snippet = prediction_snippet(run.info.run_id, path, descriptor)
        summaries.append(_summary(path, descriptor, snippet, model_id, status))
    for model in elsewhere[: max(0, MAX_MODELS - len(summaries))]:
        descriptor = _model_descriptor(client, model.model_id)
        snippet = prediction_snippet(run.info.run_id, model.name, descriptor, model.model_uri)
        summaries.append(_summary(model.name, descriptor, snippet, model.model_id, model.status))
    return summaries


def _summary(
    path: str, descriptor: dict[str, Any], snippet: str, model_id: str | None, status: str | None
) -> ModelSummary:
    signature = descriptor.get("signature") or {}
    return ModelSummary(
        path=path,
        flavor=flavor_of(descriptor),
        inputs=schema_text(signature.get("inputs")),
        outputs=schema_text(signature.get("outputs")),
        snippet=snippet,
        model_id=model_id,
        status=status,
    )


def _model_descriptor(client: Any, model_id: str) -> dict[str, Any]:
    """The MLmodel of a logged model stored outside its run, {} when unreadable."""
    from runyard.tracking.models import MODEL_FILE, from_yaml

    try:
        repository = client.logged_model_artifacts(model_id)
        with open(repository.resolve(MODEL_FILE), "rb") as handle:
            return from_yaml(handle.read(1 << 20).decode("utf-8"))
    except (RunyardError, ValueError, OSError):
        return {}


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return None


def dataset_schema_text(dataset: Dataset) -> str:
    """`3 columns: a, b, c` for a table, the tensor specs for arrays, '' when none was recorded."""
    schema = _json(dataset.schema)
    if not isinstance(schema, dict):
        return ""
    columns = schema.get("mlflow_colspec")
    if isinstance(columns, list):
        names = [str(c.get("name", "?")) for c in columns if isinstance(c, dict)]
        shown = ", ".join(names[:6]) + (" …" if len(names) > 6 else "")
        return f"{len(names)} column{'s' if len(names) != 1 else ''}: {shown}"
    tensors = schema.get("mlflow_tensorspec")
    if isinstance(tensors, dict):
        parts = [f"{role} {schema_text(spec)}" for role, spec in tensors.items() if spec]
        return "; ".join(parts)
    return ""


def _rows(dataset: Dataset) -> int | None:
    profile = _json(dataset.profile)
    if not isinstance(profile, dict):
        return None
    if isinstance(profile.get("num_rows"), int):
        return int(profile["num_rows"])
    shape = profile.get("features_shape")
    return int(shape[0]) if isinstance(shape, list) and shape and isinstance(shape[0], int) else None


def _source_text(dataset: Dataset) -> str:
    source = _json(dataset.source)
    if isinstance(source, dict):
        for key in ("uri", "url", "path", "table_name"):
            if source.get(key):
                return f"{dataset.source_type} {source[key]}"
    return dataset.source_type


def model_names(run: Run) -> list[str]:
    """Names of the run's models from the run alone: log_model's record, else MLflow 3's model outputs."""
    names = list(dict.fromkeys(_history_paths(run)))
    outputs = [output.model_id for output in run.outputs.model_outputs]
    if outputs and not names:
        return [f"{len(outputs)} logged model{'s' if len(outputs) != 1 else ''}"]
    return names


def dataset_labels(run: Run, with_context: bool = True) -> list[str]:
    """`name@digest (context)` of each dataset input: equal labels mean the same data, as MLflow's digest."""
    labels = []
    for item in run.inputs.dataset_inputs:
        context = next((tag.value for tag in item.tags if tag.key == DATASET_CONTEXT_TAG), "")
        label = f"{item.dataset.name}@{item.dataset.digest[:8]}"
        labels.append(f"{label} ({context})" if context and with_context else label)
    return labels


def run_datasets(run: Run) -> list[DatasetSummary]:
    """The run's dataset inputs in words (no store call: they come with the run)."""
    summaries = []
    for item in run.inputs.dataset_inputs:
        tags = {tag.key: tag.value for tag in item.tags}
        dataset = item.dataset
        summaries.append(
            DatasetSummary(
                name=dataset.name,
                digest=dataset.digest,
                context=tags.get(DATASET_CONTEXT_TAG, ""),
                source=_source_text(dataset),
                schema=dataset_schema_text(dataset),
                rows=_rows(dataset),
            )
        )
    return summaries

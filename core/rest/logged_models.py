"""MLflow 3 logged models on the wire, both ways: LoggedModel messages, statuses, order; pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..entities import LoggedModel, LoggedModelMetric, LoggedModelStatus
from ..exceptions import InvalidInput
from .protocol import (
    Body,
    JsonDict,
    encode_double,
    get_key_values,
    get_objects,
    get_string,
    parse_double,
    parse_int64,
)

# runyard's status names <-> MLflow's LoggedModelStatus enum (by name on the wire, by number in protos).
STATUS_NAMES = {
    LoggedModelStatus.UNSPECIFIED: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_STATUS_NUMBERS = dict(enumerate(STATUS_NAMES))
_STATUSES_BY_WIRE_NAME = {wire: mine for mine, wire in STATUS_NAMES.items()}


def get_status(body: Body, name: str = "status") -> str:
    """A required LoggedModelStatus field (its name, or its number as protobuf JSON also allows)."""
    value = body.get(name)
    if isinstance(value, str) and value in _STATUSES_BY_WIRE_NAME:
        return _STATUSES_BY_WIRE_NAME[value]
    if isinstance(value, int) and not isinstance(value, bool) and value in _STATUS_NUMBERS:
        return _STATUS_NUMBERS[value]
    raise InvalidInput(
        f"Invalid value {value!r} for parameter '{name}': use one of {', '.join(STATUS_NAMES.values())}."
    )


def get_order_by(body: Body) -> list[str]:
    """SearchLoggedModels' order_by objects {field_name, ascending} as `field ASC|DESC` clauses."""
    clauses = []
    for item in get_objects(body, "order_by"):
        field_name = get_string(item, "field_name", required=True)
        ascending = item.get("ascending", True)
        if not isinstance(ascending, bool):
            raise InvalidInput(f"order_by.ascending must be true or false, got {ascending!r}.")
        clauses.append(f"{field_name} {'ASC' if ascending else 'DESC'}")
    return clauses


def logged_model_json(model: LoggedModel, artifact_uri: str) -> JsonDict:
    """A LoggedModel message {info, data}; artifact_uri is where clients read and write its files."""
    info: JsonDict = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": artifact_uri,
        "status": STATUS_NAMES.get(model.status, STATUS_NAMES[LoggedModelStatus.UNSPECIFIED]),
    }
    for key in ("model_type", "source_run_id", "status_message"):
        value = getattr(model, key)
        if value:
            info[key] = value
    if model.tags:
        info["tags"] = _key_values(model.tags)
    data: JsonDict = {}
    if model.params:
        data["params"] = _key_values(model.params)
    if model.metrics:
        data["metrics"] = [_metric_json(model.model_id, metric) for metric in model.metrics]
    return {"info": info, "data": data}


def _key_values(items: Mapping[str, str]) -> list[JsonDict]:
    return [{"key": key, "value": value} for key, value in items.items()]


def _metric_json(model_id: str, metric: Any) -> JsonDict:
    result: JsonDict = {
        "key": metric.key,
        "value": encode_double(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
        "model_id": model_id,
    }
    for key in ("run_id", "dataset_name", "dataset_digest"):
        value = getattr(metric, key)
        if value:
            result[key] = value
    return result


# ----------------------------------------------------------------------------- the client side
def order_by_json(clauses: Sequence[str] | str | None) -> list[JsonDict]:
    """`field [ASC|DESC]` clauses as SearchLoggedModels' order_by objects {field_name, ascending}."""
    items = []
    for clause in [clauses] if isinstance(clauses, str) else list(clauses or ()):
        words = clause.strip().rsplit(None, 1)
        if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
            items.append({"field_name": words[0], "ascending": words[1].upper() == "ASC"})
        elif clause.strip():
            items.append({"field_name": clause.strip(), "ascending": True})
    return items


def logged_model_from_json(payload: Mapping[str, Any]) -> LoggedModel:
    """A LoggedModel message {info, data} as a LoggedModel; artifact_location is the URI the server gave."""
    info = payload.get("info") or {}
    data = payload.get("data") or {}
    status = get_status(info) if info.get("status") is not None else LoggedModelStatus.UNSPECIFIED
    return LoggedModel(
        model_id=str(info.get("model_id", "")),
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("name", "")),
        artifact_location=str(info.get("artifact_uri", "")),
        creation_timestamp=parse_int64(info.get("creation_timestamp_ms", 0), "creation_timestamp_ms"),
        last_updated_timestamp=parse_int64(
            info.get("last_updated_timestamp_ms", 0), "last_updated_timestamp_ms"
        ),
        status=status,
        status_message=info.get("status_message") or None,
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        tags=dict(get_key_values(info, "tags", "tag")),
        params=dict(get_key_values(data, "params", "param")),
        metrics=[_metric_from_json(item) for item in get_objects(data, "metrics")],
    )


def _metric_from_json(item: Mapping[str, Any]) -> LoggedModelMetric:
    return LoggedModelMetric(
        key=str(item.get("key", "")),
        value=parse_double(item.get("value", "NaN"), "value"),
        timestamp=parse_int64(item.get("timestamp", 0), "timestamp"),
        step=parse_int64(item.get("step", 0), "step"),
        run_id=item.get("run_id") or None,
        dataset_name=item.get("dataset_name") or None,
        dataset_digest=item.get("dataset_digest") or None,
    )

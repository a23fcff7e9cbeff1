"""MLflow REST JSON <-> runyard entities: pure functions, no HTTP library and no SQL.

The wire format is MLflow's (protobuf JSON with proto field names): int64 fields are accepted as
numbers or strings (the Java client sends strings, the R client sends every scalar as a string) and
written as numbers, as MLflow's server does; NaN and +/-Infinity travel as the strings "NaN",
"Infinity" and "-Infinity"; enums travel by name; experiment ids are strings. System tags are
`mlflow.*` on the wire and `runyard.*` in the store.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any

from runyard.tracking.context import HEARTBEAT_SOURCE

from ..entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    InputTag,
    LoggedModelInput,
    Metric,
    Run,
    RunInfo,
)
from ..exceptions import InvalidInput

# The API paths, as client and server both write them.
MLFLOW_API = "/api/2.0/mlflow"
RUNYARD_API = "/api/2.0/runyard"
MLFLOW_TAG_PREFIX = "mlflow."
RUNYARD_TAG_PREFIX = "runyard."
# A client's id of a write (log-batch, log-metric): the runyard server stores a batch of a run once and
# answers a replay 200 without writing. A header, because MLflow's servers refuse unknown JSON fields
# but ignore unknown headers.
BATCH_ID_HEADER = "X-Runyard-Batch-Id"
# Tags of runyard's own bookkeeping that MLflow clients never see.
HIDDEN_TAGS = frozenset({HEARTBEAT_SOURCE})
# A runs/create field that runyard's client sends to a runyard server only: "this run's process sends
# runyard heartbeats", so it is judged LOST after the heartbeat timeout, as a local run, instead of by
# the long rule for MLflow clients whose writes are their only signs of life.
SENDS_HEARTBEATS_FIELD = "runyard_heartbeats"

# MLflow's limits (mlflow/utils/validation.py and the tracking handlers).
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_DATASETS_PER_BATCH = 1000
MAX_RUNS_GET_METRIC_HISTORY_BULK = 100
MAX_RESULTS_PER_RUN = 2500
SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_LIMIT = 50_000
RUN_VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")

Body = Mapping[str, Any]
JsonDict = dict[str, Any]

_MIN_INT64 = -(2**63)
_MAX_INT64 = 2**63 - 1
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


# ----------------------------------------------------------------------------- system tags
def runyard_tag_key(key: str) -> str:
    """mlflow.X system tags become runyard.X (mlflow.note.content -> runyard.note.content); others stay."""
    return RUNYARD_TAG_PREFIX + key[len(MLFLOW_TAG_PREFIX) :] if key.startswith(MLFLOW_TAG_PREFIX) else key


def mlflow_tag_key(key: str) -> str:
    """runyard.X system tags become mlflow.X on the wire; others stay."""
    return MLFLOW_TAG_PREFIX + key[len(RUNYARD_TAG_PREFIX) :] if key.startswith(RUNYARD_TAG_PREFIX) else key


# ----------------------------------------------------------------------------- request fields
def _invalid(name: str, value: Any, expected: str) -> InvalidInput:
    shown = json.dumps(value) if isinstance(value, str | int | float | bool | None) else type(value).__name__
    return InvalidInput(
        f"Invalid value {shown} for parameter '{name}' supplied: expected {expected}. "
        "See MLflow's REST API documentation for the request fields.",
        key=name,
    )


def missing(name: str) -> InvalidInput:
    """The error for a required request field that is absent."""
    return InvalidInput(f"Missing value for required parameter '{name}'.", key=name)


def get_string(body: Body, name: str, required: bool = False, default: str | None = None) -> str | None:
    """A string field; ids given as JSON numbers are accepted and turned into strings."""
    value = body.get(name)
    if value is None:
        if required:
            raise missing(name)
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and name.endswith("_id"):
        return str(value)
    raise _invalid(name, value, "a string")


def require_string(body: Body, name: str) -> str:
    """A required string field (empty strings are accepted here; the core judges them)."""
    value = get_string(body, name, required=True)
    assert value is not None
    return value


def parse_int64(value: Any, name: str) -> int:
    """An int64 from a JSON number or a decimal string (Java and R clients send strings)."""
    if isinstance(value, bool):
        raise _invalid(name, value, "an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text)
        except ValueError:
            try:  # "1.0" from clients that format every number as a float
                as_float = float(text)
            except ValueError:
                raise _invalid(name, value, "an integer") from None
            if not as_float.is_integer():
                raise _invalid(name, value, "an integer") from None
            number = int(as_float)
    else:
        raise _invalid(name, value, "an integer")
    if not _MIN_INT64 <= number <= _MAX_INT64:
        raise _invalid(name, value, "an integer that fits in 64 bits")
    return number


def get_int64(body: Body, name: str, required: bool = False) -> int | None:
    """An optional (or required) int64 field."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    return parse_int64(value, name)


def parse_double(value: Any, name: str) -> float:
    """A double from a JSON number, "NaN"/"Infinity"/"-Infinity", or a numeric string (R)."""
    if isinstance(value, bool):
        raise _invalid(name, value, "a number")
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        special = _SPECIAL_FLOATS.get(value.strip())
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            raise _invalid(name, value, "a number") from None
    raise _invalid(name, value, "a number")


def get_string_list(body: Body, name: str, required: bool = False) -> list[str]:
    """A repeated string field (a single string is one item, as query strings carry them)."""
    value = body.get(name)
    if value is None:
        if required:
            raise missing(name)
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise _invalid(name, value, "a list of strings")
    items = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool) and name.endswith("_ids"):
            item = str(item)
        if not isinstance(item, str):
            raise _invalid(name, item, "a list of strings")
        items.append(item)
    return items


def get_objects(body: Body, name: str) -> list[Mapping[str, Any]]:
    """A repeated message field: a list of JSON objects."""
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(map(isinstance, value, repeat(dict))):
        raise _invalid(name, value, "a list of objects")
    return value


def get_key_values(body: Body, name: str, kind: str) -> list[tuple[str, str]]:
    """[{key, value}] pairs (params or tags); values are strings (numbers are stringified, as MLflow)."""
    pairs = []
    for item in get_objects(body, name):
        key = get_string(item, "key", required=True)
        value = item.get("value")
        if value is None:
            value = ""  # proto3 omits empty strings
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _invalid(f"{name}.value", value, "a string")
        pairs.append((str(key), str(value) if not isinstance(value, str) else value))
    return pairs


def get_enum(body: Body, name: str, allowed: Sequence[str], default: str) -> str:
    """An enum field by name (numbers are not accepted: MLflow's JSON carries names)."""
    value = body.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value not in allowed:
        raise _invalid(name, value, "one of " + ", ".join(allowed))
    return value


def get_points(body: Body, now: int, name: str = "metrics") -> list[tuple[str, float, int, int]]:
    """Metric points (key, value, timestamp, step) of a log-batch body, parsed and checked in one pass.

    The hot path of ingestion: plain JSON numbers take a type check each; strings (Java, R), NaN and
    infinities go through the general parsers. A missing timestamp is `now`, a missing step 0.
    """
    from ..validation import validate_key

    points: list[tuple[str, float, int, int]] = []
    append = points.append
    for item in get_objects(body, name):
        key = item.get("key")
        if key is None:
            raise missing("key")
        key = validate_key(key, "metric")
        value = item.get("value")
        if value.__class__ is not float:
            if value is None:
                raise missing("value")
            value = parse_double(value, "value")
        timestamp = item.get("timestamp")
        if timestamp.__class__ is not int or not _MIN_INT64 <= timestamp <= _MAX_INT64:
            timestamp = now if timestamp is None or timestamp == "" else parse_int64(timestamp, "timestamp")
        step = item.get("step")
        if step.__class__ is not int or not _MIN_INT64 <= step <= _MAX_INT64:
            step = 0 if step is None or step == "" else parse_int64(step, "step")
        append((key, value, timestamp, step))
    return points


def check_batch_limits(metrics: int, params: int, tags: int) -> None:
    """MLflow's log-batch limits: 1,000 metrics, 100 params, 100 tags (refused whole, nothing written)."""
    for what, count, limit in (
        ("metrics", metrics, MAX_METRICS_PER_BATCH),
        ("params", params, MAX_PARAMS_TAGS_PER_BATCH),
        ("tags", tags, MAX_PARAMS_TAGS_PER_BATCH),
    ):
        if count > limit:
            raise InvalidInput(
                f"A batch logging request can contain at most {limit} {what}. Got {count} {what}: "
                "split it into several log-batch requests."
            )


def get_max_results(body: Body, default: int, limit: int, name: str = "max_results") -> int:
    """max_results within [1, limit] (MLflow's bounds), default when absent."""
    value = get_int64(body, name)
    if value is None:
        return default
    if not 1 <= value <= limit:
        raise InvalidInput(f"Invalid value {value} for parameter '{name}': it must be between 1 and {limit}.")
    return value


def run_id_of(body: Body) -> str:
    """run_id, or run_uuid as older clients (Java, R) send it."""
    value = get_string(body, "run_id") or get_string(body, "run_uuid")
    if not value:
        raise missing("run_id")
    return value


def query_body(items: Iterable[tuple[str, str]], repeated: Iterable[str] = ()) -> dict[str, Any]:
    """A request body from query-string pairs: repeated fields become lists, others keep the first."""
    repeated_fields = set(repeated)
    body: dict[str, Any] = {}
    for key, value in items:
        if key in repeated_fields:
            body.setdefault(key, []).append(value)
        elif key not in body:
            body[key] = value
    return body


# ----------------------------------------------------------------------------- responses
def encode_double(value: float) -> float | str:
    """A double as MLflow writes it: NaN and infinities as strings."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes (floats were encoded with encode_double: strict JSON, no NaN literals)."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def key_values_json(items: Mapping[str, str], mlflow_tags: bool = False) -> list[JsonDict]:
    """[{key, value}] for params or tags; tags get their mlflow.* names, hidden ones are dropped."""
    if not mlflow_tags:
        return [{"key": k, "value": v} for k, v in items.items()]
    return [{"key": mlflow_tag_key(k), "value": v} for k, v in items.items() if k not in HIDDEN_TAGS]


def artifact_uri_of(experiment_id: str, run_id: str) -> str:
    """The artifact URI every run is answered with: resolved by the stock client against the server."""
    return f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"


def experiment_json(experiment: Experiment) -> JsonDict:
    """An Experiment message."""
    result: JsonDict = {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": f"mlflow-artifacts:/{experiment.experiment_id}",
        "lifecycle_stage": experiment.lifecycle_stage,
    }
    if experiment.last_update_time is not None:
        result["last_update_time"] = experiment.last_update_time
    if experiment.creation_time is not None:
        result["creation_time"] = experiment.creation_time
    if experiment.tags:
        result["tags"] = key_values_json(experiment.tags, mlflow_tags=True)
    return result


def run_info_json(info: RunInfo) -> JsonDict:
    """A RunInfo message (run_uuid repeated for older clients)."""
    result: JsonDict = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
    }
    if info.start_time is not None:
        result["start_time"] = info.start_time
    if info.end_time is not None:
        result["end_time"] = info.end_time
    result["artifact_uri"] = artifact_uri_of(info.experiment_id, info.run_id)
    result["lifecycle_stage"] = info.lifecycle_stage
    return result


def run_json(run: Run) -> JsonDict:
    """A Run message: info, data (latest metric per key, params, tags) and empty inputs."""
    data: JsonDict = {}
    if run.data.metric_summaries:
        data["metrics"] = [
            {
                "key": s.key,
                "value": encode_double(s.latest_value),
                "timestamp": s.latest_timestamp,
                "step": s.latest_step,
            }
            for s in run.data.metric_summaries.values()
        ]
    if run.data.params:
        data["params"] = key_values_json(run.data.params)
    tags = key_values_json(run.data.tags, mlflow_tags=True)
    if tags:
        data["tags"] = tags
    result: JsonDict = {"info": run_info_json(run.info), "data": data, "inputs": run_inputs_json(run)}
    if run.outputs.model_outputs:
        result["outputs"] = {
            "model_outputs": [{"model_id": m.model_id, "step": m.step} for m in run.outputs.model_outputs]
        }
    return result


def dataset_json(dataset: Dataset) -> JsonDict:
    """A Dataset message (schema and profile only when recorded)."""
    result: JsonDict = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
    }
    if dataset.schema is not None:
        result["schema"] = dataset.schema
    if dataset.profile is not None:
        result["profile"] = dataset.profile
    return result


def run_inputs_json(run: Run) -> JsonDict:
    """A RunInputs message: dataset inputs with their tags, and logged-model inputs ({} when none)."""
    result: JsonDict = {}
    if run.inputs.dataset_inputs:
        result["dataset_inputs"] = [
            {
                **({"tags": [{"key": t.key, "value": t.value} for t in item.tags]} if item.tags else {}),
                "dataset": dataset_json(item.dataset),
            }
            for item in run.inputs.dataset_inputs
        ]
    if run.inputs.model_inputs:
        result["model_inputs"] = [{"model_id": m.model_id} for m in run.inputs.model_inputs]
    return result


def get_dataset_inputs(body: Body) -> list[DatasetInput]:
    """The `datasets` of a log-inputs body: [{dataset: {name, digest, source_type, source, ...}, tags}]."""
    inputs = []
    for item in get_objects(body, "datasets"):
        dataset = item.get("dataset")
        if not isinstance(dataset, dict):
            raise missing("datasets.dataset")
        inputs.append(
            DatasetInput(
                Dataset(
                    name=str(get_string(dataset, "name", required=True)),
                    digest=str(get_string(dataset, "digest", required=True)),
                    source_type=get_string(dataset, "source_type", default="") or "",
                    source=get_string(dataset, "source", default="") or "",
                    schema=get_string(dataset, "schema"),
                    profile=get_string(dataset, "profile"),
                ),
                [InputTag(k, v) for k, v in get_key_values(item, "tags", "tag")],
            )
        )
    if len(inputs) > MAX_DATASETS_PER_BATCH:
        raise InvalidInput(
            f"A log-inputs request can contain at most {MAX_DATASETS_PER_BATCH} datasets, got {len(inputs)}."
        )
    return inputs


def get_model_inputs(body: Body) -> list[LoggedModelInput]:
    """The `models` of a log-inputs body: [{model_id}]."""
    return [
        LoggedModelInput(str(get_string(m, "model_id", required=True))) for m in get_objects(body, "models")
    ]


def metric_json(metric: Metric, run_id: str | None = None) -> JsonDict:
    """A Metric message (MetricWithRunId with run_id)."""
    result: JsonDict = {
        "key": metric.key,
        "value": encode_double(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if run_id is not None:
        result["run_id"] = run_id
    return result


def metrics_json_items(
    key: str, rows: Sequence[tuple[float | None, int, int]], run_id: str | None = None
) -> bytes:
    """The JSON array items (no brackets) of Metric messages for (value, timestamp, step) rows of one key.

    Built as text directly (the same bytes json.dumps would give): a 100,000-point history is most
    of a GetMetricHistory answer, and dicts plus json.dumps cost several times more.
    """
    head = '{"key":' + json.dumps(key) + ',"value":'
    tail = "}" if run_id is None else ',"run_id":' + json.dumps(run_id) + "}"
    parts = []
    for value, timestamp, step in rows:
        if value is None or value != value:
            shown = '"NaN"'
        elif value in (math.inf, -math.inf):
            shown = '"Infinity"' if value > 0 else '"-Infinity"'
        else:
            shown = repr(float(value))
        parts.append(f'{head}{shown},"timestamp":{timestamp},"step":{step}{tail}')
    return ",".join(parts).encode()


def file_info_json(info: FileInfo) -> JsonDict:
    """A FileInfo message (file_size only for files)."""
    result: JsonDict = {"path": info.path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        result["file_size"] = info.file_size
    return result


# ----------------------------------------------------------------------------- paging and sampling
def encode_offset_token(offset: int) -> str:
    """An opaque page token for offset-paged answers (metric histories)."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_offset_token(token: str | None) -> int:
    """The offset of a token from encode_offset_token (0 without one)."""
    if not token:
        return 0
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = payload["offset"]
        if isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0:
            return offset
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        pass
    raise InvalidInput("Invalid page_token: pass the next_page_token of the previous answer unchanged.")


def sample_interval(
    histories: Mapping[str, Sequence[Metric]], start_step: int | None, end_step: int | None, max_results: int
) -> list[tuple[str, Metric]]:
    """MLflow's get-history-bulk-interval: about max_results steps sampled evenly from the existing steps
    of every run in [start_step, end_step], always keeping each run's first and last step."""
    if (start_step is None) != (end_step is None):
        raise InvalidInput("If either start_step or end_step is given, both must be given.")
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidInput(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}."
        )
    all_runs = [[m.step for m in history] for history in histories.values()]
    edges = {step for steps in all_runs if steps for step in (min(steps), max(steps))}
    all_steps = sorted({step for steps in all_runs for step in steps})
    low = 0 if start_step is None else start_step
    high = (all_steps[-1] if all_steps else 0) if end_step is None else end_step
    edges = {step for step in edges if low <= step <= high}
    first = bisect.bisect_left(all_steps, low)
    last = bisect.bisect_right(all_steps, high)
    if last - first <= max_results:
        sampled = set(all_steps[first:last])
    else:
        interval = (last - first) / max_results
        sampled = {all_steps[first + int(i * interval)] for i in range(max_results)}
        sampled.add(all_steps[last - 1])
    keep = sampled | edges
    per_run = max(max_results, len(keep))
    result: list[tuple[str, Metric]] = []
    for run_id, history in histories.items():
        points = sorted((m for m in history if m.step in keep), key=lambda m: (m.step, m.timestamp))
        if len(points) > per_run:  # many values on one step: sample across the whole history
            step = (len(points) - 1) / (per_run - 1) if per_run > 1 else 0
            points = [points[round(i * step)] for i in range(per_run)] if per_run > 1 else points[-1:]
        result.extend((run_id, m) for m in points)
    return result

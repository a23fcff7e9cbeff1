"""The compact "rows" layout of a page of runs on runyard's runs/search (both sides of the wire).

MLflow's Run message repeats every field name and every metric, param and tag key in every run: a
page of 500 runs with ten metrics, params and tags is ~1 MB of JSON, and encoding, parsing and
walking those dicts costs more than the database query itself. A runyard client asks for
`"layout": "rows"` and gets the same runs as positional rows over one table of the page's keys:

    {"layout": "rows", "keys": ["accuracy", "lr", "mlflow.runName", ...],
     "rows": [[run_id, run_name, experiment_id, user_id, status, start_time, end_time,
               lifecycle_stage, deleted_time, heartbeat_time, heartbeat_from_writes, source_type,
               source_name, entry_point, source_version, parent_run_id,
               [key, latest, step, timestamp, min, max, count, ...],   # metrics, flat
               [key, value, ...],                                      # params, flat
               [key, value, ...],                                      # tags (MLflow names), flat
               {"inputs": ..., "outputs": ...} or null], ...],
     "next_page_token": ...}

Keys are indexes into "keys"; doubles are encoded as in MLflow's messages (NaN, Infinity as strings).
A client decodes a rows page into exactly the Run it would build from the Run messages with runyard's
extension (decode.run_from_json); a server that does not know the layout answers Run messages, which
the client still reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..entities import (
    PARENT_RUN_ID,
    RUN_NAME,
    SOURCE_NAME,
    SOURCE_TYPE,
    MetricSummary,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)
from .decode import inputs_from_json, outputs_from_json
from .protocol import (
    HIDDEN_TAGS,
    artifact_uri_of,
    encode_double,
    mlflow_tag_key,
    parse_double,
    run_inputs_json,
    runyard_tag_key,
)

JsonDict = dict[str, Any]
LAYOUT = "rows"
"""The value of the request's `layout` field (and of the answer's) for this layout."""
LAYOUTS = ("runs", LAYOUT)
"""What a runs/search request may ask for: Run messages (the default) or rows."""
_FIELDS = 20  # positions in a row


def runs_to_rows(runs: Iterable[Run]) -> JsonDict:
    """A page of runs as {"layout", "keys", "rows"} (the server side)."""
    index: dict[str, int] = {}
    keys: list[str] = []

    def key_of(name: str) -> int:
        found = index.get(name)
        if found is None:
            found = index[name] = len(keys)
            keys.append(name)
        return found

    rows = []
    for run in runs:
        info, data = run.info, run.data
        metrics: list[Any] = []
        for s in data.metric_summaries.values():
            metrics += (
                key_of(s.key),
                encode_double(s.latest_value),
                s.latest_step,
                s.latest_timestamp,
                encode_double(s.min_value),
                encode_double(s.max_value),
                s.count,
            )
        params: list[Any] = []
        for key, value in data.params.items():
            params += (key_of(key), value)
        tags: list[Any] = []
        for key, value in data.tags.items():
            if key not in HIDDEN_TAGS:
                tags += (key_of(mlflow_tag_key(key)), value)
        extra: JsonDict | None = None
        if run.inputs.dataset_inputs or run.inputs.model_inputs or run.outputs.model_outputs:
            extra = {"inputs": run_inputs_json(run)}
            if run.outputs.model_outputs:
                outputs = [{"model_id": m.model_id, "step": m.step} for m in run.outputs.model_outputs]
                extra["outputs"] = {"model_outputs": outputs}
        rows.append(
            [
                info.run_id,
                info.run_name,
                info.experiment_id,
                info.user_id,
                info.status,
                info.start_time,
                info.end_time,
                info.lifecycle_stage,
                info.deleted_time,
                info.heartbeat_time,
                info.heartbeat_from_writes,
                info.source_type,
                info.source_name,
                info.entry_point,
                info.source_version,
                info.parent_run_id,
                metrics,
                params,
                tags,
                extra,
            ]
        )
    return {"layout": LAYOUT, "keys": keys, "rows": rows}


def _double(value: Any) -> float:
    return value if type(value) is float else parse_double(value, "value")


def _int(value: Any) -> int | None:
    return value if type(value) is int or value is None else int(value)


def runs_from_rows(answer: Mapping[str, Any], clock_skew_ms: int = 0) -> list[Run]:
    """The runs of a rows page (the client side); clock_skew_ms as in decode.run_from_json."""
    keys = [str(k) for k in answer.get("keys") or ()]
    tag_keys = [runyard_tag_key(k) for k in keys]
    runs = []
    for row in answer.get("rows") or ():
        if len(row) != _FIELDS:
            raise ValueError(f"a run row has {len(row)} fields, not {_FIELDS}")
        flat = row[16]
        summaries: dict[str, MetricSummary] = {}
        for i in range(0, len(flat), 7):
            key = keys[flat[i]]
            summaries[key] = MetricSummary(
                key,
                _double(flat[i + 1]),
                int(flat[i + 2]),
                int(flat[i + 3]),
                _double(flat[i + 4]),
                _double(flat[i + 5]),
                int(flat[i + 6]),
            )
        flat = row[17]
        params = {keys[flat[i]]: str(flat[i + 1]) for i in range(0, len(flat), 2)}
        flat = row[18]
        tags = {tag_keys[flat[i]]: str(flat[i + 1]) for i in range(0, len(flat), 2)}
        run_id, experiment_id = str(row[0]), str(row[2])
        start_time = _int(row[5])
        heartbeat = _int(row[9])
        last_sign = heartbeat if heartbeat is not None else start_time
        info = RunInfo(
            run_id=run_id,
            run_name=str(row[1] or tags.get(RUN_NAME, "")),
            experiment_id=experiment_id,
            user_id=str(row[3]),
            status=str(row[4]),
            start_time=start_time,
            end_time=_int(row[6]),
            lifecycle_stage=str(row[7]),
            artifact_uri=artifact_uri_of(experiment_id, run_id),
            deleted_time=_int(row[8]),
            source_type=row[11] or tags.get(SOURCE_TYPE),
            source_name=row[12] or tags.get(SOURCE_NAME),
            entry_point=row[13],
            source_version=row[14],
            parent_run_id=row[15] or tags.get(PARENT_RUN_ID) or None,
            heartbeat_time=None if last_sign is None else last_sign + clock_skew_ms,
            heartbeat_from_writes=bool(row[10]),
        )
        extra = row[19] or {}
        outputs = outputs_from_json(extra["outputs"]) if extra.get("outputs") else RunOutputs()
        data = RunData(params, {k: s.latest_value for k, s in summaries.items()}, tags, summaries)
        inputs = inputs_from_json(extra["inputs"]) if extra.get("inputs") else RunInputs()
        runs.append(Run(info, data, inputs, outputs))
    return runs

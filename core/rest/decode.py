"""MLflow REST JSON -> runyard entities (the client side of protocol.py), and runyard's run extension.

A stock MLflow server answers runs with the latest value per metric only; a runyard server adds a
`runyard` object to each run of its own endpoints (heartbeat, deleted time, min/max/count per metric) so
that the app shows the same columns and LOST status as on a local store. Pure functions: no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..entities import (
    PARENT_RUN_ID,
    SOURCE_NAME,
    SOURCE_TYPE,
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    MetricSummary,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)
from .protocol import encode_double, parse_double, parse_int64, runyard_tag_key

JsonDict = dict[str, Any]
EXTENSION = "runyard"


def _int_or_none(value: Any, name: str) -> int | None:
    return None if value is None or value == "" else parse_int64(value, name)


def _tags(items: Any) -> dict[str, str]:
    return {runyard_tag_key(str(t["key"])): str(t.get("value", "")) for t in items or ()}


def experiment_from_json(payload: Mapping[str, Any]) -> Experiment:
    """An Experiment message as an Experiment (mlflow.* tags renamed runyard.*)."""
    return Experiment(
        experiment_id=str(payload["experiment_id"]),
        name=str(payload.get("name", "")),
        artifact_location=str(payload.get("artifact_location", "")),
        lifecycle_stage=str(payload.get("lifecycle_stage", "active")),
        creation_time=_int_or_none(payload.get("creation_time"), "creation_time"),
        last_update_time=_int_or_none(payload.get("last_update_time"), "last_update_time"),
        tags=_tags(payload.get("tags")),
    )


def metric_from_json(payload: Mapping[str, Any]) -> Metric:
    """A Metric message as a Metric."""
    return Metric(
        key=str(payload["key"]),
        value=parse_double(payload.get("value", "NaN"), "value"),
        timestamp=parse_int64(payload.get("timestamp", 0), "timestamp"),
        step=parse_int64(payload.get("step", 0), "step"),
    )


def inputs_from_json(payload: Mapping[str, Any]) -> RunInputs:
    """A RunInputs message as RunInputs."""
    datasets = []
    for item in payload.get("dataset_inputs") or ():
        ds = item.get("dataset") or {}
        datasets.append(
            DatasetInput(
                Dataset(
                    name=str(ds.get("name", "")),
                    digest=str(ds.get("digest", "")),
                    source_type=str(ds.get("source_type", "")),
                    source=str(ds.get("source", "")),
                    schema=ds.get("schema"),
                    profile=ds.get("profile"),
                ),
                [InputTag(str(t["key"]), str(t.get("value", ""))) for t in item.get("tags") or ()],
            )
        )
    models = [LoggedModelInput(str(m["model_id"])) for m in payload.get("model_inputs") or ()]
    return RunInputs(datasets, models)


def outputs_from_json(payload: Mapping[str, Any]) -> RunOutputs:
    """A RunOutputs message as RunOutputs."""
    return RunOutputs(
        [
            LoggedModelOutput(str(m["model_id"]), int(m.get("step", 0)))
            for m in payload.get("model_outputs") or ()
        ]
    )


def run_from_json(payload: Mapping[str, Any], clock_skew_ms: int = 0) -> Run:
    """A Run message as a Run; with runyard's extension, summaries and liveness are complete.

    clock_skew_ms (client clock minus server clock) moves the server's heartbeat times onto this
    machine's clock, so that LOST is judged as the server judges it.
    """
    info = payload.get("info") or {}
    data = payload.get("data") or {}
    extension = payload.get(EXTENSION) or {}
    tags = _tags(data.get("tags"))
    start_time = _int_or_none(info.get("start_time"), "start_time")
    summaries: dict[str, MetricSummary] = {}
    extra = {row[0]: row[1:] for row in extension.get("summaries") or ()}
    for item in data.get("metrics") or ():
        metric = metric_from_json(item)
        low, high, count = extra.get(metric.key, (metric.value, metric.value, 1))
        summaries[metric.key] = MetricSummary(
            metric.key,
            metric.value,
            metric.step,
            metric.timestamp,
            parse_double(low, "min"),
            parse_double(high, "max"),
            int(count),
        )
    heartbeat = _int_or_none(extension.get("heartbeat_time"), "heartbeat_time")
    if EXTENSION in payload:
        last_sign = heartbeat if heartbeat is not None else start_time
        heartbeat = None if last_sign is None else last_sign + clock_skew_ms
    run_info = RunInfo(
        run_id=str(info.get("run_id") or info.get("run_uuid")),
        run_name=str(info.get("run_name") or tags.get("runyard.runName", "")),
        experiment_id=str(info.get("experiment_id", "")),
        user_id=str(info.get("user_id", "")),
        status=str(info.get("status", "RUNNING")),
        start_time=start_time,
        end_time=_int_or_none(info.get("end_time"), "end_time"),
        lifecycle_stage=str(info.get("lifecycle_stage", "active")),
        artifact_uri=str(info.get("artifact_uri", "")),
        deleted_time=_int_or_none(extension.get("deleted_time"), "deleted_time"),
        source_type=extension.get("source_type") or tags.get(SOURCE_TYPE),
        source_name=extension.get("source_name") or tags.get(SOURCE_NAME),
        entry_point=extension.get("entry_point"),
        source_version=extension.get("source_version"),
        parent_run_id=extension.get("parent_run_id") or tags.get(PARENT_RUN_ID) or None,
        heartbeat_time=heartbeat,
        heartbeat_from_writes=bool(extension.get("heartbeat_from_writes", False)),
    )
    params = {str(p["key"]): str(p.get("value", "")) for p in data.get("params") or ()}
    outputs = outputs_from_json(payload.get("outputs") or {})
    return Run(
        info=run_info,
        data=RunData(
            params=params,
            metrics={k: s.latest_value for k, s in summaries.items()},
            tags=tags,
            metric_summaries=summaries,
        ),
        inputs=inputs_from_json(payload.get("inputs") or {}),
        outputs=outputs,
    )


def run_extension_json(run: Run) -> JsonDict:
    """runyard's `runyard` object of a run: what MLflow's Run message cannot carry."""
    info = run.info
    extension: JsonDict = {
        "heartbeat_from_writes": info.heartbeat_from_writes,
        "summaries": [
            [s.key, encode_double(s.min_value), encode_double(s.max_value), s.count]
            for s in run.data.metric_summaries.values()
        ],
    }
    for name in (
        "heartbeat_time",
        "deleted_time",
        "source_type",
        "source_name",
        "entry_point",
        "source_version",
        "parent_run_id",
    ):
        value = getattr(info, name)
        if value is not None:
            extension[name] = value
    return extension

"""Answers that MLflow clients compare: order_by ties, search_all_experiments, metric history order.

Each case asks a real MLflow store and the runyard store imported from it the same question.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import pytest
import runyard
from runyard import TrackingClient

mlflow = pytest.importorskip("mlflow")
from mlflow.entities import ViewType  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

NAN = float("nan")
# (start time, value of metric m / param p; None: the run lacks it). Equal values, NaN and missing
# groups each hold runs whose start times disagree with their run_id order.
RUNS = [
    (1000, 1.0),
    (5000, 1.0),
    (3000, 1.0),
    (2000, NAN),
    (6000, NAN),
    (4000, None),
    (7000, None),
    (8000, 2.0),
]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An MLflow SQLite store with tied runs, and a runyard store imported from it."""
    root = tmp_path_factory.mktemp("parity")
    previous = os.getcwd()
    os.chdir(root)
    try:
        uri = f"sqlite:///{root / 'mlflow.db'}"
        ml = MlflowClient(tracking_uri=uri)
        live = ml.create_experiment("live", artifact_location=str(root / "art" / "live"))
        old = ml.create_experiment("old", artifact_location=str(root / "art" / "old"))
        for start, value in RUNS:
            run_id = ml.create_run(live, start_time=start).info.run_id
            if value is not None:
                ml.log_metric(run_id, "m", value, timestamp=start, step=0)
                ml.log_param(run_id, "p", "nan" if math.isnan(value) else str(value))
        deleted = ml.create_run(live, start_time=9000).info.run_id
        ml.delete_run(deleted)
        old_active = ml.create_run(old, start_time=9500).info.run_id
        old_deleted = ml.create_run(old, start_time=9600).info.run_id
        ml.delete_run(old_deleted)
        ml.delete_experiment(old)
        history = ml.create_run(live, start_time=10).info.run_id
        # steps and timestamps disagree: MLflow answers in timestamp order
        for step, timestamp, value in [
            (0, 300, 0.1),
            (1, 100, 0.2),
            (2, 200, NAN),
            (2, 100, 0.4),
            (3, 50, 0.5),
        ]:
            ml.log_metric(history, "h", value, timestamp=timestamp, step=step)
        target = f"sqlite:///{root / 'runyard.db'}"
        runyard.import_mlflow(uri, target, artifact_root=str(root / "ry-art"))
        yield {
            "ml": ml,
            "ry": TrackingClient(target),
            "uri": uri,
            "target": target,
            "live": live,
            "history": history,
            "ids": {"deleted": deleted, "old_active": old_active, "old_deleted": old_deleted},
        }
    finally:
        os.chdir(previous)


ORDERS = [
    ["metrics.m"],
    ["metrics.m DESC"],
    ["params.p"],
    ["params.p DESC"],
    ["metrics.m", "params.p DESC"],
    ["attributes.status"],
    [],
]


@pytest.mark.parametrize("order_by", ORDERS, ids=[str(order) for order in ORDERS])
def test_order_by_breaks_ties_as_mlflow(stores: dict[str, Any], order_by: list[str]) -> None:
    ml: MlflowClient = stores["ml"]
    ry: TrackingClient = stores["ry"]
    want = [run.info.run_id for run in ml.search_runs([stores["live"]], order_by=order_by, max_results=100)]
    got = [run.info.run_id for run in ry.search_runs([stores["live"]], order_by=order_by, max_results=100)]
    assert got == want
    for size in (1, 3):  # max_results keeps the same runs as MLflow, page after page
        assert [
            r.info.run_id for r in ry.search_runs([stores["live"]], order_by=order_by, max_results=size)
        ] == (want[:size])


@pytest.mark.parametrize("view", ["ACTIVE_ONLY", "DELETED_ONLY", "ALL"])
def test_search_all_experiments_searches_active_experiments_only(stores: dict[str, Any], view: str) -> None:
    mlflow.set_tracking_uri(stores["uri"])
    try:
        want = mlflow.search_runs(
            search_all_experiments=True,
            run_view_type=ViewType.from_string(view.lower()),
            output_format="list",
        )
    finally:
        mlflow.set_tracking_uri(None)
    runyard.set_tracking_uri(stores["target"])
    got = runyard.search_runs(search_all_experiments=True, run_view_type=view)
    assert sorted(run.info.run_id for run in got) == sorted(run.info.run_id for run in want)
    found = {run.info.run_id for run in got}
    assert stores["ids"]["old_active"] not in found and stores["ids"]["old_deleted"] not in found
    assert (stores["ids"]["deleted"] in found) == (view != "ACTIVE_ONLY")


def test_metric_history_in_mlflow_order_and_charts_by_step(stores: dict[str, Any]) -> None:
    ml: MlflowClient = stores["ml"]
    ry: TrackingClient = stores["ry"]
    run_id = stores["history"]

    def points(history: list[Any]) -> list[tuple[int, int, float | None]]:
        return [(m.timestamp, m.step, None if math.isnan(m.value) else m.value) for m in history]

    want = points(ml.get_metric_history(run_id, "h"))
    assert points(ry.get_metric_history(run_id, "h")) == want
    assert [timestamp for timestamp, _, _ in want] == [50, 100, 100, 200, 300]
    chart = ry.get_metric_history_downsampled(run_id, "h", 100)
    assert list(chart.steps) == sorted(chart.steps)

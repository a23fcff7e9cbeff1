"""Round trip of the logging API on every backend."""

from __future__ import annotations

import math

import runyard


def test_log_and_read_back(tracking_uri: str) -> None:
    runyard.set_tracking_uri(tracking_uri)
    runyard.set_experiment("/team/smoke")
    with runyard.start_run(run_name="smoke") as run:
        runyard.log_params({"lr": 0.01})
        for step in range(100):
            runyard.log_metric("loss", 1 / (step + 1), step=step)
        runyard.log_metric("odd", float("nan"), step=0)
    got = runyard.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"lr": "0.01"}
    assert got.data.metrics["loss"] == 0.01
    assert math.isnan(got.data.metrics["odd"])
    summary = got.data.metric_summaries["loss"]
    assert (summary.min_value, summary.max_value, summary.count, summary.latest_step) == (0.01, 1.0, 100, 99)
    history = runyard.TrackingClient(tracking_uri).get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == list(range(100))

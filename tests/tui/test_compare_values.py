"""What the compare screen derives from runs: best values, differences, numeric/categorical axes, labels."""

from __future__ import annotations

import math

import pytest
from runyard import Run
from runyard.entities import MetricSummary, RunData, RunInfo
from runyard.tui.widgets.compare_values import (
    CompareData,
    best_indexes,
    default_metric,
    lower_is_better,
    middle_truncate,
    parse_number,
    quartiles,
    unique_labels,
    values_differ,
)
from runyard.tui.widgets.plots.parallel_plot import is_log_axis, normalise


def make_run(name: str, params: dict[str, str], metrics: dict[str, float], run_id: str = "") -> Run:
    """A Run entity with these params and latest metric values (min/max = value - 1 / value + 1)."""
    summaries = {
        key: MetricSummary(key, value, 10, 0, value - 1, value + 1, 11) for key, value in metrics.items()
    }
    info = RunInfo(run_id or name * 4, name, "e1", "alice", "FINISHED", 0, 1000, "active", "")
    return Run(info, RunData(params=params, metrics=dict(metrics), metric_summaries=summaries))


def test_loss_like_metrics_are_minimised_others_maximised() -> None:
    assert lower_is_better("val_loss") and lower_is_better("Test-RMSE") and lower_is_better("mae")
    assert lower_is_better("error_rate")
    assert not lower_is_better("accuracy") and not lower_is_better("f1")


def test_best_marks_every_tie_ignores_nan_and_missing_and_needs_two_distinct_values() -> None:
    assert best_indexes([0.3, 0.1, math.nan, None, 0.1], lower_better=True) == {1, 4}
    assert best_indexes([0.3, 0.1, math.nan], lower_better=False) == {0}
    assert best_indexes([0.5, 0.5, None], lower_better=True) == set()
    assert best_indexes([math.nan, 0.2], lower_better=True) == set()


def test_differences_treat_nan_as_equal_and_missing_as_different() -> None:
    assert not values_differ([math.nan, math.nan])
    assert values_differ(["0.1", None])
    assert not values_differ(["adam", "adam"])


def test_param_values_parse_as_numbers_only_when_they_are_finite_numbers() -> None:
    assert parse_number("1e-3") == 0.001 and parse_number(" 64 ") == 64.0
    for text in ("adam", "True", "nan", "inf", "", None):
        assert parse_number(text) is None


def test_axes_numeric_when_every_value_parses_else_categorical_in_natural_order() -> None:
    runs = [
        make_run("a", {"lr": "0.1", "opt": "sgd", "bs": "64"}, {"loss": 0.5}),
        make_run("b", {"lr": "0.01", "opt": "adam", "bs": "128"}, {"loss": math.nan}),
        make_run("c", {"lr": "0.001", "opt": "10"}, {}),
    ]
    data = CompareData(runs, {"e1": "/exp"})
    lr = data.axis("params.lr")
    assert lr.kind == "numeric" and lr.positions == [0.1, 0.01, 0.001]
    opt = data.axis("params.opt")
    assert opt.kind == "categorical" and opt.categories == ["10", "adam", "sgd"]
    assert opt.positions == [2.0, 1.0, 0.0]
    assert data.axis("params.bs").positions == [64.0, 128.0, None]
    loss = data.axis("metrics.loss")
    assert loss.kind == "numeric" and loss.positions == [0.5, None, None]  # NaN and missing are not drawn
    assert data.axis("metrics.nothing").kind == "empty"
    assert data.metric(data.runs[0], "loss", "min") == -0.5


def test_wide_positive_ranges_get_a_log_axis_in_parallel_coordinates() -> None:
    runs = [make_run(n, {"lr": lr}, {}) for n, lr in (("a", "0.1"), ("b", "0.001"), ("c", "0.0001"))]
    axis = CompareData(runs, {}).axis("params.lr")
    assert is_log_axis(axis)
    assert normalise(axis) == [1.0, pytest.approx(1 / 3), 0.0]


def test_labels_are_unique_and_truncated_in_the_middle() -> None:
    runs = [
        make_run("trial", {}, {}, "aaaaaa11"),
        make_run("trial", {}, {}, "bbbbbb22"),
        make_run("x", {}, {}),
    ]
    assert unique_labels(runs) == ["trial (aaaaaa)", "trial (bbbbbb)", "x"]
    short = middle_truncate("resnet50-lr0.1-wd1e-4", 12)
    assert len(short) == 12 and short.startswith("resnet") and short.endswith("1e-4") and "…" in short


def test_default_metric_prefers_a_validation_loss() -> None:
    assert default_metric(["lr", "train_loss", "val_accuracy", "val_loss"]) == "val_loss"
    assert default_metric(["accuracy", "lr"]) == "accuracy"
    assert default_metric(["lr"]) == "lr"
    assert default_metric([]) is None


def test_quartiles_interpolate_linearly() -> None:
    assert quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert quartiles([1.0, 2.0]) == (1.0, 1.25, 1.5, 1.75, 2.0)
    assert quartiles([7.0]) == (7.0, 7.0, 7.0, 7.0, 7.0)


def test_scatter_labels_every_point_up_to_25_then_only_the_extremes() -> None:
    from runyard.tui.widgets.plots.scatter_plot import Point, labelled_points

    few = [Point(i, f"run-{i}", float(i), float(i % 7)) for i in range(25)]
    assert labelled_points(few) == few
    many = [Point(i, f"run-{i}", float(i), float((i * 37) % 54)) for i in range(54)]
    ys = sorted(p.y for p in labelled_points(many))
    assert ys == [0.0, 1.0, 2.0, 51.0, 52.0, 53.0]

"""Tests of the search language: parse trees, error messages with carets, order_by, evaluate, sort."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runyard.entities import MetricSummary, Run, RunData, RunInfo
from runyard.exceptions import InvalidQuery
from runyard.search.evaluate import evaluate, sort_runs, sql_like_pattern
from runyard.search.parser import (
    NUMERIC_ATTRIBUTES,
    STRING_ATTRIBUTES,
    And,
    Comparison,
    Node,
    Not,
    Or,
    OrderKey,
    parse_filter,
    parse_order_by,
)

NOW_MS = 10_000
# Text a database can hold: no NUL (the parser refuses it, as the logging API does), no surrogates.
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"))


def M(key: str, op: str, value: Any, aggregate: str = "latest") -> Comparison:
    return Comparison("metric", key, op, value, aggregate)


def P(key: str, op: str, value: Any) -> Comparison:
    return Comparison("param", key, op, value)


def T(key: str, op: str, value: Any) -> Comparison:
    return Comparison("tag", key, op, value)


def A(key: str, op: str, value: Any) -> Comparison:
    return Comparison("attribute", key, op, value)


a_gt_1, b_gt_2, c_gt_3 = M("a", ">", 1.0), M("b", ">", 2.0), M("c", ">", 3.0)

VALID_FILTERS: list[tuple[str, Node]] = [
    # MLflow documentation examples
    ("metrics.r2 > 0.3", M("r2", ">", 0.3)),
    (
        "params.elasticNetParam = 0.5 AND metrics.avg_areaUnderROC > 0.3",
        And((P("elasticNetParam", "=", "0.5"), M("avg_areaUnderROC", ">", 0.3))),
    ),
    ('tags.estimator_name="RandomForestRegressor"', T("estimator_name", "=", "RandomForestRegressor")),
    (
        "MIN(metrics.rmse) <= 1 AND LATEST(metrics.memUsage) = 0",
        And((M("rmse", "<=", 1.0, "min"), M("memUsage", "=", 0.0, "latest"))),
    ),
    ("attributes.status = 'FAILED'", A("status", "=", "FAILED")),
    ('tags.`my custom tag` = "my value"', T("my custom tag", "=", "my value")),
    ("tags.size = 5", T("size", "=", "5")),
    ("params.lr = 1e-3", P("lr", "=", "1e-3")),
    # dashes and slashes in unquoted keys after the entity prefix (ML key names)
    ("metrics.val-loss > 1", M("val-loss", ">", 1.0)),
    ("metrics.train/loss < 0.5", M("train/loss", "<", 0.5)),
    ("MAX(metrics.eval/top-1) >= 0.9", M("eval/top-1", ">=", 0.9, "max")),
    ("tags.team/sub-team = 'a'", T("team/sub-team", "=", "a")),
    ("metrics.a-1>-1", M("a-1", ">", -1.0)),
    ("metrics.`val-loss` > 1", M("val-loss", ">", 1.0)),
    ("run_name LIKE 'sweep-%'", A("run_name", "LIKE", "sweep-%")),
    ("status = 'FAILED'", A("status", "=", "FAILED")),
    # precedence, parentheses, flattening
    ("metrics.a > 1 OR metrics.b > 2 AND NOT metrics.c > 3", Or((a_gt_1, And((b_gt_2, Not(c_gt_3)))))),
    ("(metrics.a > 1 OR metrics.b > 2) AND metrics.c > 3", And((Or((a_gt_1, b_gt_2)), c_gt_3))),
    ("metrics.a > 1 AND (metrics.b > 2 AND metrics.c > 3)", And((a_gt_1, b_gt_2, c_gt_3))),
    ("(metrics.a > 1 AND metrics.b > 2) AND metrics.c > 3", And((a_gt_1, b_gt_2, c_gt_3))),
    ("metrics.a > 1 OR (metrics.b > 2 OR metrics.c > 3)", Or((a_gt_1, b_gt_2, c_gt_3))),
    ("metrics.a > 1 OR metrics.b > 2 OR metrics.c > 3", Or((a_gt_1, b_gt_2, c_gt_3))),
    ("NOT metrics.a > 1 AND metrics.b > 2", And((Not(a_gt_1), b_gt_2))),
    ("NOT (metrics.a > 1 AND metrics.b > 2)", Not(And((a_gt_1, b_gt_2)))),
    ("NOT NOT metrics.a > 1", Not(Not(a_gt_1))),
    ("(((metrics.a > 1)))", a_gt_1),
    ("metrics.a>1 and metrics.b>2 or not metrics.c>3", Or((And((a_gt_1, b_gt_2)), Not(c_gt_3)))),
    # keys and entity prefixes
    ("tags.runyard.parentRunId = 'abc'", T("runyard.parentRunId", "=", "abc")),
    ('metrics."f1 score" > 0.5', M("f1 score", ">", 0.5)),
    ("`metrics`.acc >= 0.9", M("acc", ">=", 0.9)),
    ("`tags`.`a b` = 'x'", T("a b", "=", "x")),
    ("tags.`a``b` = 'x'", T("a`b", "=", "x")),
    ("metric.acc < 1", M("acc", "<", 1.0)),
    ("Metrics.acc < 1", M("acc", "<", 1.0)),
    ("metrics.1st_epoch_loss < 1", M("1st_epoch_loss", "<", 1.0)),
    ("metrics.précision > 0.5", M("précision", ">", 0.5)),
    ("param.x = 'a'", P("x", "=", "a")),
    ("parameter.x = 'a'", P("x", "=", "a")),
    ("parameters.x = 'a'", P("x", "=", "a")),
    ("tag.t = 'v'", T("t", "=", "v")),
    ("attribute.run_id = 'abc'", A("run_id", "=", "abc")),
    ("attr.user_id = 'bob'", A("user_id", "=", "bob")),
    ("run.status = 'RUNNING'", A("status", "=", "RUNNING")),
    ("STATUS = 'RUNNING'", A("status", "=", "RUNNING")),
    ("`run name` = 'x'", A("run_name", "=", "x")),
    ("\"run name\" = 'x'", A("run_name", "=", "x")),
    ("attributes.`run name` LIKE 'x%'", A("run_name", "LIKE", "x%")),
    ("created > 1000", A("start_time", ">", 1000)),
    ("duration >= 60000", A("duration", ">=", 60000)),
    ("end_time <= 1700000000123", A("end_time", "<=", 1700000000123)),
    ("experiment_id = '0'", A("experiment_id", "=", "0")),
    (
        "source_type = 'NOTEBOOK' AND lifecycle_stage = 'active'",
        And((A("source_type", "=", "NOTEBOOK"), A("lifecycle_stage", "=", "active"))),
    ),
    (
        "artifact_uri LIKE '/data/%' AND source_name ILIKE '%train.py'",
        And((A("artifact_uri", "LIKE", "/data/%"), A("source_name", "ILIKE", "%train.py"))),
    ),
    ("run_name = 5", A("run_name", "=", "5")),
    # comparators
    ("metrics.a <> 1", M("a", "!=", 1.0)),
    ("metrics.a != -2", M("a", "!=", -2.0)),
    ("metrics.a = 1e10", M("a", "=", 1e10)),
    ("metrics.a = .5", M("a", "=", 0.5)),
    ("metrics.a = 5.", M("a", "=", 5.0)),
    ("metrics.a > -inf", M("a", ">", -math.inf)),
    ("metrics.a < Infinity", M("a", "<", math.inf)),
    ("params.x = -2", P("x", "=", "-2")),
    ("params.x = +2.50", P("x", "=", "+2.50")),
    ("params.x = inf", P("x", "=", "inf")),
    ("metrics.loss IS NULL", M("loss", "IS NULL", None)),
    ("MAX(metrics.loss) is not null", M("loss", "IS NOT NULL", None, "max")),
    ("params.opt IS NOT NULL", P("opt", "IS NOT NULL", None)),
    ("attributes.end_time IS NULL", A("end_time", "IS NULL", None)),
    ("parent_run_id IS NOT NULL", A("parent_run_id", "IS NOT NULL", None)),
    ("source_version IS NULL", A("source_version", "IS NULL", None)),
    ("params.opt IN ('adam', 'sgd')", P("opt", "IN", ("adam", "sgd"))),
    ("tags.size NOT IN (1, 2.5, '3')", T("size", "NOT IN", ("1", "2.5", "3"))),
    ("status in ('FAILED', \"KILLED\")", A("status", "IN", ("FAILED", "KILLED"))),
    ("run_id not in ('a1')", A("run_id", "NOT IN", ("a1",))),
    ("params.x ILIKE '%Adam%'", P("x", "ILIKE", "%Adam%")),
    ("MAX(metrics.acc) > 0.9 Or params.x like 'a%'", Or((M("acc", ">", 0.9, "max"), P("x", "LIKE", "a%")))),
    ("min ( metrics.loss ) < 0.1", M("loss", "<", 0.1, "min")),
    # values
    ("tags.note = 'it''s'", T("note", "=", "it's")),
    ("params.x = ''", P("x", "=", "")),
    ("params.sql = '; DROP TABLE runs; --'", P("sql", "=", "; DROP TABLE runs; --")),
    ("params.q = 'a AND b OR (c)'", P("q", "=", "a AND b OR (c)")),
    ("tags.t = \"double 'quoted'\"", T("t", "=", "double 'quoted'")),
    ("params.path LIKE 'C:\\tmp\\%'", P("path", "LIKE", "C:\\tmp\\%")),
    ("tags.x = 'héllo wörld 🚀'", T("x", "=", "héllo wörld 🚀")),
    ("params.x='a'AND params.y='b'", And((P("x", "=", "a"), P("y", "=", "b")))),
    ("  metrics.a > 1\n\tAND metrics.b > 2  ", And((a_gt_1, b_gt_2))),
]


@pytest.mark.parametrize(("filter_string", "expected"), VALID_FILTERS, ids=[f for f, _ in VALID_FILTERS])
def test_valid_filter_parses_to_tree(filter_string: str, expected: Node) -> None:
    assert parse_filter(filter_string) == expected


def test_valid_table_is_big_enough() -> None:
    assert len(VALID_FILTERS) >= 50


@pytest.mark.parametrize("blank", [None, "", "   ", "\n\t"])
def test_blank_filter_is_none(blank: str | None) -> None:
    assert parse_filter(blank) is None


def test_numeric_values_have_numeric_types() -> None:
    metric = parse_filter("metrics.a = 3")
    attribute = parse_filter("start_time = 1700000000000000001")
    assert isinstance(metric, Comparison) and type(metric.value) is float
    assert isinstance(attribute, Comparison) and attribute.value == 1700000000000000001  # exact int
    nan = parse_filter("metrics.a = NaN")
    assert isinstance(nan, Comparison) and isinstance(nan.value, float) and math.isnan(nan.value)


def test_clause_positions() -> None:
    tree = parse_filter("metrics.a > 1 AND (  NOT params.b = 'x' OR MIN(metrics.c) < 2)")
    assert isinstance(tree, And)
    first, rest = tree.items
    assert isinstance(first, Comparison) and first.position == 0
    assert isinstance(rest, Or)
    negated, aggregated = rest.items
    assert isinstance(negated, Not) and isinstance(negated.item, Comparison)
    assert negated.item.position == 25
    assert isinstance(aggregated, Comparison) and aggregated.position == 43


def test_position_is_not_part_of_equality() -> None:
    assert parse_filter("metrics.a > 1") == parse_filter("   metrics.a > 1")


INVALID_FILTERS: list[tuple[str, str, int]] = [
    (
        "params.x > 3",
        "Invalid comparator '>' for params: params support = != LIKE ILIKE IN NOT IN IS NULL",
        9,
    ),
    (
        "metrics.a LIKE 'x'",
        "Invalid comparator 'LIKE' for metrics: metrics support = != > >= < <= IS NULL",
        10,
    ),
    ("metrics.a IN (1)", "Invalid comparator 'IN' for metrics", 10),
    (
        "status > 'a'",
        "Invalid comparator '>' for attribute 'status': status supports = != LIKE ILIKE IN NOT IN",
        7,
    ),
    ("start_time LIKE 'x'", "Invalid comparator 'LIKE' for attribute 'start_time'", 11),
    ("start_time IS NULL", "Invalid comparator 'IS NULL' for attribute 'start_time'", 11),
    ("experiment_id IN ('1')", "Invalid comparator 'IN' for attribute 'experiment_id'", 14),
    ("tags.x NOT LIKE 'a'", "Invalid comparator 'NOT LIKE': write NOT (tags.x LIKE ...)", 7),
    ("metrics.a == 1", "Invalid comparator '=='", 10),
    ("params.x = 'abc", "Unbalanced quote: missing closing '", 11),
    ('tags.t = "abc', 'Unbalanced quote: missing closing "', 9),
    ("tags.`unclosed = 1", "Unbalanced quote: missing closing `", 5),
    ("(metrics.a > 1", "Unbalanced parenthesis: '(' is never closed", 0),
    ("params.x = 'a' AND (params.y = 'b'", "Unbalanced parenthesis: '(' is never closed", 19),
    ("metrics.a > 1)", "Unbalanced parenthesis: unexpected ')'", 13),
    ("params.x IN ('a', 'b'", "Unbalanced parenthesis: '(' is never closed", 12),
    ("metrics.a > 1 foo", "Unexpected 'foo': join conditions with AND or OR", 14),
    ("metrics.a > 1 metrics.b > 2", "Unexpected 'metrics.b'", 14),
    ("(metrics.a > 1 foo)", "Unexpected 'foo'", 15),
    ("metrics.a > 1 ; DROP TABLE runs", "Unexpected character ';'", 14),
    ("metrics.a >", "Missing value after '>'", 11),
    ("metrics.a > )", "Missing value after '>', found ')'", 12),
    ("params.x = AND params.y = 'b'", "Missing value after '=', found 'AND'", 11),
    ("metrics.a 1", "Missing comparator after 'metrics.a', found '1'", 10),
    ("metrics.a", "Missing comparator after 'metrics.a'", 9),
    ("MIN(metrics.a)", "Missing comparator after 'MIN(metrics.a)'", 14),
    ("metrics. > 1", "Empty key after 'metrics.'", 8),
    ("metrics.`` > 1", "Empty key", 8),
    ("metrics.acc. > 1", "Key cannot end with '.'", 11),
    ("foo.bar = 1", "Invalid entity type 'foo'. Valid: metrics, params, tags, attributes", 0),
    ("foo = 1", "Invalid attribute key 'foo'. Valid: run_id, run_name, status", 0),
    ("acc > 0.9", "Invalid attribute key 'acc'", 0),
    ("attributes.foo = 'x'", "Invalid attribute key 'foo'", 11),
    ("metrics.a > 1 AND", "Expected a condition after AND", 17),
    ("metrics.a > 1 and ", "Expected a condition after and", 18),
    ("metrics.a > 1 AND NOT", "Expected a condition after NOT", 21),
    ("AND metrics.a > 1", "Expected a key such as metrics.acc, found 'AND'", 0),
    ("metrics.a > 1 AND OR metrics.b > 1", "Expected a key such as metrics.acc after AND, found 'OR'", 18),
    ("()", "Expected a key such as metrics.acc after '(', found ')'", 1),
    ("1 = metrics.a", "Expected a key such as metrics.acc, found '1'", 0),
    ("metrics.a = 'x'", "Expected numeric value type for metric 'a': metrics compare with numbers", 12),
    ("metrics.a = high", "Expected numeric value type for metric 'a'", 12),
    ("start_time > 'yesterday'", "Expected numeric value type for attribute 'start_time'", 13),
    ("params.'lr' = 1", "Single-quoted key: quote keys with backticks or double quotes", 7),
    ("'lr' = 1", "Single-quoted key 'lr': quote keys with backticks or double quotes", 0),
    ("MIN(params.x) = 'a'", "MIN() applies to metrics only", 4),
    ("MIN(metrics.a > 1", "Expected ')' to close MIN(", 14),
    ("params.x IN ()", "Empty list after IN: give at least one value", 13),
    ("params.x IN ('a',)", "Expected a quoted value in the IN list, found ')'", 17),
    ("params.x IN ('a' 'b')", "Expected ',' or ')' in the IN list, found ''b''", 17),
    ("params.x NOT IN 'a'", "Expected '(' after NOT IN", 16),
    ("params.x = abc", "Expected a quoted value after '=', e.g. 'abc'", 11),
    ("params.x IS 'a'", "Expected NULL after IS", 12),
    ("params.x IS NOT 1", "Expected NULL after IS NOT", 16),
    ("params.x NOT = 'a'", "Expected IN after NOT", 13),
    (
        "metrics.val+loss > 1",
        "Unexpected '+' in key 'metrics.val+loss': quote keys with punctuation in backticks",
        11,
    ),
    ("metrics.train:loss > 1", "Unexpected ':' in key 'metrics.train:loss'", 13),
    ("val-loss > 1", "Unexpected '-' in key 'val-loss'", 3),
    ("tags.`a`.b = 'x'", "Unexpected '.' after a quoted key", 8),
    ("metrics.a > 1.2.3", "Invalid number '1.2.3'", 12),
    ("params.x = 5abc", "Invalid number '5abc'", 11),
    ("metrics.a > 1 !", "Unexpected character '!'", 14),
    ("metrics.a >\n 1 foo", "Unexpected 'foo'", 15),
]


@pytest.mark.parametrize(
    ("filter_string", "fragment", "column"), INVALID_FILTERS, ids=[f for f, _, _ in INVALID_FILTERS]
)
def test_invalid_filter_explains_and_points(filter_string: str, fragment: str, column: int) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_filter(filter_string)
    error = caught.value
    explanation, shown, caret = str(error).split("\n")
    assert fragment in explanation
    assert error.position == column
    assert error.query == filter_string
    assert caret == " " * column + "^"
    assert len(shown) == len(filter_string) and "\n" not in shown
    assert len(explanation) <= 220  # one line under a search box


def test_invalid_table_is_big_enough() -> None:
    assert len(INVALID_FILTERS) >= 25


def test_error_message_is_exact() -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_filter("params.x > 3")
    assert str(caught.value) == (
        "Invalid comparator '>' for params: params support = != LIKE ILIKE IN NOT IN IS NULL\n"
        "params.x > 3\n"
        "         ^"
    )
    assert isinstance(caught.value, ValueError)


def test_attribute_error_lists_every_valid_attribute() -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_filter("bogus = 'x'")
    listed = str(caught.value).split("\n")[0].split("Valid: ")[1].split(", ")
    assert set(listed) == NUMERIC_ATTRIBUTES | STRING_ATTRIBUTES


# ----------------------------------------------------------------------------- order_by

VALID_ORDER_BY: list[tuple[list[str] | None, list[OrderKey]]] = [
    (None, []),
    ([], []),
    (["metrics.acc"], [OrderKey("metric", "acc", True, "latest")]),
    (["metrics.acc DESC"], [OrderKey("metric", "acc", False, "latest")]),
    (["MIN(metrics.loss) DESC"], [OrderKey("metric", "loss", False, "min")]),
    (["max(metrics.loss) asc"], [OrderKey("metric", "loss", True, "max")]),
    (["params.lr asc"], [OrderKey("param", "lr", True)]),
    (["tags.`my tag` Desc"], [OrderKey("tag", "my tag", False)]),
    (['metrics."f1 score"'], [OrderKey("metric", "f1 score", True, "latest")]),
    (["start_time DESC"], [OrderKey("attribute", "start_time", False)]),
    (["attributes.created"], [OrderKey("attribute", "start_time", True)]),
    (["`run name`"], [OrderKey("attribute", "run_name", True)]),
    (["tags.runyard.parentRunId"], [OrderKey("tag", "runyard.parentRunId", True)]),
    (
        ["params.group", "metrics.acc DESC", "run_id"],
        [
            OrderKey("param", "group", True),
            OrderKey("metric", "acc", False, "latest"),
            OrderKey("attribute", "run_id", True),
        ],
    ),
]


@pytest.mark.parametrize(("order_by", "expected"), VALID_ORDER_BY, ids=[str(o) for o, _ in VALID_ORDER_BY])
def test_valid_order_by(order_by: list[str] | None, expected: list[OrderKey]) -> None:
    assert parse_order_by(order_by) == expected


INVALID_ORDER_BY: list[tuple[list[str], str, int]] = [
    (
        ["metrics.acc DOWN"],
        "Invalid order_by clause 'metrics.acc DOWN': expected ASC or DESC, found 'DOWN'",
        12,
    ),
    (["metrics.acc DESC extra"], "Invalid order_by clause 'metrics.acc DESC extra': unexpected 'extra'", 17),
    (["metrics.acc > 1"], "Invalid order_by clause 'metrics.acc > 1': expected ASC or DESC, found '>'", 12),
    ([""], "Invalid order_by clause ''", 0),
    (["foo"], "Invalid ordering key 'foo'. Valid: run_id", 0),
    (["attributes.bogus DESC"], "Invalid ordering key 'bogus'", 11),
    (["bad.key"], "Invalid entity type 'bad'", 0),
    (["MAX(params.x)"], "MAX() applies to metrics only", 4),
    (["tags.`x DESC"], "Unbalanced quote", 5),
    (["metrics.a", "metrics.b SIDEWAYS"], "Invalid order_by clause 'metrics.b SIDEWAYS'", 10),
]


@pytest.mark.parametrize(
    ("order_by", "fragment", "column"), INVALID_ORDER_BY, ids=[str(o) for o, _, _ in INVALID_ORDER_BY]
)
def test_invalid_order_by(order_by: list[str], fragment: str, column: int) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_order_by(order_by)
    explanation, shown, caret = str(caught.value).split("\n")
    assert fragment in explanation
    assert caught.value.position == column
    assert shown == order_by[-1] and caught.value.query == order_by[-1]
    assert caret == " " * column + "^"


# ----------------------------------------------------------------------------- evaluate


def summary(key: str, latest: float, low: float | None = None, high: float | None = None) -> MetricSummary:
    low = latest if low is None else low
    high = latest if high is None else high
    return MetricSummary(key, latest, 0, 0, low, high, 1)


def make_run(
    run_id: str = "r1",
    *,
    metrics: dict[str, MetricSummary] | None = None,
    plain_metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    status: str = "FINISHED",
    start_time: int | None = 1_000,
    end_time: int | None = 5_000,
    run_name: str = "run",
    parent_run_id: str | None = None,
) -> Run:
    info = RunInfo(
        run_id=run_id,
        run_name=run_name,
        experiment_id="0",
        user_id="alice",
        status=status,
        start_time=start_time,
        end_time=end_time,
        lifecycle_stage="active",
        artifact_uri=f"/tmp/{run_id}",
        parent_run_id=parent_run_id,
    )
    data = RunData(
        params=params or {},
        metrics=plain_metrics or {m.key: m.latest_value for m in (metrics or {}).values()},
        tags=tags or {},
        metric_summaries=metrics or {},
    )
    return Run(info, data)


FINISHED_RUN = make_run(
    "run_a",
    metrics={
        "acc": summary("acc", 0.9, 0.5, 0.95),
        "loss": summary("loss", math.nan),
        "neg": summary("neg", -math.inf),
    },
    params={"opt": "adam", "lr": "0.01"},
    tags={
        "note": "Hello World",
        "pct": "100%",
        "under": "a_b",
        "axb": "axb",
        "dot": "a.b",
        "sql": "'; DROP TABLE runs; --",
        "accent": "É",
        "street": "Straße",
        "kelvin": "\u212a",
        "lines": "line1\nline2",
        "backslash": "C:\\tmp",
    },
    run_name="sweep-1",
)
RUNNING_RUN = make_run(
    "run_b", params={"opt": "SGD"}, status="RUNNING", start_time=2_000, end_time=None, parent_run_id="run_a"
)
PLAIN_RUN = make_run("run_c", plain_metrics={"acc": 0.7})

EVALUATIONS: list[tuple[str, Run, bool]] = [
    ("metrics.acc > 0.8", FINISHED_RUN, True),
    ("metrics.acc > 0.8", RUNNING_RUN, False),
    ("metrics.acc != 0.5", RUNNING_RUN, False),  # missing never matches
    ("NOT metrics.acc > 0.8", RUNNING_RUN, True),  # plain complement
    ("NOT metrics.acc > 0.8", FINISHED_RUN, False),
    ("metrics.acc IS NULL", RUNNING_RUN, True),
    ("metrics.acc IS NULL", FINISHED_RUN, False),
    ("metrics.acc IS NOT NULL", FINISHED_RUN, True),
    ("MIN(metrics.acc) < 0.6", FINISHED_RUN, True),
    ("MAX(metrics.acc) >= 0.95", FINISHED_RUN, True),
    ("MAX(metrics.acc) > 0.95", FINISHED_RUN, False),
    ("LATEST(metrics.acc) = 0.9", FINISHED_RUN, True),
    ("metrics.acc = 0.7", PLAIN_RUN, True),  # falls back to data.metrics without summaries
    ("MIN(metrics.acc) = 0.7", PLAIN_RUN, False),
    ("MIN(metrics.acc) IS NULL", PLAIN_RUN, True),
    ("metrics.loss = nan", FINISHED_RUN, False),
    ("metrics.loss != nan", FINISHED_RUN, True),
    ("metrics.loss != 0", FINISHED_RUN, True),
    ("metrics.loss > 0", FINISHED_RUN, False),
    ("metrics.loss <= 0", FINISHED_RUN, False),
    ("metrics.loss IS NOT NULL", FINISHED_RUN, True),
    ("NOT metrics.loss > 0", FINISHED_RUN, True),
    ("metrics.neg = -inf", FINISHED_RUN, True),
    ("metrics.neg < -1e308", FINISHED_RUN, True),
    ("params.opt = 'adam'", FINISHED_RUN, True),
    ("params.opt = 'Adam'", FINISHED_RUN, False),
    ("params.opt != 'adam'", RUNNING_RUN, True),
    ("params.missing != 'x'", FINISHED_RUN, False),
    ("params.missing NOT IN ('x')", FINISHED_RUN, False),
    ("params.missing IS NULL", FINISHED_RUN, True),
    ("params.opt IN ('adam', 'sgd')", FINISHED_RUN, True),
    ("params.opt IN ('adam', 'sgd')", RUNNING_RUN, False),  # IN is case-sensitive
    ("params.opt NOT IN ('adam')", RUNNING_RUN, True),
    ("params.lr = 0.01", FINISHED_RUN, True),  # unquoted number compares as typed
    ("params.lr = 0.010", FINISHED_RUN, False),
    ("params.opt LIKE 'ADAM'", FINISHED_RUN, False),
    ("params.opt ILIKE 'ADAM'", FINISHED_RUN, True),
    ("params.opt LIKE 'ad_m'", FINISHED_RUN, True),
    ("params.opt LIKE 'ad%'", FINISHED_RUN, True),
    ("params.opt LIKE 'd%'", FINISHED_RUN, False),  # anchored at the start
    ("params.opt LIKE '%da'", FINISHED_RUN, False),  # anchored at the end
    ("params.opt LIKE '%'", FINISHED_RUN, True),
    ("params.opt LIKE '____'", FINISHED_RUN, True),
    ("params.opt LIKE '___'", FINISHED_RUN, False),
    ("tags.note LIKE 'Hello%'", FINISHED_RUN, True),
    ("tags.note LIKE 'hello%'", FINISHED_RUN, False),
    ("tags.note ILIKE 'hello world'", FINISHED_RUN, True),
    ("tags.pct LIKE '100\\%'", FINISHED_RUN, True),
    ("tags.pct LIKE '100\\_'", FINISHED_RUN, False),
    ("tags.under LIKE 'a\\_b'", FINISHED_RUN, True),
    ("tags.axb LIKE 'a\\_b'", FINISHED_RUN, False),
    ("tags.axb LIKE 'a_b'", FINISHED_RUN, True),
    ("tags.dot LIKE 'a.b'", FINISHED_RUN, True),
    ("tags.axb LIKE 'a.b'", FINISHED_RUN, False),  # regex characters are literal
    ("tags.backslash LIKE 'C:\\tmp'", FINISHED_RUN, True),  # other backslashes are themselves
    ("tags.lines LIKE 'line1%'", FINISHED_RUN, True),  # % spans newlines
    ("tags.accent ILIKE 'é'", FINISHED_RUN, False),  # ILIKE folds ASCII only
    ("tags.street ILIKE 'STRASSE'", FINISHED_RUN, False),
    ("tags.kelvin ILIKE 'k'", FINISHED_RUN, False),
    ("tags.sql = '''; DROP TABLE runs; --'", FINISHED_RUN, True),
    ("status IN ('FINISHED', 'FAILED')", FINISHED_RUN, True),
    ("status IN ('FINISHED', 'FAILED')", RUNNING_RUN, False),
    ("run_name LIKE 'sweep-%'", FINISHED_RUN, True),
    ("run_name LIKE 'sweep-%'", RUNNING_RUN, False),
    ("duration = 4000", FINISHED_RUN, True),
    ("duration = 8000", RUNNING_RUN, True),  # running: now_ms - start_time
    ("created >= 2000", RUNNING_RUN, True),
    ("created >= 2000", FINISHED_RUN, False),
    ("end_time IS NULL", RUNNING_RUN, True),
    ("end_time > 0", RUNNING_RUN, False),
    ("parent_run_id = 'run_a'", RUNNING_RUN, True),
    ("parent_run_id != 'x'", FINISHED_RUN, False),
    ("parent_run_id IS NULL", FINISHED_RUN, True),
    ("metrics.acc > 0.8 AND params.opt = 'adam'", FINISHED_RUN, True),
    ("metrics.acc > 0.8 AND params.opt = 'sgd'", FINISHED_RUN, False),
    ("metrics.acc > 0.99 OR params.opt = 'SGD'", RUNNING_RUN, True),
    ("NOT (metrics.acc > 0.99 OR params.opt = 'SGD')", RUNNING_RUN, False),
]


@pytest.mark.parametrize(
    ("filter_string", "run", "expected"),
    EVALUATIONS,
    ids=[f"{f} @ {r.info.run_id}" for f, r, _ in EVALUATIONS],
)
def test_evaluate(filter_string: str, run: Run, expected: bool) -> None:
    assert evaluate(parse_filter(filter_string), run, NOW_MS) is expected


def test_no_filter_matches_everything() -> None:
    assert evaluate(None, RUNNING_RUN, NOW_MS) is True


@pytest.mark.parametrize(
    ("pattern", "sql"),
    [("a%", "a%"), ("100\\%", "100\\%"), ("a\\_b", "a\\_b"), ("a\\b", "a\\\\b"), ("50%_", "50%_"), ("", "")],
)
def test_sql_like_pattern_escapes_with_backslash(pattern: str, sql: str) -> None:
    assert sql_like_pattern(pattern) == sql


# ----------------------------------------------------------------------------- sort_runs


def metric_run(run_id: str, value: float | None, *, start_time: int | None = 1_000, group: str = "g") -> Run:
    metrics = (
        {} if value is None else {"m": summary("m", value, value - 1 if math.isfinite(value) else value)}
    )
    return make_run(run_id, metrics=metrics, params={"group": group}, start_time=start_time)


def ids(runs: list[Run]) -> list[str]:
    return [run.info.run_id for run in runs]


SORTABLE = [
    metric_run("r3", None),
    metric_run("r2", math.nan),
    metric_run("r6", 1.0),
    metric_run("r5", math.inf),
    metric_run("r1", 1.0),
    metric_run("r4", -math.inf),
]


def test_sort_ascending_puts_nan_then_missing_last() -> None:
    order = parse_order_by(["metrics.m"])
    assert ids(sort_runs(SORTABLE, order, NOW_MS)) == ["r4", "r1", "r6", "r5", "r2", "r3"]


def test_sort_descending_still_puts_nan_then_missing_last() -> None:
    order = parse_order_by(["metrics.m DESC"])
    assert ids(sort_runs(SORTABLE, order, NOW_MS)) == ["r5", "r1", "r6", "r4", "r2", "r3"]


def test_sort_by_aggregate_uses_that_aggregate() -> None:
    runs = [
        make_run("x", metrics={"m": summary("m", 5.0, 0.0, 9.0)}),
        make_run("y", metrics={"m": summary("m", 1.0, 1.0, 1.0)}),
    ]
    assert ids(sort_runs(runs, parse_order_by(["MIN(metrics.m)"]), NOW_MS)) == ["x", "y"]
    assert ids(sort_runs(runs, parse_order_by(["metrics.m"]), NOW_MS)) == ["y", "x"]


def test_default_order_is_newest_first_then_run_id() -> None:
    runs = [
        metric_run("b", 0, start_time=100),
        metric_run("c", 0, start_time=None),
        metric_run("a", 0, start_time=100),
        metric_run("d", 0, start_time=300),
    ]
    assert ids(sort_runs(runs, [], NOW_MS)) == ["d", "a", "b", "c"]


def test_multi_key_sort_and_string_order() -> None:
    runs = [
        metric_run("r1", 1.0, group="9"),
        metric_run("r2", 2.0, group="10"),
        metric_run("r3", 3.0, group="9"),
        metric_run("r4", 0.0, group="é"),
        metric_run("r5", 0.0, group="Z"),
        metric_run("r6", 0.0, group="a"),
    ]
    order = parse_order_by(["params.group", "metrics.m DESC"])
    assert ids(sort_runs(runs, order, NOW_MS)) == ["r2", "r3", "r1", "r5", "r6", "r4"]


def test_sort_does_not_mutate_input() -> None:
    before = list(SORTABLE)
    sort_runs(SORTABLE, parse_order_by(["metrics.m DESC"]), NOW_MS)
    assert SORTABLE == before


def test_sort_by_duration_uses_now_for_running_runs() -> None:
    runs = [make_run("done", start_time=0, end_time=9_000), make_run("running", start_time=0, end_time=None)]
    assert ids(sort_runs(runs, parse_order_by(["duration DESC"]), NOW_MS)) == ["running", "done"]
    assert ids(sort_runs(runs, parse_order_by(["duration DESC"]), 5_000)) == ["done", "running"]


# ----------------------------------------------------------------------------- properties


@given(TEXT)
def test_any_single_quoted_value_round_trips(value: str) -> None:
    node = parse_filter("params.x = '" + value.replace("'", "''") + "'")
    assert node == P("x", "=", value)


@given(TEXT)
def test_any_double_quoted_value_round_trips(value: str) -> None:
    node = parse_filter('tags.t != "' + value.replace('"', '""') + '"')
    assert node == T("t", "!=", value)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1))
def test_any_backticked_key_round_trips(key: str) -> None:
    node = parse_filter("tags.`" + key.replace("`", "``") + "` IS NULL")
    assert node == T(key, "IS NULL", None)


@given(st.floats(allow_nan=False))
def test_float_literals_round_trip(number: float) -> None:
    node = parse_filter(f"metrics.m <= {number!r}")
    assert node == M("m", "<=", number)


@given(st.text(), TEXT.filter(lambda p: not set(p) & set("%_\\")))
def test_like_without_wildcards_is_equality(value: str, pattern: str) -> None:
    run = make_run(tags={"t": value})
    node = parse_filter("tags.t LIKE '" + pattern.replace("'", "''") + "'")
    assert evaluate(node, run, NOW_MS) is (value == pattern)


@given(st.lists(st.one_of(st.none(), st.floats()), max_size=12), st.booleans())
def test_sorted_metrics_are_ordered_then_nan_then_missing(
    values: list[float | None], ascending: bool
) -> None:
    runs = [metric_run(f"r{index:02d}", value) for index, value in enumerate(values)]
    order = [OrderKey("metric", "m", ascending, "latest")]
    ordered = [
        run.data.metric_summaries["m"].latest_value if run.data.metric_summaries else None
        for run in sort_runs(runs, order, NOW_MS)
    ]
    ranks = [2 if v is None else 1 if math.isnan(v) else 0 for v in ordered]
    assert ranks == sorted(ranks)
    present = [v for v in ordered if v is not None and not math.isnan(v)]
    assert present == sorted(present, reverse=not ascending)

"""Reference semantics of the search language: evaluate a parsed filter on a Run, and sort runs.

These plain-Python rules are what the SQL translation must reproduce exactly (property tests compare
the two): a missing key never matches a comparison (not even != or NOT IN) but matches IS NULL; NaN
compares like a Python float (only != is true); NOT is the plain complement; LIKE patterns follow
:func:`sql_like_pattern`; sorting puts NaN and then missing values last in either direction.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from functools import cmp_to_key, lru_cache
from typing import Any, TypeVar

from .entities import Experiment, Run
from .query import And, Comparison, Node, Not, Or, OrderKey

__all__ = [
    "ascii_lower",
    "evaluate",
    "evaluate_experiment",
    "sort_experiments",
    "sort_runs",
    "sql_glob_pattern",
    "sql_like_pattern",
]

T = TypeVar("T")

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _like_pieces(pattern: str) -> list[tuple[bool, str]]:
    """Split a LIKE pattern into (is_wildcard, text) pieces, applying the \\% and \\_ escapes."""
    pieces: list[tuple[bool, str]] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and pattern[index + 1 : index + 2] in ("%", "_"):
            pieces.append((False, pattern[index + 1]))
            index += 2
            continue
        pieces.append((char in "%_", char))
        index += 1
    return pieces


@lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = [
        (".*" if text == "%" else ".") if wild else re.escape(text) for wild, text in _like_pieces(pattern)
    ]
    return re.compile("".join(parts), re.DOTALL)


def sql_like_pattern(pattern: str) -> str:
    """The LIKE pattern to send to SQL with `ESCAPE '\\'`, matching exactly what evaluate() does."""
    out: list[str] = []
    for wild, text in _like_pieces(pattern):
        out.append(text if wild else ("\\" + text if text in "%_\\" else text))
    return "".join(out)


def sql_glob_pattern(pattern: str) -> str:
    """The SQLite GLOB pattern (case-sensitive, whole value) matching exactly what LIKE in evaluate() does."""
    out: list[str] = []
    for wild, text in _like_pieces(pattern):
        if wild:
            out.append("*" if text == "%" else "?")
        else:
            out.append(f"[{text}]" if text in "*?[" else text)
    return "".join(out)


def ascii_lower(text: str) -> str:
    """Fold ASCII letters only (how ILIKE folds, identically on every backend)."""
    return text.translate(_ASCII_LOWER)


class _AnyOf(tuple):  # type: ignore[type-arg]
    """Several values of one run (its dataset inputs): a comparison holds when it holds for any."""


def _dataset_values(run: Run, key: str) -> _AnyOf:
    inputs = run.inputs.dataset_inputs
    if key == "context":  # only inputs that have a context tag take part, as in MLflow
        return _AnyOf(item.context for item in inputs if item.context is not None)
    return _AnyOf(getattr(item.dataset, key) for item in inputs)


def _value_of(run: Run, entity: str, key: str, aggregate: str | None, now_ms: int) -> Any:
    """The run's value for an entity key (None when missing); metrics via their summaries."""
    if entity == "dataset":
        return _dataset_values(run, key)
    if entity == "metric":
        summary = run.data.metric_summaries.get(key)
        if summary is not None:
            if aggregate == "min":
                return summary.min_value
            if aggregate == "max":
                return summary.max_value
            return summary.latest_value
        return run.data.metrics.get(key) if aggregate in (None, "latest") else None
    if entity == "param":
        return run.data.params.get(key)
    if entity == "tag":
        return run.data.tags.get(key)
    info = run.info
    if key == "duration":
        if info.start_time is None:
            return None
        end_time = info.end_time if info.end_time is not None else now_ms
        return end_time - info.start_time
    return getattr(info, key)


def _matches(comparison: Comparison, actual: Any) -> bool:
    op, expected = comparison.op, comparison.value
    if op == "IS NULL":
        return actual is None
    if op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        return False
    if op == "IN":
        return actual in expected  # type: ignore[operator]
    if op == "NOT IN":
        return actual not in expected  # type: ignore[operator]
    if op == "LIKE":
        return _like_regex(str(expected)).fullmatch(actual) is not None
    if op == "ILIKE":
        folded = _like_regex(str(expected).translate(_ASCII_LOWER))
        return folded.fullmatch(actual.translate(_ASCII_LOWER)) is not None
    return bool(_COMPARE[op](actual, expected))


def _evaluate(node: Node | None, value_of: Callable[[Comparison], Any]) -> bool:
    if node is None:
        return True
    if isinstance(node, And):
        return all(_evaluate(item, value_of) for item in node.items)
    if isinstance(node, Or):
        return any(_evaluate(item, value_of) for item in node.items)
    if isinstance(node, Not):
        return not _evaluate(node.item, value_of)
    value = value_of(node)
    if isinstance(value, _AnyOf):
        return any(_matches(node, item) for item in value)
    return _matches(node, value)


def evaluate(node: Node | None, run: Run, now_ms: int) -> bool:
    """Whether `run` matches the filter tree (None matches every run); the reference semantics."""
    return _evaluate(node, lambda c: _value_of(run, c.entity, c.key, c.aggregate, now_ms))


def _experiment_value(experiment: Experiment, entity: str, key: str) -> Any:
    return experiment.tags.get(key) if entity == "tag" else getattr(experiment, key)


def evaluate_experiment(node: Node | None, experiment: Experiment) -> bool:
    """Whether an experiment matches a filter parsed with `parse_filter(..., experiments=True)`."""
    return _evaluate(node, lambda c: _experiment_value(experiment, c.entity, c.key))


def _sort_slot(value: Any) -> tuple[int, Any]:
    """(0, value) for a present value, (1, None) for NaN, (2, None) for missing."""
    if value is None:
        return (2, None)
    if isinstance(value, float) and math.isnan(value):
        return (1, None)
    return (0, value)


def _sorted(
    items: list[T], keys: list[OrderKey], value_of: Callable[[T, OrderKey], Any], tie: Callable[[T], str]
) -> list[T]:
    rows = [([_sort_slot(value_of(item, key)) for key in keys], item) for item in items]

    def compare(left: tuple[list[tuple[int, Any]], T], right: tuple[list[tuple[int, Any]], T]) -> int:
        for key, (left_rank, left_value), (right_rank, right_value) in zip(
            keys, left[0], right[0], strict=True
        ):
            if left_rank != right_rank:
                return -1 if left_rank < right_rank else 1
            if left_rank == 0 and left_value != right_value:
                smaller = -1 if left_value < right_value else 1
                return smaller if key.ascending else -smaller
        left_id, right_id = tie(left[1]), tie(right[1])
        return (left_id > right_id) - (left_id < right_id)

    return [item for _, item in sorted(rows, key=cmp_to_key(compare))]


def sort_runs(runs: list[Run], order: list[OrderKey], now_ms: int) -> list[Run]:
    """Runs sorted by `order` (newest first when empty); missing last, NaN before it; run_id ties."""
    keys = order or [OrderKey("attribute", "start_time", ascending=False)]
    return _sorted(
        runs,
        keys,
        lambda run, k: _value_of(run, k.entity, k.key, k.aggregate, now_ms),
        lambda r: r.info.run_id,
    )


def sort_experiments(experiments: list[Experiment], order: list[OrderKey]) -> list[Experiment]:
    """Experiments sorted by `order` (newest created first when empty); experiment_id breaks ties."""
    keys = order or [OrderKey("attribute", "creation_time", ascending=False)]
    return _sorted(
        experiments, keys, lambda e, k: _experiment_value(e, k.entity, k.key), lambda e: e.experiment_id
    )

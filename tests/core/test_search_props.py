"""Property tests: SQL search agrees with the reference evaluator (query_eval) on random stores.

Each example writes a handful of random runs into a new experiment of a store shared by the module
(one per backend), then checks a batch of random filter trees (rendered to text, parsed back) and
random order_by lists: the runs the SQL returns, and their order, page by page, must be exactly
what `evaluate` and `sort_runs` give over the same runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import backend_names, make_postgres_uri
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runyard import Metric, TrackingClient
from runyard.entities import Run
from runyard.search.evaluate import evaluate, sort_runs
from runyard.search.parser import And, Comparison, Node, Not, Or, parse_filter, parse_order_by

PARAM_KEYS = ["k1", "k2", "k 3"]
METRIC_KEYS = ["m1", "m2"]
STRINGS = ["a", "A", "b", "ab", "aB", "a%", "a_b", "a\\b", "'", "é", "É", "0.1", "1e-3", "z z"]
PATTERNS = ["a%", "%a%", "_", "A%", "%\\%%", "a\\_b", "%", "é%", "É%", "%'", "a\\b", "_b", "%b%"]
NUMBERS = [0.0, -1.5, 1.0, 2.5, 1e-300, math.inf, -math.inf, math.nan]
USERS = ["u1", "U1", "u2"]
STATUSES = ["RUNNING", "FINISHED", "FAILED", "KILLED"]
EXAMPLES = settings(
    max_examples=int(__import__("os").environ.get("PROPS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=__import__("os").environ.get("PROPS_EXAMPLES") is None,
)


@pytest.fixture(scope="module", params=backend_names())
def client(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_database_url: str | None,
) -> Iterator[TrackingClient]:
    """One store per backend for every example of the module (each example uses a new experiment)."""
    directory: Path = tmp_path_factory.mktemp("props")
    if request.param == "sqlite":
        uri = f"sqlite:///{directory / 'runyard.db'}"
    else:
        assert postgres_database_url is not None
        uri = make_postgres_uri(postgres_database_url)
    tracking = TrackingClient(uri, artifact_root=str(directory / "artifacts"))
    tracking.store.db.create_if_missing()  # the examples count experiments before creating one
    yield tracking
    tracking.store.db.dispose()


# ----------------------------------------------------------------------------- random runs

run_spec = st.fixed_dictionaries(
    {
        "user": st.sampled_from(USERS),
        "start": st.integers(0, 10_000),
        "length": st.integers(0, 5_000),
        "status": st.sampled_from(STATUSES),
        "params": st.dictionaries(st.sampled_from(PARAM_KEYS), st.sampled_from(STRINGS), max_size=3),
        "tags": st.dictionaries(st.sampled_from(PARAM_KEYS), st.sampled_from(STRINGS), max_size=3),
        "metrics": st.dictionaries(
            st.sampled_from(METRIC_KEYS),
            st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3),
            max_size=2,
        ),
    }
)


def write_runs(client: TrackingClient, experiment_id: str, specs: list[dict[str, Any]]) -> None:
    """Create the runs of the specs (each metric's points at steps 0, 1, ...)."""
    for index, spec in enumerate(specs):
        run = client.create_run(
            experiment_id, start_time=spec["start"], run_name=f"run-{index}", user_id=spec["user"]
        )
        run_id = run.info.run_id
        points = [
            Metric(key, value, 1_000 + step, step)
            for key, values in spec["metrics"].items()
            for step, value in enumerate(values)
        ]
        client.log_batch(run_id, metrics=points, params=spec["params"], tags=spec["tags"])
        if spec["status"] != "RUNNING":
            client.set_terminated(run_id, spec["status"], end_time=spec["start"] + spec["length"])


# ----------------------------------------------------------------------------- random filters


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(value: float | int) -> str:
    return repr(value)


def render(node: Node) -> str:
    """Filter text that parses back to `node`."""
    if isinstance(node, And):
        return " AND ".join(f"({render(item)})" for item in node.items)
    if isinstance(node, Or):
        return " OR ".join(f"({render(item)})" for item in node.items)
    if isinstance(node, Not):
        return f"NOT ({render(node.item)})"
    if node.entity == "attribute":
        target = f"attributes.{node.key}"
    else:
        target = f"{node.entity}s.`{node.key}`"
        if node.aggregate in ("min", "max"):
            target = f"{node.aggregate.upper()}({target})"
    if node.value is None:
        return f"{target} {node.op}"
    if isinstance(node.value, tuple):
        return f"{target} {node.op} ({', '.join(_quote(v) for v in node.value)})"
    if isinstance(node.value, str):
        return f"{target} {node.op} {_quote(node.value)}"
    return f"{target} {node.op} {_number(node.value)}"


NUMBER_OPS = ["=", "!=", ">", ">=", "<", "<="]
metric_comparison = st.one_of(
    st.builds(
        lambda key, aggregate, op, value: Comparison("metric", key, op, value, aggregate),
        st.sampled_from(METRIC_KEYS),
        st.sampled_from(["latest", "min", "max"]),
        st.sampled_from(NUMBER_OPS),
        st.sampled_from(NUMBERS),
    ),
    st.builds(
        lambda key, op: Comparison("metric", key, op, None, "latest"),
        st.sampled_from(METRIC_KEYS),
        st.sampled_from(["IS NULL", "IS NOT NULL"]),
    ),
)


def _string_comparison(entity: str) -> st.SearchStrategy[Comparison]:
    keys = st.sampled_from(PARAM_KEYS)
    return st.one_of(
        st.builds(
            lambda k, op, v: Comparison(entity, k, op, v),
            keys,
            st.sampled_from(["=", "!="]),
            st.sampled_from(STRINGS),
        ),
        st.builds(
            lambda k, op, v: Comparison(entity, k, op, v),
            keys,
            st.sampled_from(["LIKE", "ILIKE"]),
            st.sampled_from(PATTERNS + STRINGS),
        ),
        st.builds(
            lambda k, op, v: Comparison(entity, k, op, tuple(v)),
            keys,
            st.sampled_from(["IN", "NOT IN"]),
            st.lists(st.sampled_from(STRINGS), min_size=1, max_size=3),
        ),
        st.builds(
            lambda k, op: Comparison(entity, k, op, None), keys, st.sampled_from(["IS NULL", "IS NOT NULL"])
        ),
    )


attribute_comparison = st.one_of(
    st.builds(
        lambda key, op, value: Comparison("attribute", key, op, value),
        st.sampled_from(["start_time", "end_time", "duration"]),
        st.sampled_from(NUMBER_OPS),
        st.integers(-10, 16_000),
    ),
    st.builds(
        lambda key, op, value: Comparison("attribute", key, op, value),
        st.sampled_from(["status", "user_id"]),
        st.sampled_from(["=", "!=", "LIKE", "ILIKE"]),
        st.sampled_from(STATUSES + USERS + ["u%", "%1", "_1", "f%"]),
    ),
    st.builds(
        lambda key, op, value: Comparison("attribute", key, op, tuple(value)),
        st.sampled_from(["status", "user_id"]),
        st.sampled_from(["IN", "NOT IN"]),
        st.lists(st.sampled_from(STATUSES + USERS), min_size=1, max_size=3),
    ),
    st.builds(
        lambda op: Comparison("attribute", "end_time", op, None), st.sampled_from(["IS NULL", "IS NOT NULL"])
    ),
)

comparison = st.one_of(
    metric_comparison, _string_comparison("param"), _string_comparison("tag"), attribute_comparison
)


def _flat(kind: type[And] | type[Or], items: list[Node]) -> Node:
    """As the parser builds it: an And inside an And (or Or in Or) is spliced in."""
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


filter_tree: st.SearchStrategy[Node] = st.recursive(
    comparison,
    lambda children: st.one_of(
        st.builds(lambda items: _flat(And, items), st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda items: _flat(Or, items), st.lists(children, min_size=2, max_size=3)),
        st.builds(Not, children),
    ),
    max_leaves=5,
)

order_text = st.sampled_from(
    [
        "metrics.`m1`",
        "metrics.`m1` DESC",
        "MIN(metrics.`m2`)",
        "MAX(metrics.`m1`) DESC",
        "params.`k1`",
        "params.`k 3` DESC",
        "tags.`k2`",
        "tags.`k1` DESC",
        "attributes.start_time",
        "end_time DESC",
        "duration",
        "duration DESC",
        "status",
        "user_id DESC",
        "run_name",
    ]
)


def _all_runs(client: TrackingClient, experiment_id: str) -> list[Run]:
    return list(client.search_runs([experiment_id], max_results=1000))


def _ids(runs: list[Run]) -> list[str]:
    return [run.info.run_id for run in runs]


@EXAMPLES
@given(specs=st.lists(run_spec, max_size=7), trees=st.lists(filter_tree, min_size=4, max_size=12))
def test_sql_filter_matches_reference(
    client: TrackingClient, specs: list[dict[str, Any]], trees: list[Node]
) -> None:
    experiment_id = client.create_experiment(f"props-{len(client.list_experiments('ALL'))}")
    write_runs(client, experiment_id, specs)
    runs = _all_runs(client, experiment_id)
    assert len(runs) == len(specs)
    for tree in trees:
        text = render(tree)
        assert render(parse_filter(text)) == text  # round trip (NaN != NaN, so compare as text)
        found = client.search_runs([experiment_id], text, max_results=1000)
        now = 10**13  # running runs' durations are ~now: far beyond every generated threshold
        expected = {run.info.run_id for run in runs if evaluate(tree, run, now)}
        assert set(_ids(list(found))) == expected, text


@EXAMPLES
@given(
    specs=st.lists(run_spec, max_size=7),
    orders=st.lists(st.lists(order_text, min_size=1, max_size=3), min_size=1, max_size=4),
    page_size=st.integers(1, 4),
)
def test_sql_order_and_pages_match_reference(
    client: TrackingClient, specs: list[dict[str, Any]], orders: list[list[str]], page_size: int
) -> None:
    experiment_id = client.create_experiment(f"props-{len(client.list_experiments('ALL'))}")
    write_runs(client, experiment_id, specs)
    runs = _all_runs(client, experiment_id)
    for order_by in [[], *orders]:
        expected = _ids(sort_runs(runs, parse_order_by(order_by), 10**13))
        assert (
            _ids(list(client.search_runs([experiment_id], order_by=order_by, max_results=1000))) == expected
        )
        paged: list[str] = []
        token = None
        while True:
            page = client.search_runs(
                [experiment_id], order_by=order_by, max_results=page_size, page_token=token
            )
            paged += _ids(list(page))
            token = page.token
            if token is None:
                break
        assert paged == expected, order_by

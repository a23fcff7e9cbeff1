"""Filters and order_by at and past their limits, and text no database stores: clear errors, never a crash.

Past a limit (nesting, conditions, IN values, order_by keys) the error is InvalidQuery naming the limit;
the largest accepted queries run on SQLite and PostgreSQL and return what the reference evaluator says.
Lone surrogates and NULs in keys and values are InvalidInput / InvalidQuery naming the key. A fuzz test
feeds arbitrary strings as filters: each gives results or InvalidQuery, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from backends import backend_names, make_postgres_uri
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runyard import InvalidInput, InvalidQuery, TrackingClient
from runyard.entities import Run
from runyard.search.evaluate import evaluate, sort_runs
from runyard.search.parser import (
    MAX_CONDITIONS,
    MAX_LIST_VALUES,
    MAX_NESTING,
    MAX_ORDER_KEYS,
    parse_filter,
    parse_order_by,
)

N_RUNS = 8


@dataclass
class Store:
    """A store with one experiment of N_RUNS runs: param k = v<i>, metric m = i, tag t = even/odd."""

    client: TrackingClient
    experiment_id: str

    def search(
        self, filter_string: str = "", order_by: list[str] | None = None, page: int = 1000
    ) -> list[Run]:
        """Every matching run, page by page through the page token."""
        found: list[Run] = []
        token = None
        while True:
            result = self.client.search_runs(
                [self.experiment_id], filter_string, max_results=page, order_by=order_by, page_token=token
            )
            found.extend(result)
            token = result.token
            if not token:
                return found

    def expected(self, filter_string: str, order_by: list[str] | None = None) -> list[str]:
        """Run ids the reference evaluator gives for the filter and order."""
        every = self.search()
        node = parse_filter(filter_string)
        ordered = sort_runs(every, parse_order_by(order_by), now_ms=0)
        return [run.info.run_id for run in ordered if evaluate(node, run, now_ms=0)]


@pytest.fixture(scope="module", params=backend_names())
def store(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_database_url: str | None,
) -> Iterator[Store]:
    """One seeded store per backend for the module."""
    directory: Path = tmp_path_factory.mktemp("limits")
    if request.param == "sqlite":
        uri = f"sqlite:///{directory / 'runyard.db'}"
    else:
        assert postgres_database_url is not None
        uri = make_postgres_uri(postgres_database_url)
    client = TrackingClient(uri, artifact_root=str(directory / "artifacts"))
    experiment_id = client.create_experiment("limits")
    for index in range(N_RUNS):
        run = client.create_run(experiment_id, start_time=1000 + index)
        run_id = run.info.run_id
        client.log_param(run_id, "k", f"v{index}")
        client.log_param(run_id, "p", str(index % 3))
        client.log_metric(run_id, "m", float(index))
        client.set_tag(run_id, "t", "even" if index % 2 == 0 else "odd")
        client.set_terminated(run_id, end_time=2000 + index)
    yield Store(client, experiment_id)
    client.store.db.dispose()


def ids(runs: list[Run]) -> list[str]:
    return [run.info.run_id for run in runs]


def nested(levels: int) -> str:
    """A filter `levels` deep: NOT and parentheses alternating, with AND and OR inside."""
    text = "metrics.m >= 2"
    for level in range(levels // 2):
        joiner = "OR" if level % 2 else "AND"
        text = f"NOT (params.k != 'v{level % N_RUNS}' {joiner} {text})"
    if levels % 2:
        text = f"({text})"
    return text


# ----------------------------------------------------------------------------- past the limits


@pytest.mark.parametrize(
    ("filter_string", "limit"),
    [
        ("(" * 330 + "metrics.m > 0" + ")" * 330, f"at most {MAX_NESTING} levels"),
        ("NOT " * 980 + "metrics.m > 0", f"at most {MAX_NESTING} levels"),
        (nested(MAX_NESTING + 1), f"at most {MAX_NESTING} levels"),
        (" AND ".join(f"metrics.m > {i}" for i in range(1000)), f"at most {MAX_CONDITIONS}"),
        (" OR ".join(f"params.k = 'v{i}'" for i in range(MAX_CONDITIONS + 1)), f"at most {MAX_CONDITIONS}"),
        (
            "params.k IN (" + ", ".join(f"'{i}'" for i in range(MAX_LIST_VALUES + 1)) + ")",
            f"at most {MAX_LIST_VALUES}",
        ),
    ],
    ids=["330-parentheses", "980-nots", "one-level-too-deep", "1000-and", "501-or", "in-list"],
)
def test_a_filter_past_a_limit_is_an_invalid_query_naming_it(
    store: Store, filter_string: str, limit: str
) -> None:
    with pytest.raises(InvalidQuery, match=limit):
        store.client.search_runs([store.experiment_id], filter_string)


def test_too_many_order_by_keys_is_an_invalid_query_naming_the_limit(store: Store) -> None:
    order = [f"metrics.m{i}" for i in range(1000)]
    with pytest.raises(InvalidQuery, match=f"at most {MAX_ORDER_KEYS} allowed"):
        store.client.search_runs([store.experiment_id], order_by=order)


# ----------------------------------------------------------------------------- the largest accepted


@pytest.mark.parametrize(
    "filter_string",
    [
        nested(MAX_NESTING),
        "(" * MAX_NESTING + "metrics.m > 3" + ")" * MAX_NESTING,
        " AND ".join(f"metrics.m > {i - MAX_CONDITIONS}" for i in range(MAX_CONDITIONS)),
        " OR ".join(f"params.k = 'v{i}'" for i in range(MAX_CONDITIONS)),
        # a long chain first inside a group, then another chain: the deepest left-deep SQL shape
        "("
        + " OR ".join(f"params.k = 'x{i}'" for i in range(MAX_CONDITIONS // 2 - 1))
        + " OR tags.t = 'even') AND "
        + " AND ".join(f"metrics.m < {100 + i}" for i in range(MAX_CONDITIONS // 2)),
        "params.k IN (" + ", ".join(f"'v{i}'" for i in range(MAX_LIST_VALUES)) + ")",
    ],
    ids=["deepest", "parentheses", "and-chain", "or-chain", "chains", "in-list"],
)
def test_the_largest_accepted_filters_run_and_match_the_reference(store: Store, filter_string: str) -> None:
    assert ids(store.search(filter_string, page=3)) == store.expected(filter_string)


def test_the_most_order_by_keys_sort_and_page_like_the_reference(store: Store) -> None:
    order = [
        "params.p DESC",
        "tags.t",
        *(f"metrics.missing{i} DESC" for i in range(MAX_ORDER_KEYS - 3)),
        "metrics.m",
    ]
    assert len(order) == MAX_ORDER_KEYS
    assert ids(store.search("", order_by=order, page=3)) == store.expected("", order)


# ----------------------------------------------------------------------------- text no database stores


@pytest.mark.parametrize("bad", ["a\ud800", "\udfff", "x\x00y"])
def test_param_and_tag_values_that_cannot_be_stored_are_invalid_input_naming_the_key(
    store: Store, bad: str
) -> None:
    run_id = store.client.create_run(store.experiment_id).info.run_id
    try:
        for write in (
            lambda: store.client.log_param(run_id, "bad_param", bad),
            lambda: store.client.set_tag(run_id, "bad_tag", bad),
            lambda: store.client.log_batch(run_id, tags={"bad_tag": bad}),
        ):
            with pytest.raises(InvalidInput, match="bad_(param|tag)") as error:
                write()
            str(error.value).encode("utf-8")  # the message itself can be printed
        run = store.client.get_run(run_id)
        assert "bad_param" not in run.data.params and "bad_tag" not in run.data.tags
    finally:
        store.client.delete_run(run_id)


def test_keys_that_cannot_be_stored_are_invalid_input(store: Store) -> None:
    run_id = store.client.create_run(store.experiment_id).info.run_id
    try:
        with pytest.raises(InvalidInput, match=r"a\\ud800"):
            store.client.log_param(run_id, "a\ud800", "v")
        with pytest.raises(InvalidInput, match=r"a\\ud800"):
            store.client.set_tag(run_id, "a\ud800", "v")
    finally:
        store.client.delete_run(run_id)


@pytest.mark.parametrize(
    ("filter_string", "named"),
    [
        ("params.k = 'a\ud800'", "params.k"),
        ("tags.t IN ('x', '\udc80')", "tags.t"),
        ("params.`k\ud800` = 'a'", "params.`k"),
        ("run_name LIKE 'a\ud800%'", "run_name"),
        ("params.k = 'a\x00'", "params.k"),
        ("metrics.m\ud800 > 1", "metrics.m"),
    ],
)
def test_filters_with_text_that_cannot_be_stored_are_invalid_queries_naming_the_key(
    store: Store, filter_string: str, named: str
) -> None:
    with pytest.raises(InvalidQuery) as error:
        store.client.search_runs([store.experiment_id], filter_string)
    message = str(error.value)
    message.encode("utf-8")  # printable: the surrogate is escaped, not copied
    assert named in message.encode("utf-8", "backslashreplace").decode()


def test_order_by_with_a_lone_surrogate_is_an_invalid_query(store: Store) -> None:
    with pytest.raises(InvalidQuery, match="lone surrogate"):
        store.client.search_runs([store.experiment_id], order_by=["params.`k\ud800`"])


# ----------------------------------------------------------------------------- fuzz

WORDS = [
    "metrics.m", "params.k", "tags.t", "attributes.start_time", "run_name", "status", "duration",
    "MIN(metrics.m)", "`a b`", '"run name"', "(", ")", "((", "))", "NOT", "AND", "OR", "IN", "NOT IN",
    "IS", "NULL", "LIKE", "ILIKE", "=", "!=", "<>", ">", ">=", "<", "<=", "==", ",", "'v1'", "'%'",
    "'a\ud800'", "'\x00'", "1", "-2.5", "1e400", "NaN", "-inf", "99999999999999999999999", "'",
    '"', "`", ".", "metrics.", "\ud800", "é", "\\",
]  # fmt: skip
filters = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=3)), max_size=10).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filter_string=filters)
def test_any_string_as_a_filter_gives_results_or_invalid_query(
    sqlite_store: Store, filter_string: str
) -> None:
    try:
        runs = sqlite_store.client.search_runs([sqlite_store.experiment_id], filter_string, max_results=5)
    except InvalidQuery as error:
        str(error).encode("utf-8")  # printable
        return
    assert len(runs) <= 5


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A small SQLite store for the fuzz test."""
    directory = tmp_path_factory.mktemp("fuzz")
    client = TrackingClient(f"sqlite:///{directory / 'runyard.db'}", artifact_root=str(directory / "a"))
    experiment_id = client.create_experiment("fuzz")
    for index in range(3):
        run_id = client.create_run(experiment_id, run_name=f"r{index}").info.run_id
        client.log_param(run_id, "k", f"v{index}")
        client.log_metric(run_id, "m", float(index))
    yield Store(client, experiment_id)
    client.store.db.dispose()

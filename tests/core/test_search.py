"""Table-driven search tests: every filter string with the runs it must return, on SQLite and PostgreSQL.

One small store per backend (module scope) holds runs designed to hit the edges: NaN and +/-inf
metrics, a NaN latest value whose MIN is a number, missing keys, mixed case, LIKE wildcards typed
literally, quotes, backslashes, unicode, a SQL-injection string as a value, a running run (duration
counts to now), a deleted run, a trashed experiment and a second experiment. Each case is also
checked against the reference evaluator (query_eval), so the table and the reference agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from backends import backend_names, make_postgres_uri
from runyard import InvalidInput, InvalidQuery, Metric, TrackingClient
from runyard.search.evaluate import evaluate, sort_runs
from runyard.search.parser import parse_filter, parse_order_by

NAN, INF = math.nan, math.inf


@dataclass
class Store:
    """The seeded store: client, experiment ids and run ids by name."""

    client: TrackingClient
    exp_a: str
    exp_b: str
    exp_trashed: str
    ids: dict[str, str]

    def names(self, runs: list) -> list[str]:  # type: ignore[type-arg]
        by_id = {run_id: name for name, run_id in self.ids.items()}
        return [by_id[run.info.run_id] for run in runs]

    def fill(self, text: str) -> str:
        for name, run_id in self.ids.items():
            text = text.replace("{" + name + "}", run_id)
        return text.replace("{exp_a}", self.exp_a).replace("{exp_b}", self.exp_b)


def _run(
    client: TrackingClient,
    experiment_id: str,
    name: str,
    user: str,
    start: int,
    end: int | None,
    status: str,
    params: dict[str, str] | None = None,
    metrics: dict[str, list[float]] | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    run = client.create_run(experiment_id, start_time=start, run_name=name, user_id=user)
    points = [
        Metric(key, value, start + step, step)
        for key, values in (metrics or {}).items()
        for step, value in enumerate(values)
    ]
    client.log_batch(run.info.run_id, metrics=points, params=params or {}, tags=tags or {})
    if end is not None:
        client.set_terminated(run.info.run_id, status, end_time=end)
    return run.info.run_id


def seed(client: TrackingClient) -> Store:
    """Create the runs every case below refers to."""
    exp_a = client.create_experiment("search-a")
    exp_b = client.create_experiment("search-b")
    exp_t = client.create_experiment("search-trashed")
    ids: dict[str, str] = {}
    ids["r1"] = _run(
        client, exp_a, "r1", "alice", 1000, 5000, "FINISHED",
        params={"lr": "0.1", "optimizer": "adam", "note": "it's", "batch": "32"},
        metrics={"acc": [0.5, 0.9], "loss": [0.2]},
        tags={"team": "vision", "my tag": "hello world"},
    )  # fmt: skip
    ids["r2"] = _run(
        client, exp_a, "r2", "bob", 2000, 3000, "FAILED",
        params={"lr": "0.01", "optimizer": "sgd", "batch": "64"},
        metrics={"acc": [0.7], "loss": [0.3, NAN]},
        tags={"team": "nlp"},
    )  # fmt: skip
    ids["r3"] = _run(
        client, exp_a, "r3", "alice", 3000, None, "RUNNING",
        params={"lr": "1e-3", "optimizer": "Adam"},
        metrics={"acc": [NAN], "loss": [0.5]},
        tags={"team": "Vision"},
    )  # fmt: skip
    ids["r4"] = _run(
        client, exp_a, "r4", "carol", 4000, 10000, "KILLED",
        params={"optimizer": "100%_sure"},
        metrics={"acc": [INF], "val-loss": [0.3]},
        tags={"team": "'; DROP TABLE runs; --", "quote": 'say "hi"'},
    )  # fmt: skip
    ids["r5"] = _run(
        client, exp_a, "r5", "bob", 5000, 5500, "FINISHED",
        params={"lr": "0.5", "path": "C:\\temp\\x"},
        metrics={"acc": [-INF], "loss": [1.0]},
        tags={"team": "ünïcödé ☃"},
    )  # fmt: skip
    ids["sweep-1"] = _run(client, exp_a, "sweep-1", "dave", 6000, 7000, "FINISHED")
    ids["gone"] = _run(client, exp_a, "gone", "alice", 7000, 8000, "FINISHED", params={"lr": "0.1"})
    client.delete_run(ids["gone"])
    ids["b1"] = _run(
        client, exp_b, "b1", "erin", 1500, 2500, "FINISHED",
        params={"lr": "0.1"}, metrics={"acc": [0.95]}, tags={"team": "vision"},
    )  # fmt: skip
    ids["t1"] = _run(client, exp_t, "t1", "erin", 1200, 1300, "FINISHED", params={"lr": "0.1"})
    client.delete_experiment(exp_t)
    return Store(client, exp_a, exp_b, exp_t, ids)


@pytest.fixture(scope="module", params=backend_names())
def store(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_database_url: str | None,
) -> Iterator[Store]:
    """The seeded store, once per backend for the whole module."""
    directory: Path = tmp_path_factory.mktemp("search")
    if request.param == "sqlite":
        uri = f"sqlite:///{directory / 'runyard.db'}"
    else:
        assert postgres_database_url is not None
        uri = make_postgres_uri(postgres_database_url)
    client = TrackingClient(uri, artifact_root=str(directory / "artifacts"))
    yield seed(client)
    client.store.db.dispose()


ACTIVE_A = {"r1", "r2", "r3", "r4", "r5", "sweep-1"}

# (filter, names returned from experiment search-a, active runs)
MATCHES: list[tuple[str, set[str]]] = [
    ("", ACTIVE_A),
    ("   ", ACTIVE_A),
    # metrics: numbers, NaN, infinities, missing keys
    ("metrics.acc > 0.8", {"r1", "r4"}),
    ("metrics.acc >= 0.7", {"r1", "r2", "r4"}),
    ("metrics.acc < 0.8", {"r2", "r5"}),
    ("metrics.acc = 0.9", {"r1"}),
    ("metric.acc != 0.9", {"r2", "r3", "r4", "r5"}),
    ("metrics.acc != nan", {"r1", "r2", "r3", "r4", "r5"}),
    ("metrics.acc = nan", set()),
    ("metrics.acc > -inf", {"r1", "r2", "r4"}),
    ("metrics.acc = inf", {"r4"}),
    ("metrics.acc <= -inf", {"r5"}),
    ("metrics.acc IS NULL", {"sweep-1"}),
    ("metrics.acc IS NOT NULL", {"r1", "r2", "r3", "r4", "r5"}),
    ("metrics.loss < 0.4", {"r1"}),
    ("MIN(metrics.loss) < 0.4", {"r1", "r2"}),
    ("MAX(metrics.acc) >= 0.9", {"r1", "r4"}),
    ("min(metrics.acc) <= 0.5", {"r1", "r5"}),
    ("LATEST(metrics.loss) = 1", {"r5"}),
    ("metrics.`val-loss` < 1", {"r4"}),
    ("metrics.val-loss < 1", {"r4"}),
    ('metrics."val-loss" >= 0.3', {"r4"}),
    ("metrics.missing_key > 0", set()),
    ("NOT metrics.missing_key > 0", ACTIVE_A),
    # params: strings, numbers as typed, lists, IS NULL, LIKE / ILIKE
    ("params.lr = '0.1'", {"r1"}),
    ("params.lr = 0.1", {"r1"}),
    ("param.lr = 1e-3", {"r3"}),
    ("params.lr = 0.001", set()),
    ("params.lr != '0.1'", {"r2", "r3", "r5"}),
    ("params.lr IN ('0.1', '0.5')", {"r1", "r5"}),
    ("params.lr NOT IN ('0.1', '0.5')", {"r2", "r3"}),
    ("parameters.lr IS NULL", {"r4", "sweep-1"}),
    ("params.lr IS NOT NULL", {"r1", "r2", "r3", "r5"}),
    ("params.optimizer LIKE 'adam'", {"r1"}),
    ("params.optimizer ILIKE 'adam'", {"r1", "r3"}),
    ("params.optimizer LIKE 'A%'", {"r3"}),
    ("params.optimizer like '%a%'", {"r1", "r3"}),
    ("params.optimizer LIKE '_dam'", {"r1", "r3"}),
    ("params.optimizer LIKE 'sg'", set()),
    ("params.optimizer LIKE '100\\%\\_sure'", {"r4"}),
    ("params.optimizer LIKE '100\\%'", set()),
    ("params.optimizer LIKE '100%'", {"r4"}),
    ("params.optimizer LIKE '%\\_%'", {"r4"}),
    ("params.optimizer LIKE '*'", set()),
    ("params.optimizer LIKE '[a]dam'", set()),
    ("params.note = 'it''s'", {"r1"}),
    ('params.note = "it\'s"', {"r1"}),
    ("params.path = 'C:\\temp\\x'", {"r5"}),
    ("params.path LIKE 'C:\\t%'", {"r5"}),
    ("params.batch IN (32, 64)", {"r1", "r2"}),
    # tags: hostile strings, unicode, quoted keys
    ("tags.team = 'vision'", {"r1"}),
    ("tag.team ILIKE 'VISION'", {"r1", "r3"}),
    ("tags.team = '''; DROP TABLE runs; --'", {"r4"}),
    ("tags.team LIKE '%DROP TABLE%'", {"r4"}),
    ("tags.team = 'ünïcödé ☃'", {"r5"}),
    ("tags.team ILIKE 'üNïCöDé ☃'", {"r5"}),
    ("tags.team ILIKE 'ÜNÏCÖDÉ ☃'", set()),
    ("tags.team LIKE '_nïcödé _'", {"r5"}),
    ("tags.`my tag` = 'hello world'", {"r1"}),
    ("tags.\"my tag\" LIKE 'hello%'", {"r1"}),
    ("tags.quote = 'say \"hi\"'", {"r4"}),
    ("tags.team IN ('nlp', 'Vision')", {"r2", "r3"}),
    ("tags.runyard.runName = 'r2'", {"r2"}),
    ("`tags`.team = 'nlp'", {"r2"}),
    # attributes
    ("attributes.status = 'FINISHED'", {"r1", "r5", "sweep-1"}),
    ("status IN ('FAILED', 'KILLED')", {"r2", "r4"}),
    ("status NOT IN ('FINISHED')", {"r2", "r3", "r4"}),
    ("attr.user_id = 'alice'", {"r1", "r3"}),
    ("run_name LIKE 'sweep-%'", {"sweep-1"}),
    ("attributes.`run name` = 'r2'", {"r2"}),
    ("run.run_name != 'r2'", ACTIVE_A - {"r2"}),
    ("attributes.start_time >= 3000", {"r3", "r4", "r5", "sweep-1"}),
    ("created < 2500", {"r1", "r2"}),
    ("end_time IS NULL", {"r3"}),
    ("end_time > 4000", {"r1", "r4", "r5", "sweep-1"}),
    ("NOT end_time > 4000", {"r2", "r3"}),
    ("duration > 1000", {"r1", "r3", "r4"}),
    ("duration <= 1000", {"r2", "r5", "sweep-1"}),
    ("attributes.duration = 6000", {"r4"}),
    ("end_time > 99999999999999999999999", set()),
    ("run_id IN ('{r1}', '{r2}', 'nope')", {"r1", "r2"}),
    ("attributes.run_id = '{r3}'", {"r3"}),
    ("attributes.experiment_id = '{exp_a}'", ACTIVE_A),
    ("attributes.experiment_id = '{exp_b}'", set()),
    ("parent_run_id IS NULL", ACTIVE_A),
    ("source_version IS NOT NULL", set()),
    # OR, NOT, parentheses and precedence
    ("params.optimizer = 'sgd' OR tags.team = 'vision'", {"r1", "r2"}),
    ("NOT params.lr = '0.1'", ACTIVE_A - {"r1"}),
    ("NOT (metrics.acc > 0.8 OR params.lr IS NULL)", {"r2", "r3", "r5"}),
    ("metrics.acc > 0.5 AND (tags.team = 'nlp' OR user_id = 'carol')", {"r2", "r4"}),
    ("metrics.acc > 0.5 and params.lr = '0.1' or status = 'RUNNING'", {"r1", "r3"}),
    ("NOT NOT metrics.acc > 0.8", {"r1", "r4"}),
    ("NOT metrics.acc > 0.8", {"r2", "r3", "r5", "sweep-1"}),
    ("metrics.acc > 0.8 AND NOT tags.team = 'vision'", {"r4"}),
    ("(params.lr = '0.1' OR params.lr = '0.01') AND (metrics.loss < 1 OR metrics.acc > 0.6)", {"r1", "r2"}),
]

# (filter, fragment of the error message)
INVALID: list[tuple[str, str]] = [
    ("metrics.acc > 'high'", "metrics compare with numbers"),
    ("params.x > 3", "params support = != LIKE ILIKE IN"),
    ("attributes.foo = 'x'", "Invalid attribute key 'foo'"),
    ("metrics.acc > 1 AND (params.x = 'a'", "Unbalanced parenthesis"),
    ("params.x = 'abc", "Unbalanced quote"),
    ("foo.bar = 1", "Invalid entity type"),
    ("metrics.acc == 1", "Invalid comparator"),
    ("params.lr = 'x'; DROP TABLE runs; --'", "Unexpected"),
    ("status LIKE", "Missing value"),
    ("MIN(params.lr) = '1'", "MIN() applies to metrics only"),
    ("start_time > 'yesterday'", "Expected numeric value type"),
    ("tags.t IN ()", "Empty list"),
    ("metrics.acc LIKE '1%'", "Invalid comparator 'LIKE' for metrics"),
    ("status IS NULL", "Invalid comparator 'IS NULL' for attribute 'status'"),
    ("metrics.a > 1 metrics.b > 2", "join conditions with AND or OR"),
]


def _search(
    store: Store, filter_string: str, experiment_ids: list[str] | None = None, **kwargs: object
) -> list:  # type: ignore[type-arg]
    page = store.client.search_runs(experiment_ids or [store.exp_a], store.fill(filter_string), **kwargs)  # type: ignore[arg-type]
    assert page.token is None
    return list(page)


def test_tables_are_big_enough() -> None:
    assert len(MATCHES) + len(INVALID) >= 60


@pytest.mark.parametrize(("filter_string", "expected"), MATCHES, ids=[f for f, _ in MATCHES])
def test_filter_returns_exactly(store: Store, filter_string: str, expected: set[str]) -> None:
    found = _search(store, filter_string)
    assert sorted(store.names(found)) == sorted(expected)
    everything = _search(store, "")
    node = parse_filter(store.fill(filter_string))
    reference = {
        name
        for name, run in zip(store.names(everything), everything, strict=True)
        if evaluate(node, run, 10**13)
    }
    assert reference == expected


@pytest.mark.parametrize(("filter_string", "fragment"), INVALID, ids=[f for f, _ in INVALID])
def test_invalid_filter_raises_before_any_sql(store: Store, filter_string: str, fragment: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        store.client.search_runs([store.exp_a], filter_string)
    assert fragment in str(caught.value).splitlines()[0]
    assert len(_search(store, "")) == len(ACTIVE_A)  # the runs table is still there


def test_several_experiments_at_once(store: Store) -> None:
    found = _search(store, "params.lr = '0.1'", [store.exp_a, store.exp_b])
    assert sorted(store.names(found)) == ["b1", "r1"]
    found = _search(store, "attributes.experiment_id = '{exp_b}'", [store.exp_a, store.exp_b])
    assert store.names(found) == ["b1"]


def test_view_types_and_trashed_experiments(store: Store) -> None:
    all_ids = [store.exp_a, store.exp_b, store.exp_trashed]
    assert sorted(store.names(_search(store, "params.lr = '0.1'", all_ids))) == ["b1", "r1"]
    deleted = _search(store, "params.lr = '0.1'", all_ids, run_view_type="DELETED_ONLY")
    assert sorted(store.names(deleted)) == ["gone", "t1"]
    everything = _search(store, "params.lr = '0.1'", all_ids, run_view_type="ALL")
    assert sorted(store.names(everything)) == ["b1", "gone", "r1", "t1"]
    with pytest.raises(InvalidInput, match="run_view_type"):
        store.client.search_runs([store.exp_a], run_view_type="SOME")


# (order_by, expected order as groups; a group's runs tie and are ordered as MLflow orders them:
# start time newest first, then run_id)
ORDERS: list[tuple[list[str] | None, list[list[str]]]] = [
    (None, [["sweep-1"], ["r5"], ["r4"], ["r3"], ["r2"], ["r1"]]),
    (["metrics.acc DESC"], [["r4"], ["r1"], ["r2"], ["r5"], ["r3"], ["sweep-1"]]),
    (["metrics.acc"], [["r5"], ["r2"], ["r1"], ["r4"], ["r3"], ["sweep-1"]]),
    (["metrics.loss ASC"], [["r1"], ["r3"], ["r5"], ["r2"], ["r4", "sweep-1"]]),
    (["metrics.loss DESC"], [["r5"], ["r3"], ["r1"], ["r2"], ["r4", "sweep-1"]]),
    (["MIN(metrics.loss) DESC"], [["r5"], ["r3"], ["r2"], ["r1"], ["r4", "sweep-1"]]),
    (["max(metrics.acc)"], [["r5"], ["r2"], ["r1"], ["r4"], ["r3"], ["sweep-1"]]),
    (["params.lr"], [["r2"], ["r1"], ["r5"], ["r3"], ["r4", "sweep-1"]]),
    (["params.lr desc"], [["r3"], ["r5"], ["r1"], ["r2"], ["r4", "sweep-1"]]),
    (["tags.team"], [["r4"], ["r3"], ["r2"], ["r1"], ["r5"], ["sweep-1"]]),
    (["attributes.end_time DESC"], [["r4"], ["sweep-1"], ["r5"], ["r1"], ["r2"], ["r3"]]),
    (["duration"], [["r5"], ["r2", "sweep-1"], ["r1"], ["r4"], ["r3"]]),
    (["status", "start_time DESC"], [["r2"], ["sweep-1"], ["r5"], ["r1"], ["r4"], ["r3"]]),
    (["user_id DESC", "metrics.acc"], [["sweep-1"], ["r4"], ["r5"], ["r2"], ["r1"], ["r3"]]),
    (["run_name DESC"], [["sweep-1"], ["r5"], ["r4"], ["r3"], ["r2"], ["r1"]]),
]


@pytest.mark.parametrize(("order_by", "groups"), ORDERS, ids=[str(o) for o, _ in ORDERS])
def test_order_by(store: Store, order_by: list[str] | None, groups: list[list[str]]) -> None:
    start = {name: store.client.get_run(run_id).info.start_time or 0 for name, run_id in store.ids.items()}
    expected = [name for group in groups for name in sorted(group, key=lambda name: -start[name])]
    found = _search(store, "", order_by=order_by)
    assert store.names(found) == expected
    reference = sort_runs(found, parse_order_by(order_by), 10**13)
    assert store.names(reference) == expected
    for size in (1, 2, 4):  # the same order when read page by page
        assert _names_by_pages(store, order_by, size) == expected


def _names_by_pages(store: Store, order_by: list[str] | None, size: int) -> list[str]:
    names: list[str] = []
    token = None
    while True:
        page = store.client.search_runs(
            [store.exp_a], "", order_by=order_by, max_results=size, page_token=token
        )
        names += store.names(list(page))
        token = page.token
        if token is None:
            return names


@pytest.mark.parametrize(
    ("order_by", "fragment"),
    [
        (["metrics.acc UP"], "Invalid order_by clause"),
        (["attributes.nope"], "Invalid ordering key"),
        (["params.lr DESC extra"], "Invalid order_by clause"),
        ([""], "Invalid order_by clause"),
    ],
)
def test_invalid_order_by(store: Store, order_by: list[str], fragment: str) -> None:
    with pytest.raises(InvalidQuery, match=fragment):
        store.client.search_runs([store.exp_a], order_by=order_by)


def test_entities_carry_params_metrics_and_tags(store: Store) -> None:
    (run,) = _search(store, "attributes.run_id = '{r2}'")
    assert run.data.params == {"batch": "64", "lr": "0.01", "optimizer": "sgd"}
    (r1,) = _search(store, "attributes.run_id = '{r1}'")
    assert list(r1.data.params) == ["batch", "lr", "note", "optimizer"]  # keys in code-point order
    assert list(r1.data.tags) == ["my tag", "runyard.runName", "team"]
    assert list(r1.data.metrics) == list(r1.data.metric_summaries) == ["acc", "loss"]
    assert math.isnan(run.data.metrics["loss"]) and run.data.metrics["acc"] == 0.7
    assert run.data.metric_summaries["loss"].min_value == 0.3
    assert run.data.metric_summaries["loss"].count == 2
    assert run.data.tags["team"] == "nlp"
    assert run == store.client.get_run(store.ids["r2"]) or _same_with_nan(
        run, store.client.get_run(store.ids["r2"])
    )


def _same_with_nan(left: object, right: object) -> bool:
    return repr(left) == repr(right)


@pytest.mark.parametrize("bad", [0, 50_001, -1, "10", 2.5, True])
def test_max_results_bounds(store: Store, bad: object) -> None:
    with pytest.raises(InvalidInput, match="max_results"):
        store.client.search_runs([store.exp_a], max_results=bad)  # type: ignore[arg-type]


def test_max_results_limit_is_allowed(store: Store) -> None:
    assert len(store.client.search_runs([store.exp_a], max_results=50_000)) == len(ACTIVE_A)

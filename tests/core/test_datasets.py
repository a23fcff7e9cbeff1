"""Dataset inputs: logged once per (run, dataset, context), read back with runs, searched, kept by dumps."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from runyard import (
    Dataset,
    DatasetInput,
    InputTag,
    InvalidInput,
    InvalidQuery,
    InvalidState,
    RunNotFound,
    SchemaVersionError,
    TrackingClient,
    export_runs,
    import_runs,
)
from runyard.search.evaluate import evaluate
from runyard.search.parser import parse_filter

CONTEXT = "mlflow.data.context"


def _input(
    name: str, digest: str, context: str | None = "training", source: str = "/data/x.csv"
) -> DatasetInput:
    tags = [InputTag(CONTEXT, context)] if context is not None else []
    return DatasetInput(Dataset(name, digest, "local", source, '{"cols": ["a"]}', '{"num_rows": 3}'), tags)


def _count(client: TrackingClient, table: str) -> int:
    from sqlalchemy import text

    with client.store.db.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_inputs_round_trip_once_per_run_dataset_and_context(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("data")
    run_id = client.create_run(experiment_id).info.run_id
    assert client.get_run(run_id).inputs.dataset_inputs == []

    assert client.log_inputs(run_id, [_input("iris", "d1")]) == 1
    assert client.log_inputs(run_id, [_input("iris", "d1")]) == 0  # same data, same purpose: no change
    assert client.log_inputs(run_id, [_input("iris", "d1", context="evaluation")]) == 1
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest, i.context) for i in inputs] == [
        ("iris", "d1", "training"),
        ("iris", "d1", "evaluation"),
    ]
    assert inputs[0].dataset == Dataset(
        "iris", "d1", "local", "/data/x.csv", '{"cols": ["a"]}', '{"num_rows": 3}'
    )
    assert inputs[0].tags == [InputTag(CONTEXT, "training")]
    assert _count(client, "datasets") == 1  # one dataset row, two inputs

    other = client.create_run(experiment_id).info.run_id
    client.log_inputs(
        other, [_input("iris", "d1", source="/elsewhere.csv"), _input("wine", "w9", context=None)]
    )
    found = client.get_run(other).inputs.dataset_inputs
    assert found[0].dataset.source == "/data/x.csv"  # the first record of (name, digest) is kept
    assert found[1].tags == [] and found[1].context is None
    assert _count(client, "datasets") == 2


def test_search_and_get_runs_carry_inputs(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("data")
    with_data = client.create_run(experiment_id).info.run_id
    without = client.create_run(experiment_id).info.run_id
    client.log_inputs(with_data, [_input("iris", "d1")])
    by_id = {run.info.run_id: run for run in client.search_runs([experiment_id])}
    assert [i.dataset.name for i in by_id[with_data].inputs.dataset_inputs] == ["iris"]
    assert by_id[without].inputs.dataset_inputs == []
    assert client.get_runs([with_data])[0].inputs == by_id[with_data].inputs


def test_inputs_of_a_page_are_read_in_a_constant_number_of_queries(client: TrackingClient) -> None:
    from sqlalchemy import event

    experiment_id = client.create_experiment("data")
    for index in range(30):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_inputs(run_id, [_input(f"d{index}", "x"), _input("shared", "y", context="eval")])
    statements: list[str] = []
    engine = client.store.db.engine

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        runs = client.search_runs([experiment_id], max_results=30)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(runs) == 30 and all(len(run.inputs.dataset_inputs) == 2 for run in runs)
    assert sum("input" in statement for statement in statements) <= 3


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ([_input("", "d")], "name is empty"),
        ([_input("n", "x" * 37)], "digest is 37 characters long; the limit is 36"),
        ([_input("n" * 501, "d")], "limit is 500"),
        ([_input("n", "d", context="c" * 501)], "limit is 500"),
        ([DatasetInput(Dataset("n", "d", "local", None), [])], "source is missing"),  # type: ignore[arg-type]
        ([Dataset("n", "d", "local", "s")], "Expected a DatasetInput"),
        ([_input("n", "d")] * 1001, "limit is 1000"),
    ],
)
def test_bad_inputs_are_refused_and_nothing_is_written(
    client: TrackingClient, bad: list, fragment: str
) -> None:  # type: ignore[type-arg]
    run_id = client.create_run(client.create_experiment("data")).info.run_id
    with pytest.raises(InvalidInput, match=fragment) as caught:
        client.log_inputs(run_id, [_input("good", "g"), *bad])
    assert "\n" not in str(caught.value)
    assert client.get_run(run_id).inputs.dataset_inputs == []


def test_inputs_need_a_live_run(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("data")).info.run_id
    with pytest.raises(RunNotFound):
        client.log_inputs("0" * 32, [_input("n", "d")])
    client.delete_run(run_id)
    with pytest.raises(InvalidState, match="trash"):
        client.log_inputs(run_id, [_input("n", "d")])


# ----------------------------------------------------------------------------- search
FILTERS = [
    ("datasets.name = 'iris'", {"a", "b"}),
    ("dataset.name != 'iris'", {"a"}),  # a also has 'wine'; c has no dataset at all
    ("datasets.digest = 'd2'", {"b"}),
    ("datasets.digest IN ('d1', 'zz')", {"a"}),
    ("datasets.digest NOT IN ('d1')", {"a", "b"}),
    ("datasets.name LIKE 'ir%'", {"a", "b"}),
    ("datasets.name LIKE 'IR%'", set()),
    ("datasets.name ILIKE 'IR%'", {"a", "b"}),
    ("datasets.context = 'training'", {"a", "b"}),
    ("datasets.context = 'eval'", {"a"}),
    ("datasets.context != 'training'", {"a"}),
    ("NOT datasets.context = 'eval'", {"b", "c"}),
    ("datasets.name = 'iris' AND datasets.digest = 'd2'", {"b"}),
    ("datasets.name = 'wine' OR params.lr = '0.3'", {"a", "c"}),
    ("NOT (datasets.name = 'iris') AND params.lr != '0.1'", {"c"}),
    ("datasets.name = 'it''s'", set()),
    ("datasets.name = '1'' OR ''1''=''1'", set()),
]


@pytest.fixture
def seeded(client: TrackingClient) -> tuple[TrackingClient, str, dict[str, str]]:
    experiment_id = client.create_experiment("search")
    ids = {}
    for name, lr in (("a", "0.1"), ("b", "0.2"), ("c", "0.3")):
        ids[name] = client.create_run(experiment_id, run_name=name).info.run_id
        client.log_params(ids[name], {"lr": lr})
    client.log_inputs(ids["a"], [_input("iris", "d1"), _input("wine", "w1", context="eval")])
    client.log_inputs(ids["b"], [_input("iris", "d2")])
    return client, experiment_id, ids


@pytest.mark.parametrize("filter_string, expected", FILTERS)
def test_dataset_filters_match_the_reference_semantics(
    seeded: tuple[TrackingClient, str, dict[str, str]], filter_string: str, expected: set[str]
) -> None:
    client, experiment_id, ids = seeded
    names = {run_id: name for name, run_id in ids.items()}
    found = {names[run.info.run_id] for run in client.search_runs([experiment_id], filter_string)}
    assert found == expected
    node = parse_filter(filter_string)
    every = client.search_runs([experiment_id])
    assert {names[run.info.run_id] for run in every if evaluate(node, run, 0)} == expected


def _as_mlflow_run(run):  # type: ignore[no-untyped-def]
    from mlflow import entities

    info = entities.RunInfo(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        user_id=run.info.user_id,
        status=run.info.status,
        start_time=run.info.start_time,
        end_time=run.info.end_time,
        lifecycle_stage=run.info.lifecycle_stage,
    )
    data = entities.RunData(params=[entities.Param(k, v) for k, v in run.data.params.items()])
    inputs = entities.RunInputs(
        dataset_inputs=[
            entities.DatasetInput(
                entities.Dataset(**vars(item.dataset)), [entities.InputTag(t.key, t.value) for t in item.tags]
            )
            for item in run.inputs.dataset_inputs
        ]
    )
    return entities.Run(info, data, inputs)


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        (f, e)
        for f, e in FILTERS
        if " OR " not in f and "NOT " not in f.replace("NOT IN", "") and "''" not in f
    ],
)
def test_mlflow_filters_give_mlflows_answers(
    seeded: tuple[TrackingClient, str, dict[str, str]], filter_string: str, expected: set[str]
) -> None:
    from mlflow.utils.search_utils import SearchUtils

    client, experiment_id, ids = seeded
    names = {run_id: name for name, run_id in ids.items()}
    every = [_as_mlflow_run(run) for run in client.search_runs([experiment_id])]
    assert {names[run.info.run_id] for run in SearchUtils.filter(every, filter_string)} == expected


def test_concurrent_writers_of_the_same_input_leave_one(client: TrackingClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    experiment_id = client.create_experiment("data")
    run_ids = [client.create_run(experiment_id).info.run_id for _ in range(2)]
    jobs = [run_ids[index % 2] for index in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        added = list(pool.map(lambda run_id: client.log_inputs(run_id, [_input("iris", "d1")]), jobs))
    assert sum(added) == 2
    assert [len(client.get_run(run_id).inputs.dataset_inputs) for run_id in run_ids] == [1, 1]
    assert _count(client, "datasets") == 1


@pytest.mark.parametrize(
    "filter_string, fragment",
    [
        ("datasets.source = 'x'", "Invalid dataset key 'source'. Valid: name, digest, context"),
        ("datasets.name > 'x'", "Invalid comparator '>' for datasets"),
        ("datasets.name IS NULL", "Invalid comparator 'IS NULL' for datasets"),
    ],
)
def test_bad_dataset_filters_say_what_is_valid(
    seeded: tuple[TrackingClient, str, dict[str, str]], filter_string: str, fragment: str
) -> None:
    client, experiment_id, _ = seeded
    with pytest.raises(InvalidQuery, match=fragment):
        client.search_runs([experiment_id], filter_string)
    with pytest.raises(InvalidQuery, match="cannot be ordered by datasets"):
        client.search_runs([experiment_id], order_by=["datasets.name"])


# ----------------------------------------------------------------------------- schema upgrade
FIXTURE = Path(__file__).parent / "data" / "store_schema_1.sql"


def test_upgrade_of_a_schema_1_store_keeps_its_runs_and_adds_inputs(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from runyard.cli import cli

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # written by the release before datasets existed
        connection.executescript(FIXTURE.read_text())
    connection.close()
    uri = f"sqlite:///{path}"
    with pytest.raises(SchemaVersionError, match="runyard db upgrade"):
        TrackingClient(uri).list_experiments()
    result = CliRunner().invoke(cli, ["db", "upgrade", "--store", uri])
    assert result.exit_code == 0, result.output
    client = TrackingClient(uri, artifact_root=str(tmp_path / "artifacts"))
    experiment = client.get_experiment_by_name("schema-1")
    assert experiment is not None and experiment.tags == {"team": "vision"}
    runs = client.search_runs([experiment.experiment_id], "params.lr = '0.1'")
    assert [run.info.run_name for run in runs] == ["run-0"]
    assert [m.value for m in client.get_metric_history(runs[0].info.run_id, "loss")] == [1.0, 0.5, 1 / 3]
    assert runs[0].inputs.dataset_inputs == []
    client.log_inputs(runs[0].info.run_id, [_input("iris", "d1")])
    assert [
        r.info.run_name for r in client.search_runs([experiment.experiment_id], "datasets.name = 'iris'")
    ] == ["run-0"]


def test_upgrade_from_schema_1_on_every_backend(tracking_uri: str, tmp_path: Path) -> None:
    from runyard.store.db import Database
    from runyard.store.schema import CURRENT_SCHEMA_VERSION, upgrade
    from sqlalchemy import create_engine, text

    client = TrackingClient(tracking_uri, artifact_root=str(tmp_path / "a"))
    run_id = client.create_run(client.create_experiment("x")).info.run_id
    client.store.db.dispose()
    engine = create_engine(tracking_uri)
    with engine.begin() as conn:  # back to the shape of schema 1
        for table in (
            "auth_audit access_tokens experiment_permissions users store_settings run_batches "
            "console_chunks run_models logged_model_metrics logged_model_params logged_model_tags "
            "logged_models input_tags inputs datasets"
        ).split():
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("ALTER TABLE metric_summaries DROP COLUMN recent"))
        conn.execute(text("DROP INDEX ix_runs_overview"))
        conn.execute(text("UPDATE schema_version SET version = 1"))
    engine.dispose()
    database = Database(tracking_uri)
    try:
        assert upgrade(database) == (1, CURRENT_SCHEMA_VERSION)
    finally:
        database.dispose()
    client = TrackingClient(tracking_uri, artifact_root=str(tmp_path / "a"))
    client.log_inputs(run_id, [_input("iris", "d1")])
    assert client.get_run(run_id).inputs.dataset_inputs[0].dataset.name == "iris"


# ----------------------------------------------------------------------------- gc, export and import
def test_gc_removes_inputs_with_their_runs_and_datasets_with_their_experiments(
    client: TrackingClient,
) -> None:
    experiment_id = client.create_experiment("data")
    kept = client.create_run(experiment_id).info.run_id
    purged = client.create_run(experiment_id).info.run_id
    client.log_inputs(kept, [_input("iris", "d1")])
    client.log_inputs(purged, [_input("iris", "d1"), _input("wine", "w1", context="eval")])
    client.delete_run(purged)
    client.gc(run_ids=[purged])
    assert (_count(client, "inputs"), _count(client, "input_tags"), _count(client, "datasets")) == (1, 1, 2)
    assert client.get_run(kept).inputs.dataset_inputs[0].dataset.name == "iris"
    client.delete_experiment(experiment_id)
    client.gc(experiment_ids=[experiment_id])
    assert (_count(client, "inputs"), _count(client, "input_tags"), _count(client, "datasets")) == (0, 0, 0)


def test_export_and_import_keep_inputs(client: TrackingClient, tmp_path: Path) -> None:
    experiment_id = client.create_experiment("data")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_inputs(run_id, [_input("iris", "d1"), _input("wine", "w1", context=None)])
    export_runs(client.tracking_uri, tmp_path / "dump")
    target = f"sqlite:///{tmp_path / 'target.db'}"
    import_runs(target, tmp_path / "dump", artifact_root=str(tmp_path / "target-artifacts"))
    copied = TrackingClient(target).get_run(run_id)
    assert copied.inputs == client.get_run(run_id).inputs


def test_a_dump_written_before_inputs_existed_still_imports(client: TrackingClient, tmp_path: Path) -> None:
    run_id = client.create_run(client.create_experiment("data")).info.run_id
    dump = tmp_path / "dump"
    export_runs(client.tracking_uri, dump)
    manifest = json.loads((dump / "manifest.json").read_text())
    del manifest["files"]["inputs"]
    (dump / "manifest.json").write_text(json.dumps(manifest))
    (dump / "inputs.jsonl").unlink()
    target = f"sqlite:///{tmp_path / 'target.db'}"
    result = import_runs(target, dump, artifact_root=str(tmp_path / "t"))
    assert result.runs_imported == 1
    assert TrackingClient(target).get_run(run_id).inputs.dataset_inputs == []


def test_a_damaged_input_record_refuses_the_whole_dump(client: TrackingClient, tmp_path: Path) -> None:
    from runyard.interop.format import DumpError, write_manifest

    run_id = client.create_run(client.create_experiment("data")).info.run_id
    client.log_inputs(run_id, [_input("iris", "d1")])
    dump = tmp_path / "dump"
    export_runs(client.tracking_uri, dump)
    record = json.loads((dump / "inputs.jsonl").read_text())
    record["dataset"]["digest"] = "x" * 100
    (dump / "inputs.jsonl").write_text(json.dumps(record) + "\n")
    import hashlib

    manifest = json.loads((dump / "manifest.json").read_text())
    data = (dump / "inputs.jsonl").read_bytes()
    manifest["files"]["inputs"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    write_manifest(dump, manifest)
    target = tmp_path / "target.db"
    with pytest.raises(DumpError, match="digest is 100 characters long"):
        import_runs(f"sqlite:///{target}", dump, artifact_root=str(tmp_path / "t"))

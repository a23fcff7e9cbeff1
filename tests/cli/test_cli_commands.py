"""Every `runyard` command through click's CliRunner, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from runyard import Metric, RunNotFound, TrackingClient
from runyard.cli import cli


def local_ms(year: int, month: int, day: int, hour: int = 0) -> int:
    """ms since the epoch of a local wall-clock time."""
    return int(datetime(year, month, day, hour).astimezone().timestamp() * 1000)


@pytest.fixture
def store(tracking_uri: str) -> dict[str, str]:
    """A store with two experiments, a parent with a child, and metrics/params to search on."""
    client = TrackingClient(tracking_uri)
    vision = client.create_experiment("/vision/resnet")
    nlp = client.create_experiment("/nlp/bert")
    ids = {"uri": tracking_uri, "vision": vision, "nlp": nlp}
    plan = [
        ("parent", vision, local_ms(2025, 12, 30), None, 0.95),
        ("child", vision, local_ms(2026, 1, 1), "parent", 0.5),  # exactly at midnight: "at or before"
        ("late", vision, local_ms(2026, 1, 2, 12), None, 0.91),
        ("bert", nlp, local_ms(2026, 1, 3), None, 0.7),
    ]
    for name, experiment_id, start, parent, accuracy in plan:
        run = client.create_run(
            experiment_id, start_time=start, run_name=name, parent_run_id=ids.get(parent or "")
        )
        ids[name] = run.info.run_id
        client.log_batch(
            run.info.run_id, metrics=[Metric("accuracy", accuracy, start, 0)], params={"lr": "0.1"}
        )
        client.set_terminated(run.info.run_id, end_time=start + 65_000)
    return ids


def run_cli(store: dict[str, str] | str | None, *args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke `runyard ARGS --store URI` in-process; never lets an exception escape unnoticed."""
    argv = list(args)
    if store is not None:
        argv += ["--store", store if isinstance(store, str) else store["uri"]]
    result = CliRunner().invoke(cli, argv, env=env)
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"unexpected exception: {result.exception!r}\n{result.output}")
    return result


def one_line_error(result: Result, code: int, *fragments: str) -> None:
    """The command failed with exit status `code` and a one-line `Error: ...` naming the fragments."""
    assert result.exit_code == code, result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0], result.stderr


def stage(uri: str, run_id: str) -> str:
    return TrackingClient(uri).get_run(run_id).info.lifecycle_stage


# ----------------------------------------------------------------------------- runs list / search
def test_runs_list_as_table_csv_and_json(store: dict[str, str]) -> None:
    table = run_cli(store, "runs", "list", "-c", "metrics.accuracy", "-c", "params.lr")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["RUN", "ID"] and "metrics.accuracy" in lines[0]
    assert [line.split()[1] for line in lines[1:]] == ["bert", "late", "child", "parent"]  # newest first
    assert "0.95" in lines[-1] and "/vision/resnet" in lines[-1]
    assert "1m 05s" in lines[-1]  # the duration format of the app (runyard.formatting.format_duration)

    rows = list(csv.DictReader(io.StringIO(run_cli(store, "runs", "list", "--csv").stdout)))
    assert {row["run_name"]: float(row["metrics.accuracy"]) for row in rows} == {
        "parent": 0.95,
        "child": 0.5,
        "late": 0.91,
        "bert": 0.7,
    }
    assert {row["experiment_name"] for row in rows} == {"/vision/resnet", "/nlp/bert"}

    records = json.loads(run_cli(store, "runs", "list", "--json", "-e", "/nlp/bert").stdout)
    assert [(r["run_name"], r["metrics"], r["params"]) for r in records] == [
        ("bert", {"accuracy": 0.7}, {"lr": "0.1"})
    ]
    one_line_error(run_cli(store, "runs", "list", "--csv", "--json"), 2, "--csv")
    one_line_error(run_cli(store, "runs", "list", "-e", "/nope"), 1, "/nope")


def test_json_outputs_write_nan_and_infinities_as_mlflow(store: dict[str, str]) -> None:
    client = TrackingClient(store["uri"])
    points = [
        Metric("up", float("inf"), 1, 0),
        Metric("down", float("-inf"), 1, 0),
        Metric("nan", float("nan"), 1, 0),
    ]
    client.log_batch(store["bert"], metrics=points)
    client.set_experiment_tag(store["nlp"], "team", "nlp")
    for args in (("runs", "list"), ("runs", "search", "-f", "metrics.up > 0")):
        result = run_cli(store, *args, "--json", "-e", "/nlp/bert")
        assert result.exit_code == 0, result.output
        assert "Infinity" in result.stdout and "NaN" in result.stdout
        (record,) = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"bare {name}"))
        assert {key: record["metrics"][key] for key in ("up", "down", "nan")} == {
            "up": "Infinity",
            "down": "-Infinity",
            "nan": "NaN",
        }
        assert record["metrics"]["accuracy"] == 0.7
    experiments = json.loads(run_cli(store, "experiments", "list", "--json").stdout)
    assert any(e["tags"] == {"team": "nlp"} for e in experiments)  # the same encoder writes experiments


def test_runs_search_filter_order_and_limit(store: dict[str, str]) -> None:
    result = run_cli(
        store, "runs", "search", "-f", "metrics.accuracy > 0.9", "-o", "metrics.accuracy ASC", "--json"
    )
    assert result.exit_code == 0, result.output
    assert [r["run_name"] for r in json.loads(result.stdout)] == ["late", "parent"]
    limited = run_cli(store, "runs", "search", "--order-by", "metrics.accuracy DESC", "--max-results", "1")
    assert len(limited.stdout.splitlines()) == 2 and "parent" in limited.stdout
    assert "more runs match" in limited.stderr
    assert "more runs match" not in run_cli(store, "runs", "search", "--max-results", "4").stderr
    empty = run_cli(store, "runs", "search", "-f", "metrics.accuracy > 2")
    assert empty.exit_code == 0 and empty.stdout == ""


def test_invalid_query_prints_the_caret_and_exits_2(store: dict[str, str]) -> None:
    result = run_cli(store, "runs", "search", "-f", "metrics.accuracy >> 0.9")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "metrics.accuracy >> 0.9" in result.stderr and "^" in result.stderr
    assert len(result.stderr.strip().splitlines()) >= 3


# ----------------------------------------------------------------------------- runs delete / restore
def test_delete_and_restore_by_id_with_cascade(store: dict[str, str]) -> None:
    uri = store["uri"]
    deleted = run_cli(store, "runs", "delete", store["parent"])
    assert deleted.exit_code == 0, deleted.output
    assert "Deleted 2 runs" in deleted.stdout and store["child"] in deleted.stdout
    assert (stage(uri, store["parent"]), stage(uri, store["child"])) == ("deleted", "deleted")
    listed = json.loads(run_cli(store, "runs", "list", "--view", "deleted", "--json").stdout)
    assert sorted(r["run_name"] for r in listed) == ["child", "parent"]
    one_line_error(run_cli(store, "runs", "delete", store["parent"]), 1, store["parent"], "already")
    restored = run_cli(store, "runs", "restore", store["parent"])
    assert "Restored 2 runs" in restored.stdout
    assert stage(uri, store["child"]) == "active"
    one_line_error(run_cli(store, "runs", "restore", store["parent"]), 1, "not in the trash")
    one_line_error(run_cli(store, "runs", "delete", "f" * 32), 1, "f" * 32)
    kept = run_cli(store, "runs", "delete", "--no-descendants", "--dry-run", store["parent"])
    assert "Would delete 1 run:" in kept.stdout and stage(uri, store["parent"]) == "active"


def test_delete_before_a_date_and_restore_since(store: dict[str, str]) -> None:
    uri = store["uri"]
    bulk = ["--before", "2026-01-01", "--experiment", "/vision/resnet"]
    dry = run_cli(store, "runs", "delete", *bulk, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Would delete 2 runs" in dry.stdout  # parent, and child at exactly midnight
    assert stage(uri, store["parent"]) == "active"
    one = run_cli(store, "runs", "delete", *bulk, "--max-runs", "1")
    assert "Deleted 1 run " in one.stdout
    assert (stage(uri, store["parent"]), stage(uri, store["child"])) == ("deleted", "active")  # oldest first
    rest = run_cli(store, "runs", "delete", *bulk, "--max-runs", "10000")
    assert "Deleted 1 run " in rest.stdout and stage(uri, store["late"]) == "active"
    zoned = run_cli(store, "runs", "delete", "--before", "2030-01-01T00:00:00Z", "-e", store["vision"])
    assert "Deleted 1 run " in zoned.stdout and stage(uri, store["late"]) == "deleted"
    since = ["--since", "1h", "--experiment", "/vision/resnet"]
    assert "Would restore 3 runs" in run_cli(store, "runs", "restore", *since, "--dry-run").stdout
    assert "Restored 3 runs" in run_cli(store, "runs", "restore", *since).stdout
    assert stage(uri, store["parent"]) == "active"
    future = run_cli(store, "runs", "restore", "--since", "2999-01-01", "-e", "/vision/resnet")
    assert "Restored 0 runs" in future.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--before", "2026-01-01", "-e", "/vision/resnet", "--max-runs", "0"], "--max-runs"),
        (["--before", "2026-01-01", "-e", "/vision/resnet", "--max-runs", "10001"], "--max-runs"),
        (["--before", "2026-01-01"], "--experiment"),
        (["--before", "2026-13-45", "-e", "/vision/resnet"], "not a date"),
        (["--before", "2026-01-01", "-e", "/vision/resnet", "0123"], "not both"),
        ([], "run ids"),
    ],
)
def test_bad_bulk_input_is_a_usage_error(store: dict[str, str], args: list[str], fragment: str) -> None:
    one_line_error(run_cli(store, "runs", "delete", *args), 2, fragment)
    assert stage(store["uri"], store["parent"]) == "active"


# ----------------------------------------------------------------------------- experiments
def test_experiments_create_rename_delete_restore(store: dict[str, str]) -> None:
    uri = store["uri"]
    created = run_cli(store, "experiments", "create", "/vision/vit", "--tag", "owner=ana")
    assert created.exit_code == 0, created.output
    new_id = created.stdout.strip()
    assert TrackingClient(uri).get_experiment(new_id).tags == {"owner": "ana"}
    one_line_error(run_cli(store, "experiments", "create", "/vision/vit"), 1, "already exists")
    one_line_error(run_cli(store, "experiments", "create", "x", "--tag", "novalue"), 2, "KEY=VALUE")

    renamed = run_cli(store, "experiments", "rename", "/vision/vit", "/vision/vit-b16")
    assert "Renamed '/vision/vit' to '/vision/vit-b16'" in renamed.stdout
    folder = run_cli(store, "experiments", "rename", "/vision", "/cv")  # no such experiment: a folder
    assert "Renamed 2 experiments" in folder.stdout and "/vision/resnet -> /cv/resnet" in folder.stdout
    explicit = run_cli(store, "experiments", "rename", "--folder", "/cv", "/vision")
    assert "Renamed 2 experiments" in explicit.stdout
    one_line_error(run_cli(store, "experiments", "rename", "/nothing", "/x"), 1, "/nothing")

    deleted = run_cli(store, "experiments", "delete", "/vision/resnet")
    assert "Moved '/vision/resnet' to the trash" in deleted.stdout
    active = run_cli(store, "experiments", "list").stdout
    assert "/vision/resnet" not in active and "/nlp/bert" in active
    trash = json.loads(run_cli(store, "experiments", "list", "--view", "deleted", "--json").stdout)
    assert [(e["name"], e["lifecycle_stage"], e["active_runs"]) for e in trash] == [
        ("/vision/resnet", "deleted", 3)
    ]
    assert json.loads(run_cli(store, "runs", "list", "--json").stdout)[0]["run_name"] == "bert"
    one_line_error(run_cli(store, "experiments", "create", "/vision/resnet"), 1, "trash")
    one_line_error(run_cli(store, "experiments", "delete", "/nlp/bert", "/vision/resnet"), 1, "already")
    assert "/nlp/bert" in run_cli(store, "experiments", "list").stdout  # nothing changed
    assert "Restored '/vision/resnet'" in run_cli(store, "experiments", "restore", "/vision/resnet").stdout
    assert len(json.loads(run_cli(store, "runs", "list", "--json").stdout)) == 4


# ----------------------------------------------------------------------------- gc, export, db
def test_gc_respects_retention_and_named_runs(store: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    uri = store["uri"]
    run_cli(store, "runs", "delete", store["late"])
    kept = run_cli(store, "gc")
    assert "Removed 0 runs and 0 experiments deleted more than 30d ago." in kept.stdout
    dry = run_cli(store, "gc", "--older-than", "0", "--dry-run")
    assert "Would remove 1 run and 0 experiments" in dry.stdout and store["late"] in dry.stdout
    assert stage(uri, store["late"]) == "deleted"
    one_line_error(run_cli(store, "gc", "--run", store["parent"]), 1, store["parent"], "active")
    one_line_error(run_cli(store, "gc", "--older-than", "thirty"), 2, "30d")
    one_line_error(run_cli(store, "gc", "--older-than", "1d", "--run", store["late"]), 2, "--older-than")
    removed = run_cli(store, "gc", "--older-than", "0")
    assert "Removed 1 run and 0 experiments" in removed.stdout
    with pytest.raises(RunNotFound):
        TrackingClient(uri).get_run(store["late"])

    run_cli(store, "runs", "delete", store["child"])
    assert "Removed 1 run " in run_cli(store, "gc", "--run", store["child"]).stdout
    run_cli(store, "experiments", "delete", "/nlp/bert")
    monkeypatch.setenv("RUNYARD_RETENTION_DAYS", "0")
    swept = run_cli(store, "gc")
    assert "Removed 1 run and 1 experiment deleted more than 0s ago." in swept.stdout
    assert TrackingClient(uri).get_experiment_by_name("/nlp/bert") is None


def test_gc_named_experiment(store: dict[str, str]) -> None:
    one_line_error(run_cli(store, "gc", "--experiment", "/nlp/bert"), 1, "/nlp/bert", "not in the trash")
    run_cli(store, "experiments", "delete", "/nlp/bert")
    dry = run_cli(store, "gc", "-e", "/nlp/bert", "--dry-run")
    assert "Would remove 1 run and 1 experiment." in dry.stdout and store["nlp"] in dry.stdout
    assert "Removed 1 run and 1 experiment." in run_cli(store, "gc", "-e", "/nlp/bert").stdout
    assert "/nlp/bert" not in run_cli(store, "experiments", "list", "--view", "all").stdout


def test_export_csv_writes_the_search(store: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "best.csv"
    result = run_cli(store, "export-csv", str(output), "-f", "metrics.accuracy > 0.9")
    assert result.exit_code == 0, result.output
    assert "Wrote 2 runs" in result.stdout
    rows = list(csv.DictReader(output.open(newline="", encoding="utf-8")))
    assert sorted((row["run_name"], row["run_id"], row["metrics.accuracy"]) for row in rows) == [
        ("late", store["late"], "0.91"),
        ("parent", store["parent"], "0.95"),
    ]
    TrackingClient(store["uri"]).set_tag(store["late"], "team", "vision")
    run_cli(store, "export-csv", str(output), "-f", "metrics.accuracy > 0.9")
    listed = run_cli(store, "runs", "search", "-f", "metrics.accuracy > 0.9", "--csv").stdout
    exported = output.read_text(encoding="utf-8")
    assert exported.replace("\r\n", "\n") == listed  # one shape: `runs list --csv` and export-csv
    assert "tags.team" in exported.splitlines()[0] and "experiment_name" in exported.splitlines()[0]
    one_line_error(run_cli(store, "export-csv", str(output), "-f", "metrics.accuracy >"), 2, "Error")


def test_db_upgrade(store: dict[str, str], tmp_path: Path) -> None:
    assert "already at schema" in run_cli(store, "db", "upgrade").stdout
    missing = tmp_path / "missing.db"
    one_line_error(run_cli(str(missing), "db", "upgrade"), 2, "No runyard store")
    assert not missing.exists()


# ----------------------------------------------------------------------------- stores and errors
def test_read_only_commands_never_create_a_store(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    for args in (["runs", "list"], ["runs", "search"], ["experiments", "list"], ["gc", "--dry-run"]):
        one_line_error(run_cli(str(typo), *args), 2, "No runyard store")
    assert not typo.exists()


def test_store_from_group_option_and_environment(store: dict[str, str]) -> None:
    on_group = CliRunner().invoke(cli, ["--store", store["uri"], "runs", "list", "--json"])
    assert len(json.loads(on_group.stdout)) == 4
    from_env = run_cli(None, "experiments", "list", env={"RUNYARD_TRACKING_URI": store["uri"]})
    assert "/nlp/bert" in from_env.stdout


def test_passwords_are_masked_and_failures_are_one_line(tmp_path: Path) -> None:
    unreachable = "postgresql://tracker:hunter2@127.0.0.1:1/runs"
    result = run_cli(unreachable, "runs", "list")
    one_line_error(result, 2)
    assert "hunter2" not in result.output and "***" in result.output
    garbage = tmp_path / "garbage.db"
    garbage.write_text("this is not a database")
    one_line_error(run_cli(str(garbage), "experiments", "list"), 2)


def test_unexpected_errors_are_one_line(store: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(TrackingClient, "count_runs", boom)
    one_line_error(run_cli(store, "experiments", "list"), 1, "RuntimeError: disk on fire", "RUNYARD_DEBUG")


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = _all_commands(cli)
    assert ("runs", "delete") in commands and ("db", "upgrade") in commands and ("demo",) in commands
    for path in commands:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.stdout, path
    store_commands = [
        ("runs", "list"),
        ("runs", "search"),
        ("runs", "delete"),
        ("runs", "restore"),
        ("experiments", "list"),
        ("experiments", "create"),
        ("experiments", "rename"),
        ("experiments", "delete"),
        ("experiments", "restore"),
        ("gc",),
        ("export-csv",),
        ("db", "upgrade"),
        ("ui",),
        (),
    ]
    for path in store_commands:
        assert "--store" in CliRunner().invoke(cli, [*path, "--help"]).stdout, path

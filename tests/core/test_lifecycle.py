"""Lifecycle rules: trash with cascade, restore symmetry, bulk by time, experiment trash, renames, gc."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import runyard
from runyard import (
    ExperimentExists,
    ExperimentNotFound,
    InvalidInput,
    InvalidState,
    Metric,
    RunNotFound,
    TrackingClient,
)
from runyard.store import lifecycle
from sqlalchemy import func, select

DAY_MS = 86_400_000
T0 = 1_760_000_000_000  # a fixed "now" for the fake clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A fake clock: set clock[0] to move time; every part of runyard reads runyard.clock.now_ms."""
    now = [T0]
    monkeypatch.setattr(runyard.clock, "now_ms", lambda: now[0])
    yield now


def make_run(
    client: TrackingClient, experiment_id: str, name: str, start: int = T0, parent: str | None = None
) -> str:
    run = client.create_run(experiment_id, start_time=start, run_name=name, parent_run_id=parent)
    return run.info.run_id


def stages(client: TrackingClient, *run_ids: str) -> list[str]:
    return [client.get_run(run_id).info.lifecycle_stage for run_id in run_ids]


def family(client: TrackingClient) -> dict[str, str]:
    """parent -> (child1 -> grandchild, child2), plus an unrelated run, in one experiment."""
    experiment_id = client.create_experiment("/team/family")
    ids = {"experiment": experiment_id}
    ids["parent"] = make_run(client, experiment_id, "parent", T0)
    ids["child1"] = make_run(client, experiment_id, "child1", T0 + 1, ids["parent"])
    ids["child2"] = make_run(client, experiment_id, "child2", T0 + 2, ids["parent"])
    ids["grandchild"] = make_run(client, experiment_id, "grandchild", T0 + 3, ids["child1"])
    ids["other"] = make_run(client, experiment_id, "other", T0 + 4)
    return ids


def row_counts(client: TrackingClient) -> dict[str, int]:
    """Rows per table, to check what gc removed (and that failed operations removed nothing)."""
    from runyard.store.models import ALL_TABLES

    with client.store.db.connect() as conn:
        return {
            model.__tablename__: conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()  # type: ignore[attr-defined]
            for model in ALL_TABLES
        }


def rows_of_run(client: TrackingClient, run_pk: int) -> dict[str, int]:
    """Rows per table (every table keyed by run_pk, metric blocks included) that belong to one run."""
    from runyard.store.models import ALL_TABLES

    counts = {}
    with client.store.db.connect() as conn:
        for model in ALL_TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            if "run_pk" in table.c:
                query = select(func.count()).select_from(table).where(table.c.run_pk == run_pk)
                counts[table.name] = conn.execute(query).scalar_one()
    return counts


def snapshot(client: TrackingClient) -> list[tuple[Any, ...]]:
    """Every run's and experiment's lifecycle columns and names: equal before and after a failed operation."""
    from runyard.store.sql_store import experiments_t, runs_t

    with client.store.db.connect() as conn:
        runs = conn.execute(
            select(runs_t.c.run_id, runs_t.c.lifecycle_stage, runs_t.c.deleted_time, runs_t.c.deletion_id)
        ).all()
        experiments = conn.execute(
            select(experiments_t.c.experiment_id, experiments_t.c.name, experiments_t.c.lifecycle_stage)
        ).all()
    return sorted(tuple(r) for r in runs) + sorted(tuple(e) for e in experiments)


# ----------------------------------------------------------------------------- delete / restore
def test_delete_cascades_over_three_generations(client: TrackingClient, clock: list[int]) -> None:
    ids = family(client)
    deleted = client.delete_run(ids["parent"])
    assert set(deleted) == {ids["parent"], ids["child1"], ids["child2"], ids["grandchild"]}
    assert deleted[0] == ids["parent"]
    assert stages(client, ids["parent"], ids["child1"], ids["child2"], ids["grandchild"]) == ["deleted"] * 4
    assert stages(client, ids["other"]) == ["active"]
    assert {client.get_run(run_id).info.deleted_time for run_id in deleted} == {T0}


def test_delete_without_descendants_leaves_children(client: TrackingClient) -> None:
    ids = family(client)
    assert client.delete_run(ids["parent"], delete_descendants=False) == [ids["parent"]]
    assert stages(client, ids["child1"], ids["grandchild"]) == ["active", "active"]


def test_restore_is_the_exact_inverse(client: TrackingClient, clock: list[int]) -> None:
    ids = family(client)
    assert client.delete_run(ids["child2"]) == [ids["child2"]]  # on its own, earlier
    clock[0] += 1000
    client.delete_run(ids["parent"])
    restored = client.restore_run(ids["parent"])
    assert set(restored) == {ids["parent"], ids["child1"], ids["grandchild"]}
    assert stages(client, ids["parent"], ids["child1"], ids["grandchild"]) == ["active"] * 3
    assert stages(client, ids["child2"]) == ["deleted"]  # deleted earlier on its own: stays deleted
    assert client.get_run(ids["parent"]).info.deleted_time is None
    # child2 still restores by itself afterwards
    assert client.restore_run(ids["child2"]) == [ids["child2"]]


def test_restore_a_list_naming_runs_of_two_deletions(client: TrackingClient) -> None:
    ids = family(client)
    assert set(client.delete_run(ids["child1"])) == {ids["child1"], ids["grandchild"]}  # deletion A
    assert set(client.delete_run(ids["parent"])) == {ids["parent"], ids["child2"]}  # deletion B
    assert set(client.restore_run(ids["parent"], dry_run=True)) == {ids["parent"], ids["child2"]}
    restored = client.restore_run([ids["parent"], ids["child1"]])
    assert sorted(restored) == sorted(ids[k] for k in ("parent", "child1", "child2", "grandchild"))
    assert stages(client, ids["parent"], ids["child1"], ids["child2"], ids["grandchild"]) == ["active"] * 4


def test_restore_without_descendants(client: TrackingClient) -> None:
    ids = family(client)
    client.delete_run(ids["parent"])
    assert client.restore_run(ids["parent"], restore_descendants=False) == [ids["parent"]]
    assert stages(client, ids["child1"], ids["child2"], ids["grandchild"]) == ["deleted"] * 3
    # the children still share their deletion: restoring child1 brings back the grandchild
    assert set(client.restore_run(ids["child1"])) == {ids["child1"], ids["grandchild"]}


def test_delete_a_list_with_overlapping_cascades(client: TrackingClient) -> None:
    ids = family(client)
    deleted = client.delete_run([ids["grandchild"], ids["parent"], ids["child1"], ids["other"]])
    assert sorted(deleted) == sorted([ids[k] for k in ("parent", "child1", "child2", "grandchild", "other")])
    assert len(deleted) == len(set(deleted))
    restored = client.restore_run([ids["child1"], ids["parent"]])
    assert sorted(restored) == sorted([ids[k] for k in ("parent", "child1", "child2", "grandchild")])
    assert stages(client, ids["other"]) == ["deleted"]  # not a descendant of anything restored


def test_delete_and_restore_errors_name_the_run_and_change_nothing(client: TrackingClient) -> None:
    ids = family(client)
    client.delete_run(ids["other"])
    before = snapshot(client)
    with pytest.raises(InvalidState, match=ids["other"]) as already:
        client.delete_run([ids["parent"], ids["other"]])
    assert isinstance(already.value, ValueError)
    missing = "0" * 32
    with pytest.raises(RunNotFound, match=missing) as not_found:
        client.delete_run([ids["parent"], missing])
    assert isinstance(not_found.value, KeyError)
    with pytest.raises(InvalidState, match=ids["parent"]):
        client.restore_run([ids["other"], ids["parent"]])
    with pytest.raises(RunNotFound):
        client.restore_run(missing)
    with pytest.raises(InvalidInput):
        client.delete_run([])
    assert snapshot(client) == before


def test_delete_run_dry_run_reports_the_cascade_and_changes_nothing(client: TrackingClient) -> None:
    ids = family(client)
    before = snapshot(client)
    assert len(client.delete_run(ids["parent"], dry_run=True)) == 4
    assert snapshot(client) == before


# ----------------------------------------------------------------------------- bulk by time
def test_delete_runs_by_time_oldest_first_with_max_runs(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("bulk")
    run_ids = [make_run(client, experiment_id, f"r{i}", start=1000 * i) for i in range(1, 6)]
    before = snapshot(client)
    assert client.delete_runs(experiment_id, 3000, dry_run=True) == 3
    assert snapshot(client) == before
    assert client.delete_runs(experiment_id, 3000, max_runs=1) == 1
    assert stages(client, *run_ids) == ["deleted", "active", "active", "active", "active"]
    assert client.delete_runs(experiment_id, 3000, max_runs=10_000) == 2  # at or before 3000
    assert stages(client, *run_ids) == ["deleted"] * 3 + ["active"] * 2
    assert client.delete_runs(experiment_id, 3000) == 0


@pytest.mark.parametrize("max_runs", [0, 10_001, -1, True, 2.5])
def test_bulk_max_runs_out_of_range_is_rejected(client: TrackingClient, max_runs: Any) -> None:
    experiment_id = client.create_experiment("bulk")
    run_id = make_run(client, experiment_id, "r", start=1)
    with pytest.raises(InvalidInput, match="1 to 10000"):
        client.delete_runs(experiment_id, 10, max_runs=max_runs)
    with pytest.raises(InvalidInput, match="1 to 10000"):
        client.restore_runs(experiment_id, 0, max_runs=max_runs)
    assert stages(client, run_id) == ["active"]


def test_bulk_operations_do_not_cascade(client: TrackingClient, clock: list[int]) -> None:
    experiment_id = client.create_experiment("bulk")
    parent = make_run(client, experiment_id, "parent", start=1000)
    child = make_run(client, experiment_id, "child", start=5000, parent=parent)
    assert client.delete_runs(experiment_id, 2000) == 1
    assert stages(client, parent, child) == ["deleted", "active"]
    client.delete_run(child)
    assert client.restore_runs(experiment_id, 0) == 2
    assert stages(client, parent, child) == ["active", "active"]


def test_restore_runs_since_a_time(client: TrackingClient, clock: list[int]) -> None:
    experiment_id = client.create_experiment("bulk")
    early = make_run(client, experiment_id, "early", start=1)
    late = [make_run(client, experiment_id, f"late{i}", start=2 + i) for i in range(3)]
    client.delete_run(early)
    clock[0] += DAY_MS
    client.delete_run(late)
    before = snapshot(client)
    assert client.restore_runs(experiment_id, T0 + DAY_MS, dry_run=True) == 3
    assert snapshot(client) == before
    assert client.restore_runs(experiment_id, T0 + DAY_MS, max_runs=1) == 1
    assert client.restore_runs(experiment_id, T0 + DAY_MS) == 2  # at or after
    assert stages(client, early, *late) == ["deleted", "active", "active", "active"]
    with pytest.raises(ExperimentNotFound):
        client.restore_runs("no-such-experiment", 0)


# ----------------------------------------------------------------------------- experiments
def test_experiment_trash_hides_its_runs_and_keeps_its_name(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("/vision/resnet")
    keep_id = client.create_experiment("/vision/keep")
    run_id = make_run(client, experiment_id, "r1")
    other = make_run(client, keep_id, "r2")
    client.delete_experiment(experiment_id)
    assert [e.name for e in client.list_experiments("ACTIVE_ONLY")] == ["/vision/keep"]
    assert [e.name for e in client.list_experiments("DELETED_ONLY")] == ["/vision/resnet"]
    assert len(client.list_experiments("ALL")) == 2
    found = client.search_runs([experiment_id, keep_id], run_view_type="ACTIVE_ONLY")
    assert [r.info.run_id for r in found] == [other]
    assert stages(client, run_id) == ["active"]  # the run itself is untouched
    with pytest.raises(ExperimentExists, match="trash"):
        client.create_experiment("/vision/resnet")
    with pytest.raises(InvalidState):
        client.delete_experiment(experiment_id)
    client.restore_experiment(experiment_id)
    found = client.search_runs([experiment_id, keep_id], run_view_type="ACTIVE_ONLY")
    assert sorted(r.info.run_id for r in found) == sorted([run_id, other])
    assert client.get_experiment(experiment_id).deleted_time is None
    with pytest.raises(InvalidState):
        client.restore_experiment(experiment_id)
    with pytest.raises(ExperimentNotFound):
        client.delete_experiment("nope")


def test_rename_experiment_folder_moves_everything_under_the_prefix(client: TrackingClient) -> None:
    names = ["/vision", "/vision/resnet", "/vision/sub/vit", "/visionary", "/nlp/bert"]
    ids = {name: client.create_experiment(name) for name in names}
    client.delete_experiment(ids["/vision/sub/vit"])  # trashed experiments move too (names stay reserved)
    mapping = client.rename_experiment_folder("/vision/", "/cv")
    assert mapping == {"/vision": "/cv", "/vision/resnet": "/cv/resnet", "/vision/sub/vit": "/cv/sub/vit"}
    assert client.get_experiment(ids["/vision/resnet"]).name == "/cv/resnet"
    assert client.get_experiment(ids["/vision/sub/vit"]).name == "/cv/sub/vit"
    assert client.get_experiment(ids["/visionary"]).name == "/visionary"
    # moving a folder into itself works (names inside the folder may swap)
    client.rename_experiment_folder("/cv", "/cv/cv")
    assert client.get_experiment(ids["/vision"]).name == "/cv/cv"
    assert client.get_experiment(ids["/vision/resnet"]).name == "/cv/cv/resnet"


def test_rename_experiment_folder_clash_renames_nothing(client: TrackingClient) -> None:
    for name in ["/vision/resnet", "/vision/vit", "/cv/vit"]:
        client.create_experiment(name)
    before = snapshot(client)
    with pytest.raises(ExperimentExists, match="/cv/vit"):
        client.rename_experiment_folder("/vision", "/cv")
    with pytest.raises(ExperimentNotFound):
        client.rename_experiment_folder("/nothing", "/cv")
    with pytest.raises(InvalidInput):
        client.rename_experiment_folder("/", "/cv")
    assert snapshot(client) == before


def test_module_level_api(tracking_uri: str) -> None:
    runyard.set_tracking_uri(tracking_uri)
    experiment_id = runyard.create_experiment("/mod/a")
    runyard.set_experiment(experiment_id=experiment_id)
    with runyard.start_run(run_name="parent") as parent:
        with runyard.start_run(run_name="child", nested=True) as child:
            pass
    assert set(runyard.delete_run(parent.info.run_id)) == {parent.info.run_id, child.info.run_id}
    assert set(runyard.restore_run(parent.info.run_id)) == {parent.info.run_id, child.info.run_id}
    runyard.rename_run(child.info.run_id, "renamed")
    assert runyard.get_run(child.info.run_id).info.run_name == "renamed"
    runyard.rename_experiment(experiment_id, "/mod/b")
    assert runyard.rename_experiment_folder("/mod", "/m") == {"/mod/b": "/m/b"}
    assert runyard.delete_runs(experiment_id, 2**62, dry_run=True) == 2
    runyard.delete_experiment(experiment_id)
    runyard.restore_experiment(experiment_id)
    assert runyard.restore_runs(experiment_id, 0) == 0
    assert runyard.gc(run_ids=[]).run_ids == []


# ----------------------------------------------------------------------------- gc
def logged_run(client: TrackingClient, experiment_id: str, name: str, tmp_path: Path) -> tuple[str, Path]:
    """A run with params, metrics, tags and an artifact file; returns its id and artifact directory."""
    run_id = make_run(client, experiment_id, name)
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 1.0 / (step + 1), T0 + step, step) for step in range(5)],
        params={"lr": "0.1"},
        tags={"team": "vision"},
    )
    client.log_text(run_id, "hello", "notes/readme.txt")
    directory = Path(client.get_run(run_id).info.artifact_uri)
    assert (directory / "notes" / "readme.txt").is_file()
    return run_id, directory


def test_gc_honours_retention_and_removes_everything(
    client: TrackingClient, clock: list[int], tmp_path: Path
) -> None:
    experiment_id = client.create_experiment("gc")
    doomed, doomed_dir = logged_run(client, experiment_id, "doomed", tmp_path)
    kept, kept_dir = logged_run(client, experiment_id, "kept", tmp_path)
    empty = row_counts(client)
    doomed_pk, kept_pk = client.store.run_pk(doomed), client.store.run_pk(kept)
    kept_rows = rows_of_run(client, kept_pk)
    assert rows_of_run(client, doomed_pk) == kept_rows
    assert all(kept_rows[table] > 0 for table in ("params", "tags", "metrics", "metric_summaries"))
    client.delete_run(doomed)
    assert doomed_dir.is_dir()  # deleting keeps the artifacts: only gc removes them
    clock[0] = T0 + 29 * DAY_MS
    assert client.gc().run_ids == []
    assert doomed_dir.is_dir()
    assert client.retention_days == 30
    clock[0] = T0 + 31 * DAY_MS
    assert client.gc(dry_run=True).run_ids == [doomed]
    assert doomed_dir.is_dir() and stages(client, doomed) == ["deleted"]
    result = client.gc()
    assert result.run_ids == [doomed] and result.experiment_ids == []
    with pytest.raises(RunNotFound):
        client.get_run(doomed)
    assert not doomed_dir.exists() and not doomed_dir.parent.exists()
    assert kept_dir.is_dir() and client.get_run(kept).data.params == {"lr": "0.1"}
    assert row_counts(client)["runs"] == empty["runs"] - 1
    assert set(rows_of_run(client, doomed_pk).values()) == {0}  # every table keyed by run_pk
    assert rows_of_run(client, kept_pk) == kept_rows


def test_gc_older_than_and_retention_setting(
    client: TrackingClient, clock: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment_id = client.create_experiment("gc")
    run_id = make_run(client, experiment_id, "r")
    client.delete_run(run_id)
    clock[0] = T0 + 2 * 3_600_000
    assert client.gc(older_than="3h").run_ids == []
    assert client.gc(older_than="90m", dry_run=True).run_ids == [run_id]
    monkeypatch.setenv("RUNYARD_RETENTION_DAYS", "0.05")  # 72 minutes
    assert client.retention_days == 0.05
    assert client.gc().run_ids == [run_id]
    with pytest.raises(InvalidInput, match="30d"):
        client.gc(older_than="thirty days")


def test_gc_named_runs_whatever_their_age(client: TrackingClient, clock: list[int], tmp_path: Path) -> None:
    experiment_id = client.create_experiment("gc")
    young, young_dir = logged_run(client, experiment_id, "young", tmp_path)
    active, active_dir = logged_run(client, experiment_id, "active", tmp_path)
    client.delete_run(young)
    before = row_counts(client)
    with pytest.raises(InvalidState, match=active):
        client.gc(run_ids=[young, active])
    with pytest.raises(RunNotFound):
        client.gc(run_ids=[young, "f" * 32])
    assert row_counts(client) == before and young_dir.is_dir() and active_dir.is_dir()
    assert client.gc(run_ids=[young]).run_ids == [young]
    assert not young_dir.exists() and active_dir.is_dir()


def test_gc_removes_old_trashed_experiments_with_all_their_runs(
    client: TrackingClient, clock: list[int], tmp_path: Path
) -> None:
    experiment_id = client.create_experiment("/old/exp", tags={"owner": "ana"})
    run_id, artifact_dir = logged_run(client, experiment_id, "r", tmp_path)
    client.delete_experiment(experiment_id)
    clock[0] = T0 + 10 * DAY_MS
    assert client.gc().experiment_ids == []
    assert artifact_dir.is_dir()  # the trash keeps files: only gc removes them
    with pytest.raises(InvalidState):
        client.gc(experiment_ids=[client.create_experiment("/alive")])
    clock[0] = T0 + 40 * DAY_MS
    result = client.gc()
    assert (result.experiment_ids, result.run_ids) == ([experiment_id], [run_id])
    assert not artifact_dir.exists()
    counts = row_counts(client)
    assert counts["experiment_tags"] == 0 and counts["runs"] == 0 and counts["metrics"] == 0
    client.create_experiment("/old/exp")  # the name is free again


def test_runs_of_a_trashed_experiment_count_as_trashed(client: TrackingClient, tmp_path: Path) -> None:
    experiment_id = client.create_experiment("/hidden")
    run_id, artifact_dir = logged_run(client, experiment_id, "r", tmp_path)
    client.delete_experiment(experiment_id)
    deleted = client.search_runs([experiment_id], run_view_type="DELETED_ONLY")
    assert [r.info.run_id for r in deleted] == [run_id]
    with pytest.raises(InvalidState, match="restore the experiment"):
        client.restore_run(run_id)
    assert client.gc(run_ids=[run_id]).run_ids == [run_id]  # the TUI's purge of a row in the trash view
    assert not artifact_dir.exists()
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"


def test_gc_named_experiment(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("/x")
    run_id = make_run(client, experiment_id, "r")
    client.delete_experiment(experiment_id)
    result = client.gc(experiment_ids=[experiment_id])
    assert (result.experiment_ids, result.run_ids) == ([experiment_id], [run_id])
    with pytest.raises(ExperimentNotFound):
        client.get_experiment(experiment_id)


# ----------------------------------------------------------------------------- one transaction each
def fail_on_call(monkeypatch: pytest.MonkeyPatch, name: str, call: int) -> None:
    """Make lifecycle.<name> raise on its `call`-th use (the first calls go through)."""
    original: Callable[..., Any] = getattr(lifecycle, name)
    calls = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] >= call:
            raise RuntimeError("simulated crash")
        return original(*args, **kwargs)

    monkeypatch.setattr(lifecycle, name, failing)


def fail_on_update(monkeypatch: pytest.MonkeyPatch, failing_call: int) -> list[int]:
    """Make the n-th UPDATE statement of lifecycle raise (the earlier ones run); returns the call count."""
    real_update = lifecycle.update
    calls = [0]

    def failing_update(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == failing_call:
            raise RuntimeError("simulated crash")
        return real_update(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "update", failing_update)
    return calls


def test_delete_of_a_list_is_one_transaction(client: TrackingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = family(client)
    before = snapshot(client)
    monkeypatch.setattr(lifecycle, "STAGE_CHUNK", 1)  # one UPDATE per run: 5 statements
    calls = fail_on_update(monkeypatch, 5)
    with pytest.raises(RuntimeError):
        client.delete_run([ids["parent"], ids["other"]])
    assert calls == [5]  # four runs were updated before the crash...
    assert snapshot(client) == before  # ...and rolled back


def test_restore_of_a_list_is_one_transaction(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = family(client)
    client.delete_run([ids["parent"], ids["other"]])
    before = snapshot(client)
    monkeypatch.setattr(lifecycle, "STAGE_CHUNK", 1)
    calls = fail_on_update(monkeypatch, 5)
    with pytest.raises(RuntimeError):
        client.restore_run([ids["parent"], ids["other"]])
    assert calls == [5] and snapshot(client) == before


def test_gc_is_one_transaction_and_keeps_files_on_failure(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    experiment_id = client.create_experiment("/gone")
    run_id, artifact_dir = logged_run(client, experiment_id, "r", tmp_path)
    client.delete_experiment(experiment_id)
    before = row_counts(client)
    fail_on_call(monkeypatch, "_purge_experiments", 1)  # runs are purged first, then this fails
    with pytest.raises(RuntimeError):
        client.gc(experiment_ids=[experiment_id])
    assert row_counts(client) == before
    assert artifact_dir.is_dir() and stages(client, run_id) == ["active"]


def test_rename_folder_is_one_transaction(client: TrackingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ["/a/one", "/a/two"]:
        client.create_experiment(name)
    before = snapshot(client)
    fail_on_update(monkeypatch, 4)  # two placeholder names, then the final names: the second fails
    with pytest.raises(RuntimeError):
        client.rename_experiment_folder("/a", "/b")
    assert snapshot(client) == before

"""Export, import and copy between runyard stores: every field survives, bad dumps are refused whole."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import runyard
from click.testing import CliRunner
from runyard import InvalidState, Metric, TrackingClient, UnsafeArtifactPath
from runyard.cli import cli
from runyard.interop import dump as dump_module
from runyard.interop.format import DumpError
from runyard.store.sql_store import runs_t
from sqlalchemy import select

NAN, INF = float("nan"), float("inf")


def _seed(client: TrackingClient, tmp_path: Path) -> dict[str, str]:
    """A store with two experiments, nested runs, a deleted run, odd metric values and artifacts."""
    vision = client.create_experiment("/team/vision", tags={"owner": "ana", "runyard.note.content": "notes"})
    other = client.create_experiment("other")
    parent = client.create_run(vision, run_name="parent", start_time=1_000, tags={"k": "v"}).info.run_id
    child = client.create_run(vision, run_name="child", parent_run_id=parent, start_time=2_000).info.run_id
    gone = client.create_run(other, run_name="gone", start_time=3_000).info.run_id
    values = [1.0, NAN, INF, -INF, 0.5, 0.25, 0.25]
    client.log_batch(
        parent,
        metrics=[Metric("loss", v, 10_000 + i, i) for i, v in enumerate(values)]
        + [Metric("loss", 7.0, 10_000, 3)]  # a second point at step 3: both are kept
        + [Metric("acc", float(i) / 10, 20_000 + i, i * 2) for i in range(8)],
        params={"lr": "0.01", "layers": "4"},
        tags={"stage": "train"},
    )
    client.log_batch(child, metrics=[Metric("loss", NAN, 5, 0)], params={"seed": "7"})
    client.log_batch(gone, metrics=[Metric("x", 1.5, 1, 1)])
    client.log_text(parent, "hello", "notes/readme.txt")
    client.log_text(parent, "{}", "config.json")
    source = tmp_path / "blob.bin"
    source.write_bytes(bytes(range(256)) * 10)
    client.log_artifact(child, source, "data")
    client.set_terminated(parent, "FINISHED", end_time=50_000)
    client.set_terminated(gone, "FAILED", end_time=60_000)
    client.delete_run(gone)
    return {"vision": vision, "other": other, "parent": parent, "child": child, "gone": gone}


def _all_run_ids(client: TrackingClient) -> list[str]:
    with client.store.db.connect() as conn:
        return sorted(row[0] for row in conn.execute(select(runs_t.c.run_id)))


def _nan_safe(value: float) -> Any:
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def snapshot(client: TrackingClient) -> dict[str, Any]:
    """Everything a user could look at in a store, with store-specific artifact locations left out."""
    experiments = {
        e.name: (e.experiment_id, e.lifecycle_stage, e.creation_time, e.deleted_time, e.tags)
        for e in client.list_experiments("ALL")
    }
    runs: dict[str, Any] = {}
    for run_id in _all_run_ids(client):
        run = client.get_run(run_id)
        info = {k: v for k, v in vars(run.info).items() if k != "artifact_uri"}
        summaries = {
            key: tuple(_nan_safe(v) for v in vars(s).values()) for key, s in run.data.metric_summaries.items()
        }
        histories = {
            key: [(m.step, m.timestamp, _nan_safe(m.value)) for m in client.get_metric_history(run_id, key)]
            for key in run.data.metric_summaries
        }
        root = Path(run.info.artifact_uri)
        artifacts = {
            p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }
        runs[run_id] = (info, run.data.params, run.data.tags, summaries, histories, artifacts)
    return {"experiments": experiments, "runs": runs}


@pytest.fixture
def source(tmp_path: Path) -> tuple[TrackingClient, dict[str, str]]:
    client = TrackingClient(f"sqlite:///{tmp_path / 'source.db'}", artifact_root=str(tmp_path / "source-art"))
    return client, _seed(client, tmp_path)


def test_round_trip_keeps_every_field(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path
) -> None:
    src, ids = source
    exported = runyard.export_runs(src.tracking_uri, tmp_path / "dump", include_deleted=True)
    assert exported.counts["runs"] == 3 and exported.metric_points == 18
    result = runyard.import_runs(client.tracking_uri, tmp_path / "dump", artifact_root=str(tmp_path / "art2"))
    assert (result.runs_imported, result.runs_skipped, result.metric_points) == (3, 0, 18)
    assert snapshot(client) == snapshot(src)
    child = client.get_run(ids["child"])
    assert child.info.parent_run_id == ids["parent"]
    gone = client.get_run(ids["gone"])
    assert gone.info.lifecycle_stage == "deleted" and gone.info.deleted_time is not None
    # Artifact URIs point into the target's artifact root, not the source's.
    assert child.info.artifact_uri.startswith(str(tmp_path / "art2"))
    history = client.get_metric_history(ids["parent"], "loss")  # timestamp order, as MLflow
    loss = [m.value for m in sorted(history, key=lambda m: (m.step, m.timestamp))]
    assert math.isnan(loss[1]) and loss[2] == INF and loss[3:5] == [7.0, -INF]
    summary = client.get_run(ids["parent"]).data.metric_summaries["loss"]
    assert (summary.min_value, summary.max_value, summary.count) == (-INF, INF, 8)


def test_import_again_changes_nothing(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path
) -> None:
    src, _ = source
    runyard.export_runs(src.tracking_uri, tmp_path / "dump", include_deleted=True)
    runyard.import_runs(client.tracking_uri, tmp_path / "dump")
    before = snapshot(client)
    again = runyard.import_runs(client.tracking_uri, tmp_path / "dump")
    assert (again.runs_imported, again.runs_skipped, again.metric_points) == (0, 3, 0)
    assert (again.experiments_created, again.experiments_reused) == (0, 2)
    assert snapshot(client) == before


def test_metric_chunks_split_long_histories(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path, monkeypatch: Any
) -> None:
    src, ids = source
    monkeypatch.setattr(dump_module, "CHUNK_POINTS", 3)
    runyard.export_runs(src.tracking_uri, tmp_path / "dump", include_deleted=True)
    lines = (tmp_path / "dump" / "metrics.jsonl").read_text().splitlines()
    assert max(len(json.loads(line)["step"]) for line in lines) == 3
    runyard.import_runs(client.tracking_uri, tmp_path / "dump")
    assert snapshot(client) == snapshot(src)


def test_on_conflict_fail_writes_nothing(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path
) -> None:
    src, ids = source
    runyard.export_runs(src.tracking_uri, tmp_path / "all", include_deleted=True)
    runyard.export_runs(
        src.tracking_uri, tmp_path / "other", experiment_names=["other"], include_deleted=True
    )
    runyard.import_runs(client.tracking_uri, tmp_path / "other")
    before = snapshot(client)
    with pytest.raises(InvalidState, match="already exist"):
        runyard.import_runs(client.tracking_uri, tmp_path / "all", on_conflict="fail")
    assert snapshot(client) == before
    assert "/team/vision" not in before["experiments"]


def test_export_selects_experiments_and_leaves_trash_out_by_default(
    source: tuple[TrackingClient, dict[str, str]], tmp_path: Path
) -> None:
    src, ids = source
    result = runyard.export_runs(src.tracking_uri, tmp_path / "d1", experiment_names=["/team/vision"])
    runs = [json.loads(line)["run_id"] for line in (tmp_path / "d1" / "runs.jsonl").read_text().splitlines()]
    assert sorted(runs) == sorted([ids["parent"], ids["child"]])
    assert result.counts["experiments"] == 1
    active = runyard.export_runs(src.tracking_uri, tmp_path / "d2")
    assert active.counts["runs"] == 2
    with pytest.raises(runyard.InvalidInput, match="not empty"):
        runyard.export_runs(src.tracking_uri, tmp_path / "d2")
    filtered = runyard.export_runs(src.tracking_uri, tmp_path / "d4", filter_string="params.lr = '0.01'")
    assert filtered.counts["runs"] == 1 and filtered.metric_points == 16
    with pytest.raises(runyard.ExperimentNotFound, match="nope"):
        runyard.export_runs(src.tracking_uri, tmp_path / "d3", experiment_names=["nope"])


def _rewrite(dump: Path, kind: str, transform: Any) -> None:
    """Change records of one file and fix its checksum, so only the content check can object."""
    path = dump / f"{kind}.jsonl"
    records = [transform(json.loads(line)) for line in path.read_text().splitlines()]
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    path.write_bytes(data)
    manifest = json.loads((dump / "manifest.json").read_text())
    manifest["files"][kind].update(sha256=hashlib.sha256(data).hexdigest(), count=len(records))
    (dump / "manifest.json").write_text(json.dumps(manifest))


def _assert_refused(client: TrackingClient, dump: Path, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        runyard.import_runs(client.tracking_uri, dump)
    if client.store.db.is_missing():
        return  # a new SQLite store was not even created
    assert _all_run_ids(client) == []
    assert [e.name for e in client.list_experiments("ALL")] == []


@pytest.mark.parametrize("bad_path", ["../../escape.txt", "/etc/passwd", "notes/../../x"])
def test_artifact_path_escaping_the_run_is_refused_before_writing(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path, bad_path: str
) -> None:
    src, _ = source
    dump = tmp_path / "dump"
    runyard.export_runs(src.tracking_uri, dump, include_deleted=True)

    def evil(record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "path": bad_path} if record["path"] == "config.json" else record

    _rewrite(dump, "artifacts", evil)
    _assert_refused(client, dump, UnsafeArtifactPath, "artifact path")
    assert not (tmp_path / "escape.txt").exists()


def test_damaged_or_foreign_dumps_are_refused(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path
) -> None:
    src, _ = source
    dump = tmp_path / "dump"
    runyard.export_runs(src.tracking_uri, dump, include_deleted=True)
    manifest_text = (dump / "manifest.json").read_text()
    metrics = (dump / "metrics.jsonl").read_bytes()
    (dump / "metrics.jsonl").write_bytes(metrics.replace(b'"step":[0,', b'"step":[9,', 1))
    _assert_refused(client, dump, DumpError, "checksum")
    (dump / "metrics.jsonl").write_bytes(metrics)

    (dump / "manifest.json").write_text(manifest_text.replace('"format_version": 1', '"format_version": 99'))
    _assert_refused(client, dump, DumpError, "format version 99")
    (dump / "manifest.json").write_text(manifest_text)

    artifact = next((dump / "artifacts").rglob("readme.txt"))
    artifact.write_text("tampered")
    _assert_refused(client, dump, DumpError, "checksum")
    artifact.write_text("hello")

    (dump / "manifest.json").unlink()
    _assert_refused(client, dump, DumpError, "no manifest.json")


def test_bad_records_are_refused_with_the_reason(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path
) -> None:
    src, ids = source
    dump = tmp_path / "dump"
    runyard.export_runs(src.tracking_uri, dump, include_deleted=True)
    _rewrite(dump, "runs", lambda r: {**r, "status": "EXPLODED"} if r["run_id"] == ids["child"] else r)
    _assert_refused(client, dump, DumpError, "unknown status 'EXPLODED'")


def test_existing_experiment_is_reused_by_name_and_id_clash_is_reported(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path
) -> None:
    src, ids = source
    reused = client.create_experiment("/team/vision")
    runyard.export_runs(src.tracking_uri, tmp_path / "dump", include_deleted=True)
    # The target already uses the id of "other" for a different experiment.
    client.store.create_experiment("squatter", experiment_id=ids["other"])
    result = runyard.import_runs(client.tracking_uri, tmp_path / "dump")
    assert client.get_run(ids["parent"]).info.experiment_id == reused
    moved = client.get_experiment_by_name("other")
    assert moved is not None and moved.experiment_id != ids["other"]
    assert client.get_run(ids["gone"]).info.experiment_id == moved.experiment_id
    assert any("already used by experiment 'squatter'" in note for note in result.notes)


def test_copy_runs_between_stores(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient
) -> None:
    src, _ = source
    result = runyard.copy_runs(src.tracking_uri, client.tracking_uri)
    assert result.runs_imported == 3
    assert snapshot(client) == snapshot(src)


def test_cli_export_import_copy(source: tuple[TrackingClient, dict[str, str]], tmp_path: Path) -> None:
    src, ids = source
    group = cli
    runner = CliRunner()
    dump = tmp_path / "dump"
    out = runner.invoke(group, ["export", "--store", src.tracking_uri, "--include-deleted", str(dump)])
    assert out.exit_code == 0, out.output
    assert "Exported 3 run(s) of 2 experiment(s) with 18 metric points" in out.output
    target = f"sqlite:///{tmp_path / 'target.db'}"
    out = runner.invoke(group, ["import", "--store", target, str(dump)])
    assert out.exit_code == 0 and "Imported 3 run(s)" in out.output, out.output
    out = runner.invoke(group, ["import", "--store", target, "--on-conflict", "fail", str(dump)])
    assert out.exit_code == 1 and "already exist" in out.output
    copied = f"sqlite:///{tmp_path / 'copy.db'}"
    out = runner.invoke(group, ["copy", "--from", src.tracking_uri, "--to", copied, "--active-only"])
    assert out.exit_code == 0 and "Imported 2 run(s)" in out.output, out.output
    assert TrackingClient(copied).get_run(ids["parent"]).data.params == {"layers": "4", "lr": "0.01"}


def test_export_from_every_backend(client: TrackingClient, tmp_path: Path, monkeypatch: Any) -> None:
    ids = _seed(client, tmp_path)
    monkeypatch.setattr(dump_module, "CHUNK_POINTS", 2)  # several chunks through the streaming cursor
    target = TrackingClient(f"sqlite:///{tmp_path / 'copy.db'}", artifact_root=str(tmp_path / "copy-art"))
    result = runyard.copy_runs(
        client.tracking_uri, target.tracking_uri, artifact_root=str(tmp_path / "copy-art")
    )
    assert result.runs_imported == 3
    assert snapshot(target) == snapshot(client)
    assert target.get_run(ids["gone"]).info.lifecycle_stage == "deleted"


def test_interrupted_import_leaves_whole_runs_and_resumes(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path, monkeypatch: Any
) -> None:
    from runyard.interop import load

    src, _ = source
    runyard.export_runs(src.tracking_uri, tmp_path / "dump", include_deleted=True)
    real_copy = load._copy_artifacts
    calls = []

    def failing_copy(*args: Any) -> int:
        calls.append(args)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_copy(*args)

    monkeypatch.setattr(load, "_copy_artifacts", failing_copy)
    with pytest.raises(OSError, match="disk full"):
        runyard.import_runs(client.tracking_uri, tmp_path / "dump")
    assert len(_all_run_ids(client)) == 1  # the failed run was rolled back whole: no params, no points
    monkeypatch.setattr(load, "_copy_artifacts", real_copy)
    resumed = runyard.import_runs(client.tracking_uri, tmp_path / "dump")
    assert (resumed.runs_imported, resumed.runs_skipped) == (2, 1)
    assert snapshot(client) == snapshot(src)


def _last_run(dump: Path) -> str:
    """The run imported last (runs.jsonl order): a failure there used to leave the others written."""
    return str(json.loads((dump / "runs.jsonl").read_text().splitlines()[-1])["run_id"])


def _for_run(run_id: str, change: dict[str, Any]) -> Any:
    return lambda r: {**r, **change} if r["run_id"] == run_id else r


ONE_POINT = {"step": [0], "timestamp": [1], "value": [1.0]}
CRAFTED: dict[str, tuple[str, dict[str, Any], str]] = {
    "step beyond int64": (
        "metrics",
        {**ONE_POINT, "step": [2**70]},
        "step 1180591620717411303424 is out of range",
    ),
    "time beyond int64": ("runs", {"start_time": 2**70}, "start_time of run .* out of range"),
    "negative timestamp beyond int64": (
        "metrics",
        {**ONE_POINT, "timestamp": [-(2**64)]},
        "timestamp .* out of range",
    ),
    "NUL in a param value": ("params", {"value": "a\x00b"}, "params.jsonl, run .*NUL character"),
    "param key like a path": ("params", {"key": "/etc/passwd\n"}, r"params.jsonl, run .*'/etc/passwd\\n'"),
    "bad tag key": ("tags", {"key": "a//b"}, "tags.jsonl, run .*Invalid tag key 'a//b'"),
    "bad metric key": ("metrics", {"key": "loss\t"}, r"metrics.jsonl, run .*Invalid metric key 'loss\\t'"),
    "lone surrogate in a tag": ("tags", {"value": "a\ud800"}, "tags.jsonl, run .*lone surrogate"),
    "NUL in a run name": ("runs", {"run_name": "x\x00"}, "runs.jsonl, run .*: run name .*NUL character"),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_records_are_refused_before_anything_is_written(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path, case: str
) -> None:
    src, _ = source
    dump = tmp_path / "dump"
    runyard.export_runs(src.tracking_uri, dump, include_deleted=True)
    kind, change, message = CRAFTED[case]
    victim = _last_run(dump)
    if kind != "runs" and not any(
        json.loads(line)["run_id"] == victim for line in (dump / f"{kind}.jsonl").read_text().splitlines()
    ):
        # the last run has no record of this kind: give it one, so the check sees it
        _rewrite(dump, kind, lambda r: r)
        base = json.loads((dump / f"{kind}.jsonl").read_text().splitlines()[0])
        lines = (dump / f"{kind}.jsonl").read_text() + json.dumps({**base, "run_id": victim}) + "\n"
        (dump / f"{kind}.jsonl").write_text(lines)
        _rewrite(dump, kind, lambda r: r)
    _rewrite(dump, kind, _for_run(victim, change))
    with pytest.raises(DumpError, match=message) as caught:
        runyard.import_runs(client.tracking_uri, dump)
    assert "\n" not in str(caught.value)
    if not client.store.db.is_missing():  # else a new SQLite store was not even created
        assert _all_run_ids(client) == []
        assert [e.name for e in client.list_experiments("ALL")] == []
    fresh = tmp_path / "never-created.db"
    with pytest.raises(DumpError):
        runyard.import_runs(f"sqlite:///{fresh}", dump)
    assert not fresh.exists()


@pytest.mark.parametrize(
    "name, message",
    [("a\x00b", "NUL character"), ("team//vision", "no empty folder names"), ("x\udc00", "lone surrogate")],
)
def test_bad_experiment_names_are_refused(
    source: tuple[TrackingClient, dict[str, str]],
    client: TrackingClient,
    tmp_path: Path,
    name: str,
    message: str,
) -> None:
    src, ids = source
    dump = tmp_path / "dump"
    runyard.export_runs(src.tracking_uri, dump, include_deleted=True)
    _rewrite(dump, "experiments", lambda r: {**r, "name": name} if r["experiment_id"] == ids["other"] else r)
    _assert_refused(client, dump, DumpError, message)


def test_artifact_directory_linked_out_of_the_dump_is_refused(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path
) -> None:
    src, ids = source
    dump = tmp_path / "dump"
    runyard.export_runs(src.tracking_uri, dump, include_deleted=True)
    # The files elsewhere match the manifest's checksums: only the link itself can be objected to.
    run_dir = dump / "artifacts" / ids["parent"]
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(run_dir, elsewhere)
    shutil.rmtree(run_dir)
    run_dir.symlink_to(elsewhere, target_is_directory=True)
    _assert_refused(client, dump, UnsafeArtifactPath, rf"artifacts/{ids['parent']} is a symbolic link")


def test_failed_run_leaves_no_experiment_behind_and_a_rerun_resumes(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path, monkeypatch: Any
) -> None:
    from runyard.store import metrics as metric_store

    src, ids = source
    dump = tmp_path / "dump"
    runyard.export_runs(src.tracking_uri, dump, include_deleted=True)
    real_write_points = metric_store.write_points

    def failing_write_points(db: Any, conn: Any, points: list[Any]) -> Any:
        if points and points[0][1] == "x":  # the only metric of run "gone", the only run of "other"
            raise OSError(errno.EIO, "Input/output error")
        return real_write_points(db, conn, points)

    monkeypatch.setattr(metric_store, "write_points", failing_write_points)
    with pytest.raises(OSError, match="Input/output"):
        runyard.import_runs(client.tracking_uri, dump)
    assert ids["gone"] not in _all_run_ids(client)
    assert client.get_experiment_by_name("other") is None  # created with its run, rolled back with it
    monkeypatch.setattr(metric_store, "write_points", real_write_points)
    runyard.import_runs(client.tracking_uri, dump)
    assert snapshot(client) == snapshot(src)


def test_disk_failure_while_copying_artifacts_leaves_no_file_and_a_rerun_resumes(
    source: tuple[TrackingClient, dict[str, str]], client: TrackingClient, tmp_path: Path, monkeypatch: Any
) -> None:
    from runyard.interop import load

    src, ids = source
    dump = tmp_path / "dump"
    runyard.export_runs(src.tracking_uri, dump, include_deleted=True)
    real_open, real_check = load._open_regular, load.check_dump
    parent_files: list[str] = []

    def failing_open(path: Path, record: dict[str, Any]) -> Any:
        if record["run_id"] == ids["parent"]:
            parent_files.append(record["path"])
            if len(parent_files) == 2:  # the first file of the run is already in place
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, record)

    def check_then_break(in_dir: Any) -> Any:
        checked = real_check(in_dir)  # the checks read every file fine; the copy then fails
        monkeypatch.setattr(load, "_open_regular", failing_open)
        return checked

    monkeypatch.setattr(load, "check_dump", check_then_break)
    with pytest.raises(OSError, match="No space left"):
        runyard.import_runs(client.tracking_uri, dump)
    assert ids["parent"] not in _all_run_ids(client)
    leftovers = [p for p in (tmp_path / "artifacts").rglob("*") if ids["parent"] in p.as_posix()]
    assert leftovers == []
    monkeypatch.setattr(load, "check_dump", real_check)
    monkeypatch.setattr(load, "_open_regular", real_open)
    resumed = runyard.import_runs(client.tracking_uri, dump)
    assert resumed.runs_imported >= 1 and resumed.runs_imported + resumed.runs_skipped == 3
    assert snapshot(client) == snapshot(src)

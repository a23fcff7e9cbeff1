"""Artifacts: absolute URIs, the default layout, and no path ever escaping a run's directory."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import runyard
from runyard import InvalidInput, TrackingClient, UnsafeArtifactPath


@pytest.fixture
def run(tracking_uri: str) -> runyard.ActiveRun:
    """An active run on a fresh store, artifacts under tmp_path/artifacts (see conftest)."""
    runyard.set_tracking_uri(tracking_uri)
    return runyard.start_run(log_system_info=False)


def _files_under(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def test_default_layout_under_artifact_root(run: runyard.ActiveRun, tmp_path: Path) -> None:
    uri = Path(run.info.artifact_uri)
    assert uri.is_absolute()
    assert uri == tmp_path / "artifacts" / run.info.experiment_id / run.info.run_id / "artifacts"
    runyard.log_text("x", "a.txt")
    assert (uri / "a.txt").read_text() == "x"


def test_default_artifact_root_beside_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNYARD_ARTIFACT_ROOT")
    monkeypatch.chdir(tmp_path)
    runyard.set_tracking_uri("sqlite:///runyard.db")  # the default, relative to the current directory
    with runyard.start_run(log_system_info=False) as active:
        pass
    assert Path(active.info.artifact_uri).is_relative_to(tmp_path / "runyard-artifacts")


def test_relative_artifact_root_is_made_absolute(
    sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    client = TrackingClient(sqlite_uri, artifact_root="relative-root")
    run = client.create_run(client.create_experiment("e"))
    assert Path(run.info.artifact_uri).is_absolute()
    assert Path(run.info.artifact_uri).is_relative_to(tmp_path / "relative-root")


@pytest.mark.parametrize(
    "bad", ["../escape", "a/../../escape", "/etc", "/tmp/x", "..", "C:/windows", "a\\..\\..\\x"]
)
def test_unsafe_artifact_paths_rejected(run: runyard.ActiveRun, tmp_path: Path, bad: str) -> None:
    source = tmp_path / "file.txt"
    source.write_text("data")
    directory = tmp_path / "dir"
    directory.mkdir()
    (directory / "inner.txt").write_text("inner")
    before = _files_under(tmp_path)
    for call in (
        lambda: runyard.log_artifact(source, artifact_path=bad),
        lambda: runyard.log_artifacts(directory, artifact_path=bad),
        lambda: runyard.log_text("t", f"{bad}/f.txt"),
        lambda: runyard.log_dict({"a": 1}, f"{bad}/f.json"),
    ):
        with pytest.raises(UnsafeArtifactPath) as caught:
            call()
        assert isinstance(caught.value, ValueError)
    assert _files_under(tmp_path) == before
    with pytest.raises(UnsafeArtifactPath):
        runyard.list_artifacts(run.info.run_id, bad)


def test_log_text_to_absolute_file_rejected(run: runyard.ActiveRun, tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    with pytest.raises(UnsafeArtifactPath, match="absolute"):
        runyard.log_text("x", str(target))
    assert not target.exists()


def test_symlink_inside_run_pointing_outside(run: runyard.ActiveRun, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = Path(run.info.artifact_uri)
    root.mkdir(parents=True, exist_ok=True)
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "filelink.txt").symlink_to(outside / "secret.txt")
    (root / "dangling").symlink_to(outside / "not-yet")
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    source_dir = tmp_path / "srcdir"
    source_dir.mkdir()
    (source_dir / "f.txt").write_text("f")
    before = _files_under(outside)
    attempts = [
        lambda: runyard.log_artifact(source, artifact_path="link"),
        lambda: runyard.log_artifact(source, artifact_path="link/deeper"),
        lambda: runyard.log_artifacts(source_dir, artifact_path="link"),
        lambda: runyard.log_text("overwrite", "filelink.txt"),
        lambda: runyard.log_text("new", "link/new.txt"),
        lambda: runyard.log_text("new", "dangling"),
        lambda: runyard.log_dict({"a": 1}, "dangling/x.json"),
    ]
    for attempt in attempts:
        with pytest.raises(UnsafeArtifactPath, match="outside"):
            attempt()
    assert _files_under(outside) == before
    assert (outside / "secret.txt").read_text() == "secret"
    client = TrackingClient(runyard.get_tracking_uri())
    listed = [f.path for f in client.list_artifacts(run.info.run_id)]
    assert "link" not in listed and "filelink.txt" not in listed
    with pytest.raises(UnsafeArtifactPath):
        client.download_artifacts(run.info.run_id, "link", tmp_path / "dl1")
    with pytest.raises(UnsafeArtifactPath):
        client.list_artifacts(run.info.run_id, "link")


def test_download_of_whole_run_does_not_follow_links_out(run: runyard.ActiveRun, tmp_path: Path) -> None:
    # Regression: download_artifacts copied the target of a link pointing out of the run.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    runyard.log_text("kept", "notes/ok.txt")
    root = Path(run.info.artifact_uri)
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "notes" / "filelink.txt").symlink_to(outside / "secret.txt")
    (root / "notes" / "inside_link.txt").symlink_to(root / "notes" / "ok.txt")
    copied = Path(
        TrackingClient(runyard.get_tracking_uri()).download_artifacts(run.info.run_id, "", tmp_path / "dl")
    )
    assert (copied / "notes" / "ok.txt").read_text() == "kept"
    assert (copied / "notes" / "inside_link.txt").read_text() == "kept"
    assert not (copied / "link").exists()
    assert not (copied / "notes" / "filelink.txt").exists()
    assert "secret" not in [p.name for p in copied.rglob("*")]


def test_log_text_does_not_follow_a_planted_temporary_file_link(
    run: runyard.ActiveRun, tmp_path: Path
) -> None:
    # Regression: log_text wrote through a fixed temporary name, following a symlink planted there.
    outside = tmp_path / "victim.txt"
    outside.write_text("untouched")
    root = Path(run.info.artifact_uri)
    root.mkdir(parents=True, exist_ok=True)
    (root / "out.txt.tmp-runyard").symlink_to(outside)
    runyard.log_text("payload", "out.txt")
    assert outside.read_text() == "untouched"
    assert (root / "out.txt").read_text() == "payload"


def test_missing_sources_are_clear_errors(run: runyard.ActiveRun, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        runyard.log_artifact(tmp_path / "missing.bin")
    with pytest.raises(InvalidInput, match="no such directory"):
        runyard.log_artifacts(tmp_path / "missing-dir")
    with pytest.raises(InvalidInput, match="No artifact"):
        TrackingClient(runyard.get_tracking_uri()).download_artifacts(
            run.info.run_id, "nothing", tmp_path / "d"
        )
    with pytest.raises(InvalidInput, match="name a file"):
        runyard.log_text("x", "")


def test_overwrite_and_nested_paths(run: runyard.ActiveRun) -> None:
    runyard.log_text("one", "a/b/c.txt")
    runyard.log_text("two", "./a/b/c.txt")
    root = Path(run.info.artifact_uri)
    assert (root / "a" / "b" / "c.txt").read_text() == "two"
    assert _files_under(root) == ["a", "a/b", "a/b/c.txt"]


def test_requirements_artifact_logged_at_start(tracking_uri: str) -> None:
    runyard.set_tracking_uri(tracking_uri)
    with runyard.start_run() as active:
        pass
    text = (Path(active.info.artifact_uri) / "environment" / "requirements.txt").read_text()
    lines = text.splitlines()
    assert any(line.startswith("SQLAlchemy==") for line in lines)
    assert any(line.startswith("pytest==") for line in lines)
    assert all("==" in line for line in lines)


def test_written_artifacts_follow_the_umask(run: runyard.ActiveRun) -> None:
    # Artifacts on a shared filesystem must stay readable by the team, not private to the writer.
    previous = os.umask(0o022)
    try:
        runyard.log_text("shared", "shared.txt")
    finally:
        os.umask(previous)
    mode = (Path(run.info.artifact_uri) / "shared.txt").stat().st_mode & 0o777
    assert mode == 0o644
    assert not [p for p in Path(run.info.artifact_uri).iterdir() if "tmp-runyard" in p.name]


def test_unwritable_artifact_root_does_not_orphan_the_run(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: start_run created the run, then failed saving requirements.txt: a RUNNING run that
    # was not active and never ended.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the artifact root should be")
    monkeypatch.setenv("RUNYARD_ARTIFACT_ROOT", str(blocker))
    runyard.set_tracking_uri(tracking_uri)
    with pytest.warns(UserWarning, match="requirements.txt"):
        active = runyard.start_run()
    assert runyard.active_run() is active
    runyard.log_metric("m", 1.0)
    with pytest.raises(OSError):
        runyard.log_text("x", "explicit.txt")  # an explicit artifact call still reports the problem
    runyard.end_run()
    got = runyard.get_run(active.info.run_id)
    assert got.info.status == "FINISHED" and got.data.metrics == {"m": 1.0}


# ----------------------------------------------------------------- full disks, links, odd strings
@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (needs root); the test is skipped where mounting is not allowed."""
    mount_point = tmp_path / "tiny-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _listing(client: TrackingClient, run_id: str, path: str | None = None) -> dict[str, int | None]:
    return {f.path: f.file_size for f in client.list_artifacts(run_id, path)}


def test_full_disk_keeps_the_previous_copy_and_lists_no_partial_file(
    sqlite_uri: str, tiny_disk: Path, tmp_path: Path
) -> None:
    client = TrackingClient(sqlite_uri, artifact_root=str(tiny_disk))
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    model = tmp_path / "model.bin"
    model.write_bytes(b"good" * 4096)  # 16 KiB: fits
    client.log_artifact(run_id, model)
    client.log_text(run_id, "first notes", "notes.txt")
    model.write_bytes(b"x" * 200_000)  # does not fit
    with pytest.raises(OSError, match="Could not write artifact 'model.bin'.*earlier copy") as caught:
        client.log_artifact(run_id, model)
    assert caught.value.errno == errno.ENOSPC
    with pytest.raises(OSError, match="notes.txt") as caught:
        client.log_text(run_id, "y" * 200_000, "notes.txt")
    assert caught.value.errno == errno.ENOSPC
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    (folder / "a.txt").write_text("small")
    (folder / "b.bin").write_bytes(b"z" * 200_000)
    with pytest.raises(OSError, match="Nothing was changed"):
        client.log_artifacts(run_id, folder, "checkpoint")
    assert _listing(client, run_id) == {"model.bin": 16384, "notes.txt": 11}
    root = Path(client.get_run(run_id).info.artifact_uri)
    assert (root / "model.bin").read_bytes() == b"good" * 4096
    assert (root / "notes.txt").read_text() == "first notes"
    assert sorted(p.name for p in root.iterdir()) == ["model.bin", "notes.txt"]  # no temporaries left


def test_simulated_full_disk_during_copy(
    client: TrackingClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.tracking import artifacts

    run_id = client.create_run(client.create_experiment("e")).info.run_id
    model = tmp_path / "model.bin"
    model.write_bytes(b"good")
    client.log_artifact(run_id, model, "weights")
    folder = tmp_path / "more"
    folder.mkdir()
    for name in ("a.bin", "b.bin"):
        (folder / name).write_bytes(b"new data")

    def copy_part_then_fail(source: Any, target: Any) -> None:
        target.write(source.read(3))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts, "copy_stream", copy_part_then_fail)
    model.write_bytes(b"better weights")
    with pytest.raises(OSError, match="'weights/model.bin': No space left on device"):
        client.log_artifact(run_id, model, "weights")
    with pytest.raises(OSError, match="No space left"):
        client.log_artifacts(run_id, folder, "more")
    assert _listing(client, run_id) == {"weights": None}
    assert _listing(client, run_id, "weights") == {"weights/model.bin": 4}
    root = Path(client.get_run(run_id).info.artifact_uri)
    assert (root / "weights" / "model.bin").read_bytes() == b"good"
    assert [p.name for p in root.rglob("*")] == ["weights", "model.bin"]


def test_log_artifacts_copies_linked_directories_and_refuses_cycles(
    client: TrackingClient, tmp_path: Path
) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    shared = tmp_path / "shared-data"
    (shared / "deep").mkdir(parents=True)
    (shared / "deep" / "table.csv").write_text("a,b")
    source = tmp_path / "outputs"
    source.mkdir()
    (source / "own.txt").write_text("own")
    (source / "data").symlink_to(shared, target_is_directory=True)
    (source / "alias.txt").symlink_to(source / "own.txt")
    logged = client.log_artifacts(run_id, source, "out")
    assert logged == ["out/alias.txt", "out/data/deep/table.csv", "out/own.txt"]
    root = Path(client.get_run(run_id).info.artifact_uri)
    copied = root / "out" / "data"
    assert not copied.is_symlink() and (copied / "deep" / "table.csv").read_text() == "a,b"

    (shared / "deep" / "loop").symlink_to(
        source, target_is_directory=True
    )  # outputs/data/deep/loop -> outputs
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    with pytest.raises(InvalidInput, match=r"'data/deep/loop' links back .* \(a cycle\)"):
        client.log_artifacts(run_id, source, "again")
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_nul_and_lone_surrogates_are_named_clearly(run: runyard.ActiveRun, tmp_path: Path) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    with pytest.raises(UnsafeArtifactPath, match="contains a NUL character"):
        runyard.log_text("x", "notes\x00.txt")
    with pytest.raises(UnsafeArtifactPath, match="contains a NUL character"):
        runyard.log_artifact(source, "dir\x00")
    with pytest.raises(InvalidInput, match=r"'notes.txt'.*lone surrogate"):
        runyard.log_text("a\ud800", "notes.txt")
    with pytest.raises(InvalidInput, match=r"'config.json'.*lone surrogate"):
        runyard.log_dict({"model": {"name": "a\ud800"}}, "config.json")
    with pytest.raises(InvalidInput, match=r"'config.yaml'.*lone surrogate"):
        runyard.log_dict({"name": "a\ud800"}, "config.yaml")
    with pytest.raises(InvalidInput, match="lone surrogate"):
        runyard.log_text("fine", "a\ud800.txt")
    runyard.log_dict({"emoji": "\U0001f600", "accent": "é"}, "fine.json")  # valid pairs are fine
    root = Path(run.info.artifact_uri)
    assert json.loads((root / "fine.json").read_text()) == {"emoji": "\U0001f600", "accent": "é"}
    assert sorted(p.name for p in root.iterdir()) == ["fine.json"]


def test_a_write_cut_short_by_a_crash_is_never_listed(client: TrackingClient, tmp_path: Path) -> None:
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.log_text(run_id, "complete", "model.txt")
    root = Path(client.get_run(run_id).info.artifact_uri)
    (root / ".model.txt.0123456789ab.tmp-runyard").write_text("half")  # as a SIGKILL mid-copy leaves it
    assert _listing(client, run_id) == {"model.txt": 8}
    copied = Path(client.download_artifacts(run_id, "", tmp_path / "dl"))
    assert sorted(p.name for p in copied.iterdir()) == ["model.txt"]

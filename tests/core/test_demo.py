"""The demo store (`runyard demo`): what it promises, that it is reproducible, and its training loop."""

from __future__ import annotations

import json
import math
import random
import re
import struct
import zlib
from collections import Counter
from operator import mul
from pathlib import Path

import pytest
from runyard import InvalidInput, Run, TrackingClient
from runyard.demo.build import write_demo_store
from runyard.demo.training import DemoDataset, TrainConfig, _quadratic_loss, _stats, train

NOW = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC
DAY_MS = 86_400_000
SWEEP = "sweep-lr-wd"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrackingClient, Path]:
    """One demo store for the module (seed 7, fixed clock)."""
    directory = tmp_path_factory.mktemp("demo") / "runyard-demo"
    PROGRESS.clear()
    uri = write_demo_store(str(directory), seed=7, now_ms=NOW, progress=lambda *step: PROGRESS.append(step))
    return TrackingClient(uri, must_exist=True), directory


PROGRESS: list[tuple[str, int, int]] = []


def test_writing_reports_progress_part_by_part(demo: tuple[TrackingClient, Path]) -> None:
    assert [(done, total) for _, done, total in PROGRESS] == [(done, 8) for done in range(9)]
    assert PROGRESS[1][0] == "/vision/resnet baselines" and PROGRESS[-1][0] == "done"


def all_runs(client: TrackingClient, view: str = "ALL") -> list[Run]:
    """Every run of every experiment (active and trashed experiments), in one view."""
    ids = [e.experiment_id for e in client.list_experiments("ALL")]
    runs: list[Run] = []
    token = None
    while True:
        page = client.search_runs(ids, run_view_type=view, max_results=1000, page_token=token)
        runs += page
        token = page.token
        if not token:
            return runs


def by_name(runs: list[Run]) -> dict[str, Run]:
    return {run.info.run_name: run for run in runs}


def test_uri_opens_and_store_is_in_the_directory(demo: tuple[TrackingClient, Path]) -> None:
    client, directory = demo
    assert client.tracking_uri == f"sqlite:///{directory / 'runyard.db'}"
    assert (directory / "runyard.db").is_file()
    for run in all_runs(client)[:5]:
        assert run.info.artifact_uri.startswith(str(directory / "artifacts"))


def test_experiments_in_folders_a_script_experiment_and_one_in_the_trash(
    demo: tuple[TrackingClient, Path],
) -> None:
    client, _ = demo
    active = {e.name: e for e in client.list_experiments("ACTIVE_ONLY")}
    assert set(active) == {
        "Default",
        "/vision/resnet",
        "/vision/vit-small",
        "/nlp/bert-finetune",
        "/nlp/tokenizer-ablation",
        "/home/alice/projects/churn/train.py",
    }
    assert active["/home/alice/projects/churn/train.py"].tags["runyard.experimentType"] == "SCRIPT"
    assert active["Default"].experiment_id == "0"
    deleted = client.list_experiments("DELETED_ONLY")
    assert [e.name for e in deleted] == ["/vision/old-baselines"]
    assert deleted[0].deleted_time == NOW - 6 * DAY_MS
    counts = client.count_runs([e.experiment_id for e in active.values()])
    assert all(count > 0 for count in counts.values()), counts


def test_sweep_has_a_parent_and_50_plus_nested_children(demo: tuple[TrackingClient, Path]) -> None:
    client, _ = demo
    resnet = client.get_experiment_by_name("/vision/resnet")
    assert resnet is not None
    runs = all_runs(client, "ACTIVE_ONLY")
    parent = by_name(runs)[SWEEP]
    children = [run for run in runs if run.info.parent_run_id == parent.info.run_id]
    assert len(children) >= 50
    for child in children:
        assert child.info.experiment_id == resnet.experiment_id
        assert child.data.tags["runyard.parentRunId"] == parent.info.run_id
        assert {"lr", "weight_decay", "batch_size", "optimizer", "layers"} <= set(child.data.params)
        assert child.info.source_type == "JOB"
    optimizers = Counter(child.data.params["optimizer"] for child in children)
    assert set(optimizers) == {"adam", "sgd", "adamw"}
    assert len({child.data.params["lr"] for child in children}) > 30
    # The parent tracks the best val_accuracy of the finished trials, as the children report it.
    finished = [c for c in children if c.info.status == "FINISHED"]
    best = max(c.data.metrics["val_accuracy"] for c in finished)
    assert parent.data.metrics["best_val_accuracy"] == pytest.approx(best)
    assert parent.data.metric_summaries["best_val_accuracy"].count == len(finished)


def test_statuses_failed_killed_running_and_times_in_the_last_weeks(
    demo: tuple[TrackingClient, Path],
) -> None:
    client, _ = demo
    runs = all_runs(client)
    statuses = Counter(run.info.status for run in runs)
    assert statuses["FAILED"] >= 3 and statuses["KILLED"] >= 3, statuses
    running = [run for run in runs if run.info.status == "RUNNING"]
    assert {run.info.run_name for run in running} == {SWEEP, "trial-53"}
    for run in running:
        assert run.info.end_time is None
        assert not run.info.is_lost(NOW)
        assert NOW - 10_000 <= (run.info.heartbeat_time or 0) <= NOW
    for run in runs:
        assert NOW - 25 * DAY_MS <= (run.info.start_time or 0) <= NOW
        if run.info.status != "RUNNING":
            assert run.info.end_time is not None and run.info.start_time < run.info.end_time <= NOW
    failed = [run for run in runs if run.info.status == "FAILED"]
    assert all("error" in run.data.tags for run in failed)
    # A failed or killed run stops early: its history is shorter than a finished sibling's.
    vit = by_name(runs)
    assert vit["vit-s16-bs128"].data.metric_summaries["train_loss"].count == 340
    assert vit["vit-s16-adamw"].data.metric_summaries["train_loss"].count == 2000


def test_deleted_runs_are_in_the_trash_with_children(demo: tuple[TrackingClient, Path]) -> None:
    client, _ = demo
    trashed = by_name(all_runs(client, "DELETED_ONLY"))
    assert {"debug-bs256", "bert-smoke-test", "sweep-smoke", "smoke-0", "smoke-1"} <= set(trashed)
    smoke = trashed["sweep-smoke"]
    assert trashed["smoke-0"].info.parent_run_id == smoke.info.run_id
    assert smoke.info.deleted_time == trashed["smoke-1"].info.deleted_time == NOW - 2 * DAY_MS
    assert trashed["debug-bs256"].info.deleted_time == NOW - 3 * DAY_MS
    active_names = {run.info.run_name for run in all_runs(client, "ACTIVE_ONLY")}
    assert "debug-bs256" not in active_names


def test_users_sources_git_and_notes(demo: tuple[TrackingClient, Path]) -> None:
    client, _ = demo
    runs = all_runs(client)
    assert {run.info.user_id for run in runs} == {"alice", "bob", "chen"}
    assert {run.info.source_type for run in runs} == {"SCRIPT", "NOTEBOOK", "JOB"}
    for run in runs:
        commit = run.data.tags["runyard.source.git.commit"]
        assert re.fullmatch(r"[0-9a-f]{40}", commit) and run.info.source_version == commit
        assert re.fullmatch(r"[0-9a-f]{32}", run.info.run_id)
    assert {run.data.tags["runyard.source.git.dirty"] for run in runs} == {"true", "false"}
    assert len({run.data.tags["runyard.source.git.branch"] for run in runs}) >= 4
    notes = [run.data.tags["runyard.note.content"] for run in runs if "runyard.note.content" in run.data.tags]
    assert len(notes) >= 4
    for note in notes:
        assert note.startswith("## ") and "\n- " in note


def test_nlp_runs_have_keys_with_slashes_and_dots_and_a_long_param(demo: tuple[TrackingClient, Path]) -> None:
    client, _ = demo
    runs = by_name(all_runs(client, "ACTIVE_ONLY"))
    bert = runs["bert-base-lr3e-3"]
    assert {"eval/f1", "eval/loss", "eval/accuracy", "train/loss", "train/grad.norm"} <= set(
        bert.data.metrics
    )
    assert len(bert.data.params["train_files"]) > 500
    assert "model.hidden_size" in bert.data.params
    assert 0.5 < bert.data.metrics["eval/f1"] <= 1.0


def test_metric_histories_are_thousands_of_steps_from_training(demo: tuple[TrackingClient, Path]) -> None:
    client, _ = demo
    runs = by_name(all_runs(client, "ACTIVE_ONLY"))
    baseline = runs["resnet18-baseline"]
    history = client.get_metric_history(baseline.info.run_id, "train_loss")
    assert [point.step for point in history] == list(range(3000))
    timestamps = [point.timestamp for point in history]
    assert timestamps == sorted(timestamps)
    assert baseline.info.start_time < timestamps[0] and timestamps[-1] < (baseline.info.end_time or 0)
    first, last = [p.value for p in history[:100]], [p.value for p in history[-100:]]
    assert sum(last) / 100 < 0.8 * sum(first) / 100  # the loss goes down
    accuracy = client.get_metric_history(baseline.info.run_id, "val_accuracy")
    assert accuracy[-1].value > accuracy[0].value and accuracy[-1].value > 0.75
    lr = client.get_metric_history(baseline.info.run_id, "lr")
    assert max(p.value for p in lr) == pytest.approx(0.05, rel=0.01)  # the run's lr param, warmed up
    running = runs["trial-53"].data.metric_summaries["train_loss"]
    assert 0 < running.count < 2000


def test_artifacts_of_every_kind(demo: tuple[TrackingClient, Path]) -> None:
    client, _ = demo
    runs = by_name(all_runs(client, "ACTIVE_ONLY"))
    run_id = runs["resnet18-baseline"].info.run_id
    repository = client.artifact_repository(run_id)
    names = {info.path for info in client.list_artifacts(run_id)}
    assert {"config.json", "predictions.csv", "logs", "code", "environment", "plots"} <= names
    config = json.loads((repository.root / "config.json").read_text())
    assert config["lr"] == 0.05 and config["optimizer"] == "sgd"
    rows = (repository.root / "predictions.csv").read_text().splitlines()
    assert rows[0].startswith("sample_id,label,score") and len(rows) == 201
    compile((repository.root / "code/train.py").read_text(), "train.py", "exec")
    assert "runyard==" in (repository.root / "environment/requirements.txt").read_text()
    log = (repository.root / "logs/train.log").read_text()
    assert "step  2999" in log
    assert_valid_png((repository.root / "plots/confusion.png").read_bytes())
    failed = runs["vit-s16-bs128"]
    failed_log = (client.artifact_repository(failed.info.run_id).root / "logs/train.log").read_text()
    assert "ERROR torch.cuda.OutOfMemoryError" in failed_log


def assert_valid_png(data: bytes) -> None:
    """PNG signature, chunks with correct CRCs, and IDAT that inflates to height * (1 + 3 * width) bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        tag = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(tag + body)
        chunks[tag] = body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2) and width > 10 and height > 10
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    assert b"IEND" in chunks


def snapshot(client: TrackingClient) -> list[tuple[object, ...]]:
    """Everything a screen shows about the runs: ids, names, times, params, tags, metric summaries."""
    rows = []
    for run in sorted(all_runs(client), key=lambda r: r.info.run_id):
        info = run.info
        rows.append(
            (
                info.run_id,
                info.run_name,
                info.experiment_id,
                info.status,
                info.start_time,
                info.end_time,
                info.heartbeat_time,
                info.deleted_time,
                info.parent_run_id,
                info.source_name,
                run.data.params,
                run.data.tags,
                {
                    key: (s.latest_value, s.min_value, s.max_value, s.count)
                    for key, s in run.data.metric_summaries.items()
                },
            )
        )
    return rows


def test_same_seed_and_clock_give_the_same_store_another_seed_other_ids(
    demo: tuple[TrackingClient, Path], tmp_path: Path
) -> None:
    client, _ = demo
    directory = tmp_path / "again"
    uri = write_demo_store(directory, seed=7, now_ms=NOW)
    again = TrackingClient(uri)
    assert snapshot(again) == snapshot(client)
    experiments = [(e.experiment_id, e.name, e.creation_time) for e in client.list_experiments("ALL")]
    assert [(e.experiment_id, e.name, e.creation_time) for e in again.list_experiments("ALL")] == experiments
    run_id = by_name(all_runs(client, "ACTIVE_ONLY"))["trial-10"].info.run_id
    assert again.get_metric_history(run_id, "train_loss") == client.get_metric_history(run_id, "train_loss")
    # The directory now holds a store: refused, unless told to overwrite it.
    with pytest.raises(InvalidInput, match="already holds a runyard store"):
        write_demo_store(directory, seed=8, now_ms=NOW)
    assert write_demo_store(directory, seed=8, now_ms=NOW, overwrite=True) == uri
    other_ids = {run.info.run_id for run in all_runs(TrackingClient(uri))}
    assert other_ids and not other_ids & {run.info.run_id for run in all_runs(client)}


def test_a_failure_half_way_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runyard.demo.vision

    def broken(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(runyard.demo.vision, "write_sweep", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_demo_store(tmp_path / "broken", seed=3, now_ms=NOW)
    assert not (tmp_path / "broken" / "runyard.db").exists()
    assert not (tmp_path / "broken" / "artifacts").exists()
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(InvalidInput, match="is a file"):
        write_demo_store(tmp_path / "file")


# ---------------------------------------------------------------------------- the training loop
def test_batch_statistics_give_the_per_sample_loss_and_gradient() -> None:
    rng = random.Random(1)
    rows = [[rng.gauss(0, 1) for _ in range(5)] + [1.0] for _ in range(16)]
    labels = [rng.choice((-1.0, 1.0)) for _ in range(16)]
    w = [rng.gauss(0, 1) for _ in range(6)]
    residuals = [sum(map(mul, w, row)) - label for row, label in zip(rows, labels, strict=True)]
    loss = sum(r * r for r in residuals) / (2 * len(rows))
    gradient = [sum(r * row[j] for r, row in zip(residuals, rows, strict=True)) / len(rows) for j in range(6)]
    got_loss, got_gradient = _quadratic_loss(_stats(rows, labels), w)
    assert got_loss == pytest.approx(loss)
    assert got_gradient == pytest.approx(gradient)


def test_hyperparameters_change_the_curves() -> None:
    data = DemoDataset(5, n_train=512, n_val=128)
    small = train(data, TrainConfig(lr=0.0003, optimizer="adam", steps=400, seed=1))
    good = train(data, TrainConfig(lr=0.01, optimizer="adam", steps=400, seed=1))
    decayed = train(data, TrainConfig(lr=0.01, optimizer="adamw", weight_decay=0.1, steps=400, seed=1))
    assert (good.final("val_loss") or 0) < (small.final("val_loss") or 0)
    assert decayed.history["train_loss"] != good.history["train_loss"]
    assert [step for step, _ in good.history["lr"]][:3] == [0, 10, 20]
    diverged = train(data, TrainConfig(lr=5.0, optimizer="sgd", batch_size=16, steps=400, seed=1))
    assert diverged.diverged and diverged.last_step < 399
    assert math.isfinite(good.final("train_loss") or math.nan)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        train(data, TrainConfig(lr=0.01, optimizer="rmsprop"))


def test_baselines_have_datasets_and_one_a_model_whose_snippet_runs(
    demo: tuple[TrackingClient, Path], tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from runyard.tracking.run_contents import dataset_labels, run_models

    client, _ = demo
    runs = by_name(all_runs(client, "ACTIVE_ONLY"))
    baseline, cosine = runs["resnet34-baseline"], runs["resnet50-cosine"]
    assert dataset_labels(baseline) == [
        "cifar10-mini-train@3f9a1c2e (training)",
        "cifar10-mini-val@b2d07f55 (validation)",
    ]
    assert dataset_labels(cosine)[0] == "cifar10-mini-train@7c41e9a2 (training)"  # augmented: other data
    (model,) = run_models(client, baseline)
    assert (model.path, model.flavor) == ("model", "runyard_pickle")
    assert model.inputs == "mean_red double, mean_green double, mean_blue double, edge_density double"
    script = f"import runyard\nrunyard.set_tracking_uri({client.tracking_uri!r})\n" + model.snippet
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("[0]")

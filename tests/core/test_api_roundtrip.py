"""Round trip of every module-level and TrackingClient call, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import runyard
from runyard import TrackingClient
from runyard.entities import Metric


@pytest.fixture
def store(tracking_uri: str) -> str:
    """Point the fluent API at a fresh store and return its URI."""
    runyard.set_tracking_uri(tracking_uri)
    return tracking_uri


def test_tracking_uri_round_trip(tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runyard.set_tracking_uri(tracking_uri)
    assert runyard.get_tracking_uri() == tracking_uri
    runyard.set_tracking_uri(str(tmp_path / "plain.db"))  # a plain path means a SQLite file
    assert runyard.get_tracking_uri() == f"sqlite:///{tmp_path / 'plain.db'}"
    runyard.set_tracking_uri("postgresql://u@h/db")  # the psycopg 3 driver is implied
    assert runyard.get_tracking_uri() == "postgresql+psycopg://u@h/db"
    # Regression: a pathlib.Path crashed TrackingClient with AttributeError ('strip').
    assert TrackingClient(tmp_path / "p.db").tracking_uri == f"sqlite:///{tmp_path / 'p.db'}"


def test_tracking_uri_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    assert runyard.get_tracking_uri() == f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.delenv("RUNYARD_TRACKING_URI")
    monkeypatch.chdir(tmp_path)
    assert runyard.get_tracking_uri() == f"sqlite:///{tmp_path / 'runyard.db'}"


def test_relative_sqlite_uri_is_pinned_to_the_start_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: a relative sqlite:///x.db stayed relative, so after os.chdir new pooled connections
    # opened a different, empty file.
    monkeypatch.chdir(tmp_path)
    runyard.set_tracking_uri("sqlite:///rel.db")
    assert runyard.get_tracking_uri() == f"sqlite:///{tmp_path / 'rel.db'}"
    assert (
        TrackingClient("sqlite:///rel.db?timeout=5").tracking_uri
        == f"sqlite:///{tmp_path / 'rel.db'}?timeout=5"
    )
    assert TrackingClient("sqlite:///:memory:").tracking_uri == "sqlite:///:memory:"
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_metric("m", 1.0)
        other = tmp_path / "elsewhere"
        other.mkdir()
        monkeypatch.chdir(other)
        runyard.log_metric("m", 2.0, step=1)
    assert runyard.get_run(run.info.run_id).data.metric_summaries["m"].count == 2
    assert not (other / "rel.db").exists()


def test_set_experiment_by_name_creates_then_reuses(store: str) -> None:
    assert runyard.get_experiment_by_name("/team/vision/resnet") is None
    first = runyard.set_experiment("/team/vision/resnet")
    again = runyard.set_experiment("/team/vision/resnet")
    assert first.experiment_id == again.experiment_id
    assert first.name == "/team/vision/resnet"
    with runyard.start_run() as run:
        pass
    assert run.info.experiment_id == first.experiment_id


def test_set_experiment_by_id(store: str) -> None:
    experiment_id = runyard.create_experiment("by-id")
    experiment = runyard.set_experiment(experiment_id=experiment_id)
    assert experiment.name == "by-id"
    with runyard.start_run() as run:
        pass
    assert runyard.get_run(run.info.run_id).info.experiment_id == experiment_id
    with pytest.raises(runyard.ExperimentNotFound):
        runyard.set_experiment(experiment_id="no-such-id")
    with pytest.raises(ValueError, match="exactly one"):
        runyard.set_experiment()


def test_create_and_get_experiment(store: str, tmp_path: Path) -> None:
    experiment_id = runyard.create_experiment("made", tags={"team": "vision"})
    experiment = runyard.get_experiment(experiment_id)
    assert experiment.name == "made"
    assert experiment.tags == {"team": "vision"}
    assert experiment.lifecycle_stage == "active"
    assert experiment.creation_time is not None and experiment.creation_time > 1_600_000_000_000
    assert Path(experiment.artifact_location).is_absolute()
    assert runyard.get_experiment_by_name("made") == experiment
    with pytest.raises(runyard.ExperimentExists, match="made"):
        runyard.create_experiment("made")
    custom = runyard.create_experiment("custom", artifact_location=str(tmp_path / "shared"))
    assert runyard.get_experiment(custom).artifact_location == str(tmp_path / "shared")
    with runyard.start_run(experiment_id=custom, log_system_info=False) as run:
        pass
    assert run.info.artifact_uri == f"{tmp_path / 'shared'}/{run.info.run_id}/artifacts"
    # Regression: an s3:// location was accepted, then artifacts landed in a local folder named "s3:".
    with pytest.raises(runyard.InvalidInput, match="not supported"):
        runyard.create_experiment("remote", artifact_location="s3://bucket/runs")
    assert runyard.get_experiment_by_name("remote") is None


def test_start_run_arguments(store: str) -> None:
    experiment_id = runyard.create_experiment("args")
    with runyard.start_run(
        experiment_id=experiment_id, run_name="alpha", tags={"k": "v", "n": 3}, description="a note"
    ) as run:
        assert runyard.active_run() is run
        assert run.info.status == "RUNNING"
        assert len(run.info.run_id) == 32 and int(run.info.run_id, 16) >= 0
    assert runyard.active_run() is None
    got = runyard.get_run(run.info.run_id)
    assert got.info.run_name == "alpha"
    assert got.info.experiment_id == experiment_id
    assert got.data.tags["k"] == "v"
    assert got.data.tags["n"] == "3"
    assert got.data.tags["runyard.note.content"] == "a note"
    assert got.info.status == "FINISHED"
    assert got.info.end_time is not None and got.info.end_time >= got.info.start_time


def test_generated_run_name(store: str) -> None:
    with runyard.start_run() as run:
        pass
    assert run.info.run_name
    assert runyard.get_run(run.info.run_id).data.tags["runyard.runName"] == run.info.run_name


def test_end_run_with_status(store: str) -> None:
    run = runyard.start_run()
    runyard.end_run("KILLED")
    assert runyard.active_run() is None
    assert runyard.get_run(run.info.run_id).info.status == "KILLED"
    runyard.end_run()  # no active run: nothing to do


def test_end_run_rejects_bad_status_and_keeps_run_active(store: str) -> None:
    run = runyard.start_run()
    with pytest.raises(ValueError, match="BOGUS"):
        runyard.end_run("BOGUS")
    assert runyard.active_run() is run
    assert runyard.get_run(run.info.run_id).info.status == "RUNNING"
    runyard.end_run()
    assert runyard.get_run(run.info.run_id).info.status == "FINISHED"


def test_params_tags_and_delete_tag(store: str) -> None:
    with runyard.start_run() as run:
        assert runyard.log_param("lr", 0.01) == 0.01
        runyard.log_params({"layers": 4, "opt": "adam"})
        runyard.set_tag("phase", "warmup")
        runyard.set_tags({"phase": "train", "gpu": "a100"})  # tags are replaceable
        runyard.set_tag("temp", "x")
        runyard.delete_tag("temp")
        with pytest.raises(ValueError, match="temp"):
            runyard.delete_tag("temp")
    got = runyard.get_run(run.info.run_id)
    assert got.data.params == {"layers": "4", "lr": "0.01", "opt": "adam"}
    assert got.data.tags["phase"] == "train"
    assert got.data.tags["gpu"] == "a100"
    assert "temp" not in got.data.tags


def test_tags_editable_after_the_run(store: str) -> None:
    client = TrackingClient(store)
    with runyard.start_run() as run:
        pass
    client.set_tag(run.info.run_id, "verdict", "good")
    client.delete_tag(run.info.run_id, "verdict")
    client.set_tag(run.info.run_id, "verdict", "best")
    assert client.get_run(run.info.run_id).data.tags["verdict"] == "best"


def test_log_metric_step_and_timestamp(store: str) -> None:
    with runyard.start_run() as run:
        runyard.log_metric("no_step", 1.5)
        runyard.log_metric("explicit", 2.5, step=7, timestamp=1_700_000_000_123)
        runyard.log_metrics({"a": 1, "b": 2.0}, step=3)
        runyard.log_metrics({"c": 3})
        runyard.flush()
        client = TrackingClient(store)
        assert [(m.value, m.step) for m in client.get_metric_history(run.info.run_id, "no_step")] == [
            (1.5, 0)
        ]
        assert client.get_metric_history(run.info.run_id, "explicit") == [
            Metric("explicit", 2.5, 1_700_000_000_123, 7)
        ]
    got = runyard.get_run(run.info.run_id)
    assert got.data.metrics == {"a": 1.0, "b": 2.0, "c": 3.0, "explicit": 2.5, "no_step": 1.5}
    assert got.data.metric_summaries["a"].latest_step == 3
    assert got.data.metric_summaries["c"].latest_step == 0
    history_a = TrackingClient(store).get_metric_history(run.info.run_id, "a")
    history_b = TrackingClient(store).get_metric_history(run.info.run_id, "b")
    assert history_a[0].timestamp == history_b[0].timestamp  # one call, one timestamp


def test_log_metrics_with_timestamp(store: str) -> None:
    with runyard.start_run() as run:
        runyard.log_metrics({"x": 1.0}, step=2, timestamp=1_234)
    history = TrackingClient(store).get_metric_history(run.info.run_id, "x")
    assert history == [Metric("x", 1.0, 1_234, 2)]


def test_run_entity_like_mlflow(store: str) -> None:
    runyard.set_experiment("entity")
    with runyard.start_run(run_name="r") as run:
        runyard.log_param("p", "1")
        runyard.log_metric("m", 0.5, step=1)
        runyard.set_tag("t", "v")
    got = runyard.get_run(run.info.run_id)
    info = got.info
    assert (info.run_id, info.run_uuid, info.run_name) == (run.info.run_id, run.info.run_id, "r")
    assert info.experiment_id == runyard.get_experiment_by_name("entity").experiment_id  # type: ignore[union-attr]
    assert info.user_id
    assert info.lifecycle_stage == "active"
    assert info.start_time is not None and info.end_time is not None
    assert Path(info.artifact_uri).is_absolute()
    assert got.data.params == {"p": "1"}
    assert got.data.metrics == {"m": 0.5}
    assert got.data.tags["t"] == "v"
    with pytest.raises(runyard.RunNotFound):
        runyard.get_run("0" * 32)
    with pytest.raises(KeyError):  # RunNotFound is a KeyError, as a user would catch
        runyard.get_run("f" * 32)


def test_logging_without_active_run_starts_one(store: str) -> None:
    runyard.set_experiment("auto")
    runyard.log_metric("m", 1.0)
    run = runyard.active_run()
    assert run is not None
    runyard.end_run()
    assert runyard.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_artifacts_round_trip(store: str, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("A")
    (source / "sub" / "b.txt").write_text("BB")
    single = tmp_path / "model.bin"
    single.write_bytes(b"\x00\x01")
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_artifact(single)
        runyard.log_artifact(single, artifact_path="models/v1")
        runyard.log_artifacts(source, artifact_path="data")
        runyard.log_text("hello", "notes/readme.txt")
        runyard.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.json")
    client = TrackingClient(store)
    run_id = run.info.run_id
    top = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [
        ("data", True),
        ("models", True),
        ("notes", True),
        ("config.json", False),
        ("model.bin", False),
    ]
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "data/sub")] == [
        ("data/sub/b.txt", 2)
    ]
    assert runyard.list_artifacts(run_id, "models/v1")[0].path == "models/v1/model.bin"
    root = Path(run.info.artifact_uri)
    assert (root / "notes" / "readme.txt").read_text() == "hello"
    assert json.loads((root / "config.json").read_text()) == {"lr": 0.1, "layers": [1, 2]}
    destination = tmp_path / "download"
    copied = Path(client.download_artifacts(run_id, "data", destination))
    assert (copied / "sub" / "b.txt").read_text() == "BB"
    whole = Path(client.download_artifacts(run_id))
    assert (whole / "models" / "v1" / "model.bin").read_bytes() == b"\x00\x01"
    one = Path(client.download_artifacts(run_id, "notes/readme.txt", tmp_path / "one"))
    assert one.read_text() == "hello"


def test_client_run_and_experiment_operations(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("old-name")
    client.rename_experiment(experiment_id, "new-name")
    assert client.get_experiment(experiment_id).name == "new-name"
    assert client.get_experiment_by_name("old-name") is None
    client.create_experiment("taken")
    with pytest.raises(runyard.ExperimentExists, match="taken"):
        client.rename_experiment(experiment_id, "taken")

    run = client.create_run(experiment_id, run_name="first")
    client.rename_run(run.info.run_id, "second")
    renamed = client.get_run(run.info.run_id)
    assert renamed.info.run_name == "second"
    assert renamed.data.tags["runyard.runName"] == "second"
    client.set_terminated(run.info.run_id, "FAILED", end_time=1_700_000_000_000)
    ended = client.get_run(run.info.run_id).info
    assert (ended.status, ended.end_time) == ("FAILED", 1_700_000_000_000)
    with pytest.raises(ValueError, match="RUNNING"):
        client.set_terminated(run.info.run_id, "RUNNING")


def test_client_log_batch_and_history(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("batch")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 0.9, 1000, 0), Metric("loss", 0.5, 2000, 1), Metric("acc", 0.1, 1000, 0)],
        params={"seed": 1},
        tags={"stage": "b"},
    )
    client.log_metric(run_id, "loss", 0.3, timestamp=3000, step=2)
    client.log_metric(run_id, "acc", 0.2)  # step None means 0, timestamp is now
    history = client.get_metric_history(run_id, "loss")
    assert [(m.value, m.timestamp, m.step) for m in history] == [
        (0.9, 1000, 0),
        (0.5, 2000, 1),
        (0.3, 3000, 2),
    ]
    acc = client.get_metric_history(run_id, "acc")
    assert [m.step for m in acc] == [0, 0]
    assert acc[1].timestamp > 1_600_000_000_000
    got = client.get_run(run_id)
    assert got.data.params == {"seed": "1"}
    assert got.data.tags["stage"] == "b"
    assert got.data.metrics["loss"] == 0.3
    assert client.get_metric_history(run_id, "missing") == []


def test_flush_makes_points_visible_to_another_client(store: str) -> None:
    with runyard.start_run() as run:
        for step in range(50):
            runyard.log_metric("m", float(step), step=step)
        runyard.flush()
        reader = TrackingClient(store)
        assert len(reader.get_metric_history(run.info.run_id, "m")) == 50
        assert reader.get_run(run.info.run_id).data.metric_summaries["m"].count == 50


def test_nan_and_infinities_round_trip(store: str) -> None:
    with runyard.start_run() as run:
        runyard.log_metric("nan", float("nan"), step=0)
        runyard.log_metric("pinf", float("inf"), step=0)
        runyard.log_metric("ninf", float("-inf"), step=0)
        runyard.log_metric("mixed", 1.0, step=0)
        runyard.log_metric("mixed", float("inf"), step=1)
        runyard.log_metric("mixed", float("-inf"), step=2)
        runyard.log_metric("mixed", float("nan"), step=3)
    got = runyard.get_run(run.info.run_id)
    assert math.isnan(got.data.metrics["nan"])
    assert got.data.metrics["pinf"] == math.inf
    assert got.data.metrics["ninf"] == -math.inf
    mixed = got.data.metric_summaries["mixed"]
    assert math.isnan(mixed.latest_value) and mixed.latest_step == 3
    assert (mixed.min_value, mixed.max_value, mixed.count) == (-math.inf, math.inf, 4)
    values = [m.value for m in TrackingClient(store).get_metric_history(run.info.run_id, "mixed")]
    assert values[:3] == [1.0, math.inf, -math.inf] and math.isnan(values[3])
    nan_only = got.data.metric_summaries["nan"]
    assert math.isnan(nan_only.min_value) and math.isnan(nan_only.max_value)


def test_history_keeps_duplicate_points(store: str) -> None:
    with runyard.start_run() as run:
        runyard.log_metric("dup", 1.0, step=5, timestamp=1000)
        runyard.log_metric("dup", 1.0, step=5, timestamp=1000)
        runyard.flush()
        runyard.log_metric("dup", 1.0, step=5, timestamp=1000)
    history = TrackingClient(store).get_metric_history(run.info.run_id, "dup")
    assert history == [Metric("dup", 1.0, 1000, 5)] * 3
    assert runyard.get_run(run.info.run_id).data.metric_summaries["dup"].count == 3


def test_summary_over_several_flushes(store: str) -> None:
    with runyard.start_run() as run:
        # Out of order on purpose: latest is the greatest (step, timestamp, value), not the last logged.
        runyard.log_metric("m", 5.0, step=10, timestamp=100)
        runyard.log_metric("m", -2.0, step=3, timestamp=900)
        runyard.flush()
        runyard.log_metric("m", 7.0, step=10, timestamp=50)  # same step, older timestamp: not latest
        runyard.log_metric("m", 9.0, step=2, timestamp=10)  # new max, not latest
        runyard.flush()
        runyard.log_metric("m", 4.0, step=10, timestamp=100)  # same step and time, smaller value: not latest
        runyard.flush()
        summary = runyard.get_run(run.info.run_id).data.metric_summaries["m"]
        assert (summary.latest_value, summary.latest_step, summary.latest_timestamp) == (5.0, 10, 100)
        runyard.log_metric("m", 6.0, step=10, timestamp=100)  # same step and time, greater value: latest
        runyard.log_metric("m", -3.0, step=1, timestamp=1)
    summary = runyard.get_run(run.info.run_id).data.metric_summaries["m"]
    assert (summary.latest_value, summary.latest_step, summary.latest_timestamp) == (6.0, 10, 100)
    assert (summary.min_value, summary.max_value, summary.count) == (-3.0, 9.0, 7)


def test_summary_within_one_batch_matches_several_batches(store: str) -> None:
    points = [(5.0, 10, 100), (-2.0, 3, 900), (7.0, 10, 50), (9.0, 2, 10), (4.0, 10, 100), (6.0, 10, 100)]
    with runyard.start_run() as run:
        for value, step, timestamp in points:
            runyard.log_metric("one_batch", value, step=step, timestamp=timestamp)
    summary = runyard.get_run(run.info.run_id).data.metric_summaries["one_batch"]
    assert (summary.latest_value, summary.min_value, summary.max_value, summary.count) == (6.0, -2.0, 9.0, 6)


def test_experiment_tags_set_and_replace(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("tagged", tags={"owner": "a"})
    client.set_experiment_tag(experiment_id, "owner", "b")
    client.set_experiment_tag(experiment_id, "team", "vision")
    assert client.get_experiment(experiment_id).tags == {"owner": "b", "team": "vision"}
    with pytest.raises(runyard.ExperimentNotFound):
        client.set_experiment_tag("missing", "k", "v")


def test_run_name_tag_and_column_agree(store: str) -> None:
    # Regression: a runName tag given at start was kept while the column got a generated name.
    with runyard.start_run(tags={"runyard.runName": "from-tag"}) as by_tag:
        pass
    with runyard.start_run(run_name="explicit", tags={"runyard.runName": "ignored"}) as explicit:
        pass
    for active, name in ((by_tag, "from-tag"), (explicit, "explicit")):
        got = runyard.get_run(active.info.run_id)
        assert got.info.run_name == name
        assert got.data.tags["runyard.runName"] == name


def test_start_run_leaves_the_global_random_sequence_alone(store: str) -> None:
    # Regression: naming a run drew from the global `random`, so a seeded script's training randomness
    # changed when runyard was added, and every run of a seeded script got the same name.
    import random

    random.seed(1234)
    expected = [random.random() for _ in range(3)]
    names = []
    for _ in range(2):
        random.seed(1234)
        with runyard.start_run() as active:
            names.append(active.info.run_name)
        assert [random.random() for _ in range(3)] == expected
    assert names[0] != names[1]


def test_log_batch_accepts_mlflow_style_entities(client: TrackingClient) -> None:
    # Regression: code written against MLflow passes lists of Param/RunTag; they crashed on `.items()`.
    from runyard import Param, RunTag

    run_id = client.create_run(client.create_experiment("entities")).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("m", 1.0, 1000, 0)],
        params=[Param("lr", "0.1"), Param("lr", "0.1"), Param("seed", "3")],
        tags=[RunTag("stage", "a"), RunTag("stage", "b")],
    )
    got = client.get_run(run_id)
    assert got.data.params == {"lr": "0.1", "seed": "3"}
    assert got.data.tags["stage"] == "b"
    with pytest.raises(runyard.InvalidInput, match="twice"):
        client.log_batch(run_id, params=[Param("x", "1"), Param("x", "2")])
    assert "x" not in client.get_run(run_id).data.params

"""System tags set through the API stay consistent with the run; runyard's own tags are read-only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import runyard
from runyard import InvalidInput, Metric, RunTag, TrackingClient

SetTags = Callable[[TrackingClient, str, dict[str, str]], object]

# Every user path that writes tags: TrackingClient.set_tag/set_tags/log_batch and the fluent API.
WAYS: dict[str, SetTags] = {
    "client.set_tag": lambda c, r, t: [c.set_tag(r, k, v) for k, v in t.items()],
    "client.set_tags": lambda c, r, t: c.set_tags(r, t),
    "client.log_batch": lambda c, r, t: c.log_batch(r, tags=[RunTag(k, v) for k, v in t.items()]),
    "fluent.set_tag": lambda c, r, t: [runyard.set_tag(k, v) for k, v in t.items()],
    "fluent.set_tags": lambda c, r, t: runyard.set_tags(t),
}


@pytest.fixture(params=list(WAYS))
def set_tags(request: pytest.FixtureRequest) -> SetTags:
    """One of the ways a user sets tags (the fluent ones act on the active run)."""
    return WAYS[request.param]


@pytest.fixture
def runs(tracking_uri: str) -> dict[str, str]:
    """root > child > grandchild in one experiment, a loner, and a run of another experiment."""
    runyard.set_tracking_uri(tracking_uri)
    client = TrackingClient()
    experiment = client.create_experiment("/tags")
    other = client.create_experiment("/other")
    root = client.create_run(experiment, run_name="root").info.run_id
    child = client.create_run(experiment, run_name="child", parent_run_id=root).info.run_id
    grandchild = client.create_run(experiment, run_name="grandchild", parent_run_id=child).info.run_id
    loner = client.create_run(experiment, run_name="loner").info.run_id
    stranger = client.create_run(other, run_name="stranger").info.run_id
    runyard.start_run(run_id=loner)  # the fluent ways act on the loner
    return {"root": root, "child": child, "grandchild": grandchild, "loner": loner, "stranger": stranger}


def test_run_name_tag_renames_the_run(runs: dict[str, str], set_tags: SetTags) -> None:
    client = TrackingClient()
    for key, name in (("runyard.runName", "renamed"), ("mlflow.runName", "renamed by mlflow")):
        set_tags(client, runs["loner"], {key: name})
        run = client.get_run(runs["loner"])
        assert run.info.run_name == name == run.data.tags["runyard.runName"]
        assert "mlflow.runName" not in run.data.tags
    assert [
        r.info.run_id for r in client.search_runs([run.info.experiment_id], "run_name = 'renamed by mlflow'")
    ] == [runs["loner"]]
    with pytest.raises(InvalidInput, match="characters"):
        set_tags(client, runs["loner"], {"runyard.runName": "x" * 300})
    assert client.get_run(runs["loner"]).info.run_name == "renamed by mlflow"


def test_parent_tag_must_name_a_run_of_the_same_experiment_not_below(
    runs: dict[str, str], set_tags: SetTags
) -> None:
    client = TrackingClient()
    loner = runs["loner"]
    refused = {
        "0" * 32: "does not exist",
        loner: "its own parent",
        runs["stranger"]: "same experiment",
    }
    for parent, message in refused.items():
        for key in ("runyard.parentRunId", "mlflow.parentRunId"):
            with pytest.raises(InvalidInput, match=message):
                set_tags(client, loner, {key: parent, "kept": "no"})
    run = client.get_run(loner)
    assert run.info.parent_run_id is None and "kept" not in run.data.tags  # nothing written

    set_tags(client, loner, {"mlflow.parentRunId": runs["grandchild"]})
    run = client.get_run(loner)
    assert run.info.parent_run_id == runs["grandchild"] == run.data.tags["runyard.parentRunId"]
    assert "mlflow.parentRunId" not in run.data.tags
    assert set(client.descendant_run_ids([runs["root"]])) == {runs["child"], runs["grandchild"], loner}


def test_a_run_cannot_move_below_its_own_descendant(runs: dict[str, str]) -> None:
    client = TrackingClient()
    for below in ("child", "grandchild"):
        with pytest.raises(InvalidInput, match="descendant of run .*cycle"):
            client.set_tag(runs["root"], "runyard.parentRunId", runs[below])
    assert client.get_run(runs["root"]).info.parent_run_id is None
    client.set_tag(runs["grandchild"], "runyard.parentRunId", runs["root"])  # up the tree is fine
    assert client.get_run(runs["grandchild"]).info.parent_run_id == runs["root"]


def test_runyard_system_tags_are_refused_by_name(runs: dict[str, str], set_tags: SetTags) -> None:
    client = TrackingClient()
    before = client.get_run(runs["loner"]).data.tags
    for key in ("runyard.user", "runyard.source.git.commit", "runyard.command", "runyard.anything"):
        with pytest.raises(InvalidInput, match=f"Tag '{key}' is written by runyard"):
            set_tags(client, runs["loner"], {key: "forged", "fine": "x"})
    assert client.get_run(runs["loner"]).data.tags == before
    with pytest.raises(InvalidInput, match="runyard.user"):
        client.log_batch(runs["loner"], metrics=[Metric("m", 1.0, 0, 0)], tags={"runyard.user": "x"})
    assert client.get_run(runs["loner"]).data.metrics == {}  # the whole batch was refused


def test_notes_and_mlflow_tags_stay_allowed(runs: dict[str, str], set_tags: SetTags) -> None:
    client = TrackingClient()
    tags = {
        "runyard.note.content": "# notes",
        "mlflow.note.content": "mlflow notes",
        "mlflow.source.name": "train.py",
        "mlflow.user": "alice",
    }
    set_tags(client, runs["loner"], tags)
    stored = client.get_run(runs["loner"]).data.tags
    assert {key: stored[key] for key in tags} == tags


def test_delete_tag_keeps_system_tags_consistent(runs: dict[str, str]) -> None:
    client = TrackingClient()
    for key in ("runyard.runName", "mlflow.runName", "runyard.user"):
        with pytest.raises(InvalidInput, match="cannot be deleted"):
            client.delete_tag(runs["child"], key)
    client.delete_tag(runs["child"], "runyard.parentRunId")  # detaches the run
    run = client.get_run(runs["child"])
    assert run.info.parent_run_id is None and "runyard.parentRunId" not in run.data.tags


def test_mlflow_style_create_run_tags_set_the_columns(runs: dict[str, str]) -> None:
    client = TrackingClient()
    experiment = client.get_run(runs["root"]).info.experiment_id
    run = client.create_run(
        experiment, tags={"mlflow.runName": "from-tag", "mlflow.parentRunId": runs["root"]}
    )
    assert run.info.run_name == "from-tag" == run.data.tags["runyard.runName"]
    assert run.info.parent_run_id == runs["root"] == run.data.tags["runyard.parentRunId"]
    assert not any(key.startswith("mlflow.") for key in run.data.tags)


def test_copies_keep_system_tags_through_their_own_path(tmp_path: Path) -> None:
    source = TrackingClient(str(tmp_path / "source.db"))
    experiment = source.create_experiment("/copied")
    parent = source.create_run(experiment, run_name="parent").info.run_id
    child = source.create_run(
        experiment, run_name="child", parent_run_id=parent, tags={"runyard.user": "ana"}
    )
    source.set_tag(child.info.run_id, "runyard.note.content", "notes")
    runyard.copy_runs(source.tracking_uri, str(tmp_path / "target.db"))
    copied = TrackingClient(str(tmp_path / "target.db")).get_run(child.info.run_id)
    assert copied.info.parent_run_id == parent
    for key in ("runyard.user", "runyard.runName", "runyard.parentRunId", "runyard.note.content"):
        assert copied.data.tags[key] == child.data.tags.get(key, "notes")

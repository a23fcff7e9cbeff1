"""Validation: clear ValueError subclasses naming the key, and nothing half-written from a rejected call."""

from __future__ import annotations

from typing import Any

import pytest
import runyard
from runyard import InvalidInput, ParamImmutable, TrackingClient
from runyard.entities import Metric


@pytest.fixture
def run_id(tracking_uri: str) -> str:
    """An active fluent run on a fresh store."""
    runyard.set_tracking_uri(tracking_uri)
    return runyard.start_run(log_system_info=False).info.run_id


def _reader() -> TrackingClient:
    return TrackingClient(runyard.get_tracking_uri())


# ----------------------------------------------------------------------------- params
def test_same_param_value_again_is_fine(run_id: str) -> None:
    runyard.log_param("lr", 0.1)
    runyard.log_param("lr", "0.1")
    runyard.log_params({"lr": 0.1, "new": 1})
    assert runyard.get_run(run_id).data.params == {"lr": "0.1", "new": "1"}


def test_changed_param_names_key_old_and_new_value(run_id: str) -> None:
    runyard.log_param("lr", 0.1)
    with pytest.raises(ParamImmutable) as caught:
        runyard.log_param("lr", 0.2)
    assert isinstance(caught.value, ValueError)
    assert caught.value.key == "lr"
    message = str(caught.value)
    assert "'lr'" in message and "'0.1'" in message and "'0.2'" in message
    assert runyard.get_run(run_id).data.params == {"lr": "0.1"}


def test_rejected_log_params_batch_writes_nothing(run_id: str) -> None:
    runyard.log_param("lr", 0.1)
    with pytest.raises(ParamImmutable, match="lr"):
        runyard.log_params({"a": 1, "b": 2, "lr": 0.5, "z": 3})
    assert runyard.get_run(run_id).data.params == {"lr": "0.1"}


def test_rejected_param_value_in_batch_writes_nothing(run_id: str) -> None:
    with pytest.raises(InvalidInput, match="big"):
        runyard.log_params({"ok": 1, "big": "x" * 6001})
    assert runyard.get_run(run_id).data.params == {}


def test_param_value_length_limit(run_id: str) -> None:
    runyard.log_param("edge", "x" * 6000)
    with pytest.raises(InvalidInput, match="over") as caught:
        runyard.log_param("over", "x" * 6001)
    assert caught.value.key == "over"
    assert runyard.get_run(run_id).data.params == {"edge": "x" * 6000}


def test_tag_value_length_limit(run_id: str) -> None:
    runyard.set_tag("edge", "y" * 8000)
    with pytest.raises(InvalidInput, match="over") as caught:
        runyard.set_tag("over", "y" * 8001)
    assert caught.value.key == "over"
    with pytest.raises(InvalidInput, match="over"):
        runyard.set_tags({"fine": "1", "over": "y" * 8001})
    tags = runyard.get_run(run_id).data.tags
    assert tags["edge"] == "y" * 8000
    assert "over" not in tags and "fine" not in tags


# ----------------------------------------------------------------------------- keys
@pytest.mark.parametrize(
    "key",
    ["a-b_c.d/e f", "loss", "train/loss", "Ünïcode_letters", "0", "k" * 250, "a.b-c_d e/f/g", "val:loss"],
)
def test_valid_keys(run_id: str, key: str) -> None:
    runyard.log_param(key, 1)
    runyard.set_tag(key, "v")
    runyard.log_metric(key, 1.0)
    data = runyard.get_run(run_id).data
    assert data.params[key] == "1" and data.tags[key] == "v" and data.metrics[key] == 1.0


@pytest.mark.parametrize(
    "key",
    [
        "",
        "semi;colon",
        "quote'",
        'dq"',
        "new\nline",
        "star*",
        "k" * 251,
        "/leading",
        "a//b",
        " pad",
        "x\x00y",
    ],
)
def test_invalid_keys_rejected_for_every_kind(run_id: str, key: str) -> None:
    for call in (
        lambda: runyard.log_param(key, 1),
        lambda: runyard.set_tag(key, "v"),
        lambda: runyard.log_metric(key, 1.0),
        lambda: runyard.log_metrics({key: 1.0}),
    ):
        with pytest.raises(InvalidInput) as caught:
            call()
        assert isinstance(caught.value, ValueError)
        assert caught.value.key == key
    runyard.flush()
    data = runyard.get_run(run_id).data
    assert data.params == {} and data.metrics == {}


def test_a_colon_key_mlflow_accepts_is_searchable(run_id: str) -> None:
    runyard.log_metric("eval:acc", 0.9)
    runyard.flush()
    found = runyard.search_runs(filter_string="metrics.`eval:acc` > 0.5", output_format="list")
    assert [run.info.run_id for run in found] == [run_id]


def test_key_too_long_message_says_limit(run_id: str) -> None:
    with pytest.raises(InvalidInput, match="250"):
        runyard.log_metric("k" * 251, 1.0)


@pytest.mark.parametrize("key", [None, 3, b"bytes"])
def test_non_string_keys_rejected(run_id: str, key: Any) -> None:
    with pytest.raises(InvalidInput):
        runyard.log_param(key, 1)
    with pytest.raises(InvalidInput):
        runyard.log_metric(key, 1.0)


# ----------------------------------------------------------------------------- metric values
@pytest.mark.parametrize("value", ["1.0", None, True, False, b"1", [1.0], {"v": 1}, object()])
def test_non_numeric_metric_values_rejected(run_id: str, value: Any) -> None:
    with pytest.raises(InvalidInput, match="loss") as caught:
        runyard.log_metric("loss", value)
    assert caught.value.key == "loss"
    runyard.flush()
    assert runyard.get_run(run_id).data.metrics == {}


def test_numbers_accepted(run_id: str) -> None:
    from fractions import Fraction

    runyard.log_metric("int", 3)
    runyard.log_metric("frac", Fraction(1, 4))
    # Regression: an int beyond float range raised OverflowError instead of being stored as +-inf.
    runyard.log_metric("huge", 10**400)
    runyard.log_metric("neg_huge", -(10**400))
    from decimal import Decimal

    runyard.log_metric("dec", Decimal("0.5"))  # regression: a Decimal was "not a number"
    with pytest.raises(InvalidInput):
        runyard.log_metric("cplx", 1 + 2j)
    metrics = runyard.get_run(run_id).data.metrics
    assert metrics == {"int": 3.0, "frac": 0.25, "huge": float("inf"), "neg_huge": float("-inf"), "dec": 0.5}


def test_numpy_scalars_accepted(run_id: str) -> None:
    np = pytest.importorskip("numpy")
    runyard.log_metric("f32", np.float32(0.5), step=np.int64(3))
    runyard.log_metric("i64", np.int64(7))
    runyard.log_metrics({"f64": np.float64(0.25), "arr0d": np.array(1.5)}, step=np.int32(2))
    with pytest.raises(InvalidInput, match="bool"):
        runyard.log_metric("bool", np.bool_(True))
    data = runyard.get_run(run_id).data
    assert data.metrics == {"arr0d": 1.5, "f32": 0.5, "f64": 0.25, "i64": 7.0}
    assert data.metric_summaries["f32"].latest_step == 3
    assert data.metric_summaries["f64"].latest_step == 2


@pytest.mark.parametrize("step", [1.5, "3", True])
def test_bad_step_rejected(run_id: str, step: Any) -> None:
    with pytest.raises(InvalidInput, match="step"):
        runyard.log_metric("m", 1.0, step=step)


@pytest.mark.parametrize("timestamp", [1.5, "3", True])
def test_bad_timestamp_rejected(run_id: str, timestamp: Any) -> None:
    with pytest.raises(InvalidInput, match="timestamp"):
        runyard.log_metric("m", 1.0, timestamp=timestamp)


def test_rejected_log_metrics_writes_nothing(run_id: str) -> None:
    with pytest.raises(InvalidInput, match="bad"):
        runyard.log_metrics({"a": 1.0, "b": 2.0, "bad": "x", "c": 3.0}, step=1)
    with pytest.raises(InvalidInput, match="bad key"):
        runyard.log_metrics({"a": 1.0, "bad key;": 2.0})
    runyard.flush()
    assert runyard.get_run(run_id).data.metrics == {}
    assert _reader().get_metric_history(run_id, "a") == []


def test_rejected_log_batch_writes_nothing(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("batch")).info.run_id
    client.log_param(run_id, "seed", 1)
    good = [Metric("loss", 0.5, 1000, 0)]
    attempts: list[dict[str, Any]] = [
        {"metrics": good + [Metric("loss", "x", 1000, 1)]},  # type: ignore[arg-type]
        {"metrics": good + [Metric("bad;key", 1.0, 1000, 1)]},
        {"metrics": good, "params": {"p": 1, "seed": 2}},  # immutable param, detected in the transaction
        {"metrics": good, "params": {"p": "x" * 6001}},
        {"metrics": good, "tags": {"t": "y" * 8001}},
        {"metrics": good, "params": {"p": 1}, "tags": {"bad key!": "v"}},
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput):
            client.log_batch(run_id, **attempt)
    got = client.get_run(run_id)
    assert got.data.params == {"seed": "1"}
    assert got.data.metrics == {}
    assert "t" not in got.data.tags
    assert client.get_metric_history(run_id, "loss") == []


def test_run_and_experiment_names_validated(tracking_uri: str) -> None:
    runyard.set_tracking_uri(tracking_uri)
    with pytest.raises(InvalidInput):
        runyard.create_experiment("")
    with pytest.raises(InvalidInput):
        runyard.create_experiment("/a//b")
    with pytest.raises(InvalidInput):
        runyard.start_run(run_name="n" * 251)
    assert runyard.active_run() is None


def test_writes_to_unknown_run_fail_clearly(client: TrackingClient) -> None:
    with pytest.raises(runyard.RunNotFound):
        client.log_param("0" * 32, "k", "v")
    with pytest.raises(runyard.RunNotFound):
        client.log_batch("0" * 32, metrics=[Metric("m", 1.0, 1, 0)])


@pytest.mark.parametrize("field", ["step", "timestamp"])
@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 10**30])
def test_out_of_range_step_or_timestamp_rejected_and_writer_keeps_going(
    run_id: str, field: str, number: int
) -> None:
    # Regression: a step beyond BIGINT was accepted, then made every later flush fail (all points stuck).
    with pytest.raises(InvalidInput, match="out of range"):
        runyard.log_metric("m", 1.0, **{field: number})
    with pytest.raises(InvalidInput, match="out of range"):
        runyard.log_metrics({"m": 1.0}, **{field: number})
    runyard.log_metric("ok", 1.0, step=2**63 - 1, timestamp=2**63 - 1)
    runyard.log_metric("ok", 2.0, step=-(2**63), timestamp=0)
    runyard.flush()
    history = _reader().get_metric_history(run_id, "ok")
    assert [(m.step, m.timestamp) for m in history] == [(-(2**63), 0), (2**63 - 1, 2**63 - 1)]


def test_out_of_range_step_rejected_by_log_batch(client: TrackingClient) -> None:
    run_id = client.create_run(client.create_experiment("range")).info.run_id
    with pytest.raises(InvalidInput, match="out of range"):
        client.log_batch(run_id, metrics=[Metric("m", 1.0, 1000, 2**64)])
    with pytest.raises(InvalidInput, match="out of range"):
        client.log_metric(run_id, "m", 1.0, timestamp=2**64)
    assert client.get_metric_history(run_id, "m") == []


def test_nul_characters_rejected_on_every_backend(run_id: str) -> None:
    # Regression: PostgreSQL raised a raw driver DataError (and SQLite stored them): now one clear error.
    with pytest.raises(InvalidInput, match="NUL") as caught:
        runyard.log_param("p", "a\x00b")
    assert caught.value.key == "p"
    with pytest.raises(InvalidInput, match="NUL"):
        runyard.set_tag("t", "a\x00b")
    with pytest.raises(InvalidInput, match="NUL"):
        runyard.create_experiment("exp\x00")
    with pytest.raises(InvalidInput, match="NUL"):
        _reader().rename_run(run_id, "run\x00")
    with pytest.raises(InvalidInput, match="NUL"):
        _reader().log_batch(run_id, params={"ok": "1"}, tags={"t": "\x00"})
    data = runyard.get_run(run_id).data
    assert data.params == {} and "t" not in data.tags

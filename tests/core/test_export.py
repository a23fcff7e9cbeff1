"""CSV export (the `runs list --csv` shape, RFC 4180 quoting, UTF-8) and the pandas frame of search_runs."""

from __future__ import annotations

import csv
import io
import math
import sys
from pathlib import Path

import pytest
import runyard
from runyard import Metric, MissingExtra, TrackingClient
from runyard.entities import Run


def _two_runs(client: TrackingClient) -> list[Run]:
    experiment_id = client.create_experiment("export")
    first = client.create_run(
        experiment_id, run_name="plain", user_id="ana", start_time=1000, source_name="train.py"
    )
    client.log_batch(
        first.info.run_id,
        metrics=[Metric("loss", 0.5, 1, 0), Metric("loss", 0.25, 2, 1), Metric("acc", 1.0, 1, 0)],
        params={"lr": "0.1", "note": 'say "hi", then\nleave'},
    )
    second = client.create_run(experiment_id, run_name="ünï, cödé", user_id="bo", start_time=2000)
    client.log_batch(
        second.info.run_id,
        metrics=[Metric("zeta", math.nan, 1, 0)],
        params={"batch": "32"},
        tags={"team": "vision"},
    )
    client.set_terminated(second.info.run_id, "FAILED", end_time=2500)
    return [client.get_run(first.info.run_id), client.get_run(second.info.run_id)]


def test_csv_header_values_and_quoting(client: TrackingClient, tmp_path: Path) -> None:
    first, second = _two_runs(client)
    path = tmp_path / "runs.csv"
    runyard.export_runs_csv([first, second], path, {first.info.experiment_id: "export"})
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    fixed = "run_id,run_name,experiment_id,experiment_name,status,lifecycle_stage,user_id,start_time,end_time"
    assert text.startswith(
        f"{fixed},duration_s,parent_run_id,params.batch,params.lr,params.note,metrics.acc,metrics.loss,"
        "metrics.zeta,tags.team\r\n"
    )
    assert '"say ""hi"", then\nleave"' in text  # quotes doubled, the field quoted, the newline kept
    assert '"ünï, cödé"' in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["run_name"] for row in rows] == ["plain", "ünï, cödé"]
    assert rows[0]["experiment_name"] == "export" and rows[0]["params.note"] == 'say "hi", then\nleave'
    assert (rows[0]["metrics.acc"], rows[0]["metrics.loss"], rows[0]["metrics.zeta"]) == ("1.0", "0.25", "")
    assert (rows[1]["status"], rows[1]["metrics.zeta"], rows[1]["tags.team"]) == ("FAILED", "nan", "vision")
    assert rows[1]["duration_s"] == "0.5" and rows[1]["end_time"].startswith("1970-01-01")
    assert rows[0]["start_time"] == runyard.formatting.format_time(1000, with_zone=True)
    assert len(rows) == 2


def test_csv_prefixes_shared_names_and_says_lost(client: TrackingClient, tmp_path: Path) -> None:
    experiment_id = client.create_experiment("shared")
    run = client.create_run(experiment_id, run_name="stalled", start_time=1000)  # no heartbeat since
    client.log_batch(run.info.run_id, metrics=[Metric("lr", 0.5, 1, 0)], params={"lr": "0.1"})
    path = tmp_path / "runs.csv"
    assert runyard.export_runs_csv([client.get_run(run.info.run_id)], path) == 1
    (row,) = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    assert (row["params.lr"], row["metrics.lr"], row["status"]) == ("0.1", "0.5", "LOST")


def test_csv_to_open_text_and_binary_files(client: TrackingClient) -> None:
    runs = _two_runs(client)
    text_file = io.StringIO(newline="")
    runyard.export_runs_csv(runs, text_file)
    binary_file = io.BytesIO()
    runyard.export_runs_csv(runs, binary_file)
    assert not binary_file.closed  # the caller's file stays open
    assert binary_file.getvalue().decode("utf-8") == text_file.getvalue()
    assert text_file.getvalue().count("\r\n") == 3  # header and two records; the note keeps its bare \n


def test_csv_of_no_runs_is_the_fixed_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    runyard.export_runs_csv([], str(path))
    assert path.read_bytes().decode("utf-8") == ",".join(runyard.tracking.export.CSV_FIXED_COLUMNS) + "\r\n"


def test_client_export_writes_every_matching_run_with_names(client: TrackingClient, tmp_path: Path) -> None:
    first, second = _two_runs(client)
    path = tmp_path / "all.csv"
    count = client.export_runs_csv(
        path, [first.info.experiment_id], "params.batch = '32' OR params.lr = '0.1'"
    )
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    assert count == 2 and [row["run_name"] for row in rows] == ["ünï, cödé", "plain"]  # newest first
    assert {row["experiment_name"] for row in rows} == {"export"}


def _use_store(client: TrackingClient) -> None:
    runyard.set_tracking_uri(client.tracking_uri)


def test_search_runs_as_dataframe(client: TrackingClient) -> None:
    pd = pytest.importorskip("pandas")
    first, second = _two_runs(client)
    _use_store(client)
    frame = runyard.search_runs([first.info.experiment_id], output_format="pandas", order_by=["start_time"])
    assert list(frame.columns) == [
        "run_id", "experiment_id", "run_name", "status", "start_time", "end_time", "user_id",
        "params.batch", "params.lr", "params.note",
        "metrics.acc", "metrics.loss", "metrics.zeta",
        "tags.runyard.runName", "tags.team",
    ]  # fmt: skip
    assert list(frame["run_id"]) == [first.info.run_id, second.info.run_id]
    assert frame["metrics.loss"][0] == 0.25 and math.isnan(frame["metrics.loss"][1])
    assert math.isnan(frame["metrics.zeta"][1])
    assert frame["params.lr"][0] == "0.1" and pd.isna(frame["params.lr"][1])
    assert frame["start_time"][1] == pd.Timestamp(2000, unit="ms", tz="UTC")
    assert pd.isna(frame["end_time"][0]) and frame["end_time"][1] == pd.Timestamp(2500, unit="ms", tz="UTC")
    empty = runyard.search_runs([first.info.experiment_id], "params.lr = 'none'", output_format="pandas")
    assert list(empty.columns)[:7] == [
        "run_id",
        "experiment_id",
        "run_name",
        "status",
        "start_time",
        "end_time",
        "user_id",
    ]
    assert len(empty) == 0


def test_dataframe_without_pandas_names_the_extra(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_runs(client)
    _use_store(client)
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(MissingExtra, match=r"runyard\[pandas\]"):
        runyard.search_runs(search_all_experiments=True, output_format="pandas")
    assert isinstance(MissingExtra("x"), ImportError)

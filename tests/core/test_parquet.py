"""Parquet export: DuckDB and pandas read it back, counts equal the store's, Spark-safe types, flat memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from runyard import InvalidInput, Metric, TrackingClient
from runyard.cli import cli as cli_main
from runyard.interop.parquet import export_parquet

ALLOWED_TYPES = {"string", "int64", "double", "timestamp[ms, tz=UTC]"}


@pytest.fixture
def store(tracking_uri: str, tmp_path: Path) -> TrackingClient:
    client = TrackingClient(tracking_uri, artifact_root=str(tmp_path / "artifacts"))
    vision = client.create_experiment("/team/vision")
    nlp = client.create_experiment("/team/nlp")
    for index in range(3):
        run = client.create_run(vision, run_name=f"v{index}", start_time=1_700_000_000_000 + index)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("loss", 1.0 / (step + 1), 1_700_000_000_000 + step, step) for step in range(500)]
            + [Metric("acc", 0.5 + index / 10, 1_700_000_000_000, 0)],
            params={"lr": ("0.1", "0.2", "0.3")[index], "model": "resnet"},
            tags={"team": "cv"},
        )
        client.set_terminated(run.info.run_id)
    run = client.create_run(nlp, run_name="bert")
    client.log_batch(
        run.info.run_id, metrics=[Metric("loss", 0.3, 1_700_000_000_000, 0)], params={"lr": "0.01"}
    )
    return client


def _sql(out: Path, table: str, query: str) -> list[tuple[object, ...]]:
    source = f"read_parquet('{out}/{table}/*/*.parquet', hive_partitioning=1)"
    return duckdb.sql(query.replace("{src}", source)).fetchall()


def test_duckdb_reads_the_export_and_counts_match_the_store(store: TrackingClient, tmp_path: Path) -> None:
    out = tmp_path / "out"
    counts = export_parquet(store, out)
    assert counts["runs"] == 4 and counts["metric_history"] == 3 * 501 + 1 and counts["experiments"] == 2
    assert _sql(out, "runs", "SELECT count(*) FROM {src}") == [(4,)]
    assert _sql(out, "metric_history", "SELECT count(*) FROM {src}") == [(counts["metric_history"],)]
    per_experiment = dict(_sql(out, "runs", "SELECT experiment_id, count(*) FROM {src} GROUP BY 1"))
    vision = store.get_experiment_by_name("/team/vision")
    assert vision is not None and per_experiment[vision.experiment_id] == 3
    v1 = store.search_runs([vision.experiment_id], "attributes.run_name = 'v1'")[0]
    history = _sql(
        out,
        "metric_history",
        f"SELECT step, value FROM {{src}} WHERE run_id = '{v1.info.run_id}' AND key = 'loss' ORDER BY step",
    )
    stored = store.get_metric_history(v1.info.run_id, "loss")
    assert history == sorted((point.step, point.value) for point in stored)
    wide = _sql(
        out,
        "runs",
        f"""SELECT "params.lr", "metrics.acc", "tags.team", status FROM {{src}}
                                 WHERE run_id = '{v1.info.run_id}'""",
    )
    assert wide == [("0.2", pytest.approx(0.6), "cv", "FINISHED")]
    assert _sql(out, "params", "SELECT count(*) FROM {src} WHERE key = 'lr'") == [(4,)]


def test_every_column_has_a_spark_safe_type_and_every_runs_partition_the_same_schema(
    store: TrackingClient, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export_parquet(store, out)
    schemas = set()
    for path in (out / "runs").glob("experiment_id=*/*.parquet"):
        schema = pq.read_schema(path)
        schemas.add(tuple((field.name, str(field.type)) for field in schema))
        assert {str(field.type) for field in schema} <= ALLOWED_TYPES
    assert len(schemas) == 1  # the nlp run has no acc: the column is still there, null
    for table in ("params", "tags", "metrics", "metric_history", "experiments"):
        for path in (out / table).rglob("*.parquet"):
            assert {str(field.type) for field in pq.read_schema(path)} <= ALLOWED_TYPES, path
    frame = pd.read_parquet(out / "runs")
    assert len(frame) == 4 and "experiment_id" in frame.columns


def test_a_filter_and_an_experiment_narrow_the_export(store: TrackingClient, tmp_path: Path) -> None:
    out = tmp_path / "out"
    counts = export_parquet(store, out, ["/team/vision"], "params.lr = '0.1' OR params.lr = '0.3'")
    assert counts["runs"] == 2
    assert sorted(row[0] for row in _sql(out, "runs", "SELECT run_name FROM {src}")) == ["v0", "v2"]


def test_a_non_empty_directory_is_refused_and_nothing_is_left_half_written(
    store: TrackingClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not empty"):
        export_parquet(store, taken)
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    from runyard.interop import parquet

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(parquet, "_write_history", broken)
    with pytest.raises(OSError):
        export_parquet(store, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists() and not list(tmp_path.glob(".fresh*"))


def test_the_cli_writes_parquet_and_says_what_it_wrote(store: TrackingClient, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_main, ["export-parquet", str(tmp_path / "out"), "--store", store.tracking_uri, "-e", "/team/nlp"]
    )
    assert result.exit_code == 0, result.output
    assert "Exported 1 run(s) of 1 experiment(s) with 1 metric points" in result.output
    assert _sql(tmp_path / "out", "runs", "SELECT run_name FROM {src}") == [("bert",)]


def test_memory_stays_flat_while_a_large_history_streams(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import resource
        from runyard import TrackingClient
        from runyard.interop.parquet import export_parquet
        client = TrackingClient("sqlite:///{tmp_path / "big.db"}", artifact_root="{tmp_path / "a"}")
        experiment = client.create_experiment("big")
        for r in range(4):
            run_id = client.create_run(experiment).info.run_id
            for start in range(0, 300_000, 100_000):
                client.store.log_batch(run_id, [("m", float(s), 1, s) for s in range(start, start + 100_000)])
        import gc; gc.collect()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        counts = export_parquet(client, "{tmp_path / "out"}")
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(counts["metric_history"], (after - before) // 1024)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    points, growth_mb = map(int, result.stdout.split())
    assert points == 1_200_000
    # Holding 1.2M points as Python rows would take several hundred MB; streaming holds one row group.
    assert growth_mb < 150, f"peak RSS grew by {growth_mb} MB while exporting"

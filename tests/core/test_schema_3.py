"""Schema 3 (console output, batch ids, settings, users and permissions, recent points): `db upgrade`
of a store written by the release before (schema 2) keeps everything and makes the new tables usable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from runyard import TrackingClient
from runyard.exceptions import SchemaVersionError
from runyard.store.schema import CURRENT_SCHEMA_VERSION
from sqlalchemy import text

FIXTURE = Path(__file__).parent / "data" / "store_schema_2.sql"
SCHEMA_3_TABLES = (
    "console_chunks run_batches store_settings users experiment_permissions access_tokens auth_audit"
).split()


def _count(client: TrackingClient, table: str) -> int:
    with client.store.db.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_schema_2_store_is_refused_until_db_upgrade_then_keeps_every_run(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from runyard.cli import cli

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # written by the release before (schema 2)
        connection.executescript(FIXTURE.read_text())
    connection.close()
    uri = f"sqlite:///{path}"
    with pytest.raises(SchemaVersionError, match="runyard db upgrade"):
        TrackingClient(uri).list_experiments()
    result = CliRunner().invoke(cli, ["db", "upgrade", "--store", uri])
    assert result.exit_code == 0, result.output
    assert "2" in result.output and str(CURRENT_SCHEMA_VERSION) in result.output
    client = TrackingClient(uri, artifact_root=str(tmp_path / "artifacts"))
    experiment = client.get_experiment_by_name("schema-2")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.run_name"])
    assert [run.info.run_name for run in runs] == ["run-0", "run-1"]
    assert runs[0].data.params == {"lr": "0.1"} and runs[0].data.tags["stage"] == "dev"
    assert [m.value for m in client.get_metric_history(runs[1].info.run_id, "loss")] == [0.5, 0.25, 1 / 6]
    assert runs[0].inputs.dataset_inputs[0].dataset.name == "iris"
    assert runs[1].data.metric_summaries["loss"].count == 3 and runs[1].data.metrics["loss"] == 1 / 6
    # params, tags and summaries were rebuilt clustered on (run, key): nothing lost, filters still work
    with sqlite3.connect(path) as raw:
        clustered = {
            name
            for name, sql in raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            if sql and "WITHOUT ROWID" in sql
        }
        indexes = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    raw.close()
    assert {"params", "tags", "metric_summaries"} <= clustered
    assert {
        "ix_params_key_value",
        "ix_tags_key_value",
        "ix_metric_summaries_key_latest",
        "ix_runs_overview",
    } <= indexes
    found = client.search_runs(
        [experiment.experiment_id], "params.lr = '0.2' AND metrics.loss < 0.6 AND tags.stage = 'dev'"
    )
    assert [run.info.run_name for run in found] == ["run-1"]
    for table in SCHEMA_3_TABLES:
        assert _count(client, table) == 0
    # the upgraded store takes new points, and a second upgrade is a no-op
    client.log_metric(runs[0].info.run_id, "loss", 0.1, step=3)
    assert len(client.get_metric_history(runs[0].info.run_id, "loss")) == 4
    again = CliRunner().invoke(cli, ["db", "upgrade", "--store", uri])
    assert again.exit_code == 0, again.output


def test_upgrade_from_schema_2_on_every_backend(tracking_uri: str, tmp_path: Path) -> None:
    from runyard.store.db import Database
    from runyard.store.schema import upgrade
    from sqlalchemy import create_engine

    client = TrackingClient(tracking_uri, artifact_root=str(tmp_path / "a"))
    run_id = client.create_run(client.create_experiment("x")).info.run_id
    client.log_metric(run_id, "loss", 1.0, step=0)
    client.store.db.dispose()
    engine = create_engine(tracking_uri)
    with engine.begin() as conn:  # back to the shape of schema 2
        for table in reversed(SCHEMA_3_TABLES):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("ALTER TABLE metric_summaries DROP COLUMN recent"))
        conn.execute(text("DROP INDEX ix_runs_overview"))
        conn.execute(text("UPDATE schema_version SET version = 2"))
    engine.dispose()
    database = Database(tracking_uri)
    try:
        assert upgrade(database) == (2, CURRENT_SCHEMA_VERSION)
    finally:
        database.dispose()
    client = TrackingClient(tracking_uri, artifact_root=str(tmp_path / "a"))
    client.log_metric(run_id, "loss", 0.5, step=1)
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [1.0, 0.5]
    for table in SCHEMA_3_TABLES:
        assert _count(client, table) == 0

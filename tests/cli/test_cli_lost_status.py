"""Every CLI output shows LOST for a RUNNING run whose heartbeat stopped, as the TUI does."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from click.testing import CliRunner
from runyard import TrackingClient
from runyard.cli import cli
from runyard.config import STALE_HEARTBEAT_MS
from runyard.entities import RunStatus


def _store(tracking_uri: str) -> dict[str, str]:
    client = TrackingClient(tracking_uri)
    experiment_id = client.create_experiment("/e")
    now = time.time_ns() // 1_000_000
    stalled = client.create_run(experiment_id, run_name="stalled", start_time=now - 3 * STALE_HEARTBEAT_MS)
    alive = client.create_run(experiment_id, run_name="alive")
    done = client.create_run(experiment_id, run_name="done", start_time=now - 3 * STALE_HEARTBEAT_MS)
    client.set_terminated(done.info.run_id)
    return {"stalled": stalled.info.run_id, "alive": alive.info.run_id, "done": done.info.run_id}


def _cli(tracking_uri: str, *args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--store", tracking_uri])
    assert result.exit_code == 0, result.output
    return result.output


def test_runs_list_and_search_show_lost(tracking_uri: str, tmp_path: Path) -> None:
    ids = _store(tracking_uri)
    expected = {"stalled": "LOST", "alive": "RUNNING", "done": "FINISHED"}
    for command in (["runs", "list"], ["runs", "search", "-e", "/e", "-f", "attributes.status = 'RUNNING'"]):
        table = _cli(tracking_uri, *command)
        for name, run_id in ids.items():
            line = next((line for line in table.splitlines() if line.startswith(run_id)), None)
            if line is None:
                assert name == "done"  # not RUNNING: the search leaves it out
                continue
            assert f" {expected[name]} " in line, line
        records = json.loads(_cli(tracking_uri, *command, "--json"))
        assert {r["run_name"]: r["status"] for r in records}.items() <= expected.items()
        assert {r["run_name"] for r in records} >= {"stalled", "alive"}
        rows = list(csv.DictReader(io.StringIO(_cli(tracking_uri, *command, "--csv"))))
        assert {r["run_name"]: r["status"] for r in rows}.items() <= expected.items()
    output = tmp_path / "runs.csv"
    _cli(tracking_uri, "export-csv", str(output))
    rows = list(csv.DictReader(output.open(newline="")))
    assert {row["run_name"]: row["status"] for row in rows} == expected


def test_one_rule_decides_the_shown_status(tracking_uri: str) -> None:
    from runyard.tui.widgets.tables.run_rows import status_text

    ids = _store(tracking_uri)
    client = TrackingClient(tracking_uri)
    now = time.time_ns() // 1_000_000
    for run_id in ids.values():
        run = client.get_run(run_id)
        assert status_text(run, now) == run.info.display_status(now) == run.info.display_status()
    stalled = client.get_run(ids["stalled"]).info
    assert stalled.status == RunStatus.RUNNING  # stored as is: only the display says LOST
    assert stalled.display_status(stalled.start_time or 0) == RunStatus.RUNNING

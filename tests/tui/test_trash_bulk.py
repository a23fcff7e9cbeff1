"""Pilot tests of the trash's bulk-by-time dialogs: dry-run count first, then the count done."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from helpers import NOW_MS, make_app, open_trash, settle, trash_delete, trash_names
from runyard import TrackingClient
from runyard.tui.modals.bulk_delete import BulkDeleteModal, parse_max_runs
from runyard.tui.modals.bulk_restore import BulkRestoreModal
from textual.widgets import Button, Input, Select

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]
MINUTE = 60_000
DAY = 86_400_000


def iso(timestamp_ms: int) -> str:
    """A zoned ISO timestamp (independent of the machine's time zone)."""
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).isoformat()


def stages(client: TrackingClient, ids: dict[str, str], names: list[str]) -> dict[str, str]:
    """lifecycle_stage by run name."""
    return {name: client.get_run(ids[name]).info.lifecycle_stage for name in names}


async def test_bulk_delete_shows_the_dry_run_count_then_deletes_the_oldest(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot, [ids["vision"]])
        await pilot.press("D")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, BulkDeleteModal)
        date = modal.query_one("#bulk-date", Input)
        date.value = iso(NOW_MS - 150 * MINUTE)  # baseline, wide-resnet, deep-resnet started before
        await settle(pilot)
        assert modal.count_text == "3 runs will be moved to the trash."
        assert stages(client, ids, ["baseline"]) == {"baseline": "active"}  # only counted
        modal.query_one("#bulk-max", Input).value = "2"
        await settle(pilot)
        assert modal.count_text == "2 runs (the max) will be moved to the trash."
        button = modal.query_one("#bulk-apply", Button)
        assert not button.disabled and str(button.label) == "Delete 2 runs"
        date.focus()
        await pilot.press("enter")  # to the button
        assert pilot.app.focused is button
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is trash
        assert "Moved 2 runs to the trash." in trash.status_text
        assert stages(client, ids, ["baseline", "wide-resnet", "deep-resnet"]) == {
            "baseline": "deleted",
            "wide-resnet": "deleted",
            "deep-resnet": "active",  # the max stopped at the two oldest
        }
        assert sorted(trash_names(trash.table)) == ["baseline", "wide-resnet"]


async def test_bulk_delete_refuses_bad_input_in_place(store: Store) -> None:
    client, ids = store
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await open_trash(pilot, [ids["vision"]])
        await pilot.press("D")
        await settle(pilot)
        modal = pilot.app.screen
        modal.query_one("#bulk-max", Input).value = "10001"
        await settle(pilot)
        assert "from 1 to 10,000" in modal.count_text
        assert modal.query_one("#bulk-apply", Button).disabled
        modal.query_one("#bulk-max", Input).value = "10000"
        modal.query_one("#bulk-date", Input).value = "last tuesday"
        await settle(pilot)
        assert "is not a date" in modal.count_text
        assert modal.query_one("#bulk-apply", Button).disabled
        modal.query_one("#bulk-date", Input).value = "2000-01-01"
        await settle(pilot)
        assert modal.count_text == "No runs match: nothing will be moved to the trash."
        assert modal.query_one("#bulk-apply", Button).disabled
        await pilot.press("escape")
        await settle(pilot)
        assert client.search_runs([ids["vision"]], run_view_type="DELETED_ONLY") == []


async def test_bulk_restore_counts_then_restores_runs_deleted_since_a_date(store: Store) -> None:
    client, ids = store
    trash_delete(client, ids["baseline"], days_ago=5)
    trash_delete(client, [ids["tuned"], ids["wide-resnet"]], days_ago=1)
    trash_delete(client, ids["bert-base"], days_ago=1)
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        trash = await open_trash(pilot)  # all experiments: the dialog offers a choice
        trash.table.cursor_row = trash_names(trash.table).index("tuned")
        await pilot.press("U")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, BulkRestoreModal)
        chooser = modal.query_one("#bulk-experiment", Select)
        assert chooser.value == ids["vision"]  # the experiment of the run under the cursor
        modal.query_one("#bulk-date", Input).value = iso(NOW_MS - 2 * DAY)
        await settle(pilot)
        assert modal.count_text == "2 runs will be restored."
        assert modal.query_one("#bulk-apply", Button).variant == "primary"  # restoring is not destructive
        modal.query_one("#bulk-date", Input).focus()
        await pilot.press("enter")  # Enter in a field restores the counted runs
        await settle(pilot)
        assert pilot.app.screen is trash
        assert "Restored 2 runs." in trash.status_text
        assert stages(client, ids, ["tuned", "wide-resnet", "baseline", "bert-base"]) == {
            "tuned": "active",
            "wide-resnet": "active",
            "baseline": "deleted",  # deleted before the date
            "bert-base": "deleted",  # another experiment
        }
        assert sorted(trash_names(trash.table)) == ["baseline", "bert-base"]


def test_max_runs_accepts_1_to_10000_only() -> None:
    assert parse_max_runs("1") == 1 and parse_max_runs("10,000") == 10_000
    for bad in ("0", "10001", "-3", "ten", ""):
        with pytest.raises(ValueError, match="from 1 to 10,000"):
            parse_max_runs(bad)

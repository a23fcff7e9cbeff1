"""Small things users noticed: plurals, help wording, a stale status, dialog keys and buttons."""

from __future__ import annotations

import pytest
from helpers import make_app, open_resnet, open_trash, settle, trash_delete
from runyard import TrackingClient
from textual.color import Color

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


async def test_one_run_is_1_run_in_the_header_and_the_status_line(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        table = await open_resnet(pilot)
        await pilot.press("slash", *"attributes.run_name = 'tuned'", "enter")
        await settle(pilot)
        assert len(table.rows) == 1
        status = str(pilot.app.screen.query_one("#status-line").render())
        assert status.startswith("1 run ·") and "1 runs" not in status
        solo = client.create_experiment("/solo")
        client.create_run(solo, run_name="only")
        screen = pilot.app.screen
        screen.action_reload()
        await settle(pilot)
        assert screen.experiment_tree.select_view(f"experiment:{solo}")
        await settle(pilot, rounds=5)
        assert "/solo · 1 run ·" in str(screen.query_one("#overview").render())


async def test_the_trash_scope_key_says_what_it_does(store: Store) -> None:
    client, ids = store
    trash_delete(client, [ids["baseline"]])
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        await open_trash(pilot, [ids["vision"]])
        texts = [b.tooltip for b in pilot.app.screen._bindings.key_to_bindings.get("a", [])]
        texts += [
            b.tooltip
            for bindings in pilot.app.screen._bindings.key_to_bindings.values()
            for b in bindings
            if b.id == "trash.scope"
        ]
        assert any("only of the experiment it was opened from" in (t or "") for t in texts)
        assert not any("again of the one" in (t or "") for t in texts)


async def test_the_restored_message_gives_way_once_the_user_selects_again(store: Store) -> None:
    client, ids = store
    trash_delete(client, [ids["baseline"], ids["tuned"]])
    async with make_app(client).run_test(size=(120, 30)) as pilot:
        trash = await open_trash(pilot, [ids["vision"]])
        await pilot.press("u", "y")
        await settle(pilot)
        assert "Restored 1 run." in trash.status_text
        trash.table.focus()
        await pilot.press("space")
        await settle(pilot)
        assert "Restored" not in trash.status_text and "1 selected" in trash.status_text


def test_min_max_headers_keep_the_whole_metric_name_and_the_sort_marker() -> None:
    from runyard.tui.widgets.tables.run_rows import build_columns

    columns = {c.id: c for c in build_columns(["metrics.val_accuracy"], "min")}
    column = columns["metrics.val_accuracy"]
    assert column.label == "min(val_accuracy)"
    assert column.width >= len("min(val_accuracy) ▼")  # sorted by it: the marker fits too


async def test_typing_in_the_child_picker_filters_it(store: Store) -> None:
    from runyard.tui.modals.pick_run import PickRunModal

    client, _ = store
    picker = PickRunModal("Children", [("a1", "trial-1 lr=0.1"), ("a2", "trial-2 lr=0.01"), ("a3", "other")])
    async with make_app(client).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        chosen: list[str | None] = []
        pilot.app.push_screen(picker, chosen.append)
        await settle(pilot)
        await pilot.press(*"trial")
        assert picker.shown_ids == ["a1", "a2"]
        await pilot.press("-", "2")
        assert picker.shown_ids == ["a2"]
        await pilot.press("backspace", "backspace", "backspace")
        assert picker.shown_ids == ["a1", "a2"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert chosen == ["a2"]


def _luminance(colour: Color) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def _contrast(a: Color, b: Color) -> float:
    high, low = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["textual-light", "catppuccin-latte", "textual-dark"])
async def test_the_run_tables_cursor_is_visible_and_readable_in_light_and_dark_themes(
    store: Store, theme: str
) -> None:
    client, _ = store
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        app.theme = theme
        table = await open_resnet(pilot)
        await settle(pilot)
        base = table.rich_style
        row = table.get_component_rich_style("run-table--cursor")
        cell = table.get_component_rich_style("run-table--cursor-cell")
        assert base.bgcolor is not None and base.color is not None and row.bgcolor is not None
        assert cell.bgcolor is not None
        background, text = Color.from_rich_color(base.bgcolor), Color.from_rich_color(base.color)
        row_background = Color.from_rich_color(row.bgcolor)
        cell_text = Color.from_rich_color(cell.color) if cell.color else text
        assert _contrast(row_background, background) >= 1.35  # the cursor row stands out
        assert _contrast(text, row_background) >= 4.0  # and its text stays readable
        assert _contrast(cell_text, Color.from_rich_color(cell.bgcolor)) >= 3.3  # so does the cursor cell's

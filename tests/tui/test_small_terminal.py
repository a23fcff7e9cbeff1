"""80x24: the footers show the keys a newcomer needs first, and dialogs fit or scroll."""

from __future__ import annotations

import pytest
from helpers import make_app, open_resnet, settle
from runyard import TrackingClient
from runyard.tui.modals.text_viewer import TextViewerModal
from runyard.tui.widgets.key_bar import KeyBar
from textual.containers import VerticalScroll
from textual.widget import Widget

pytestmark = pytest.mark.anyio
Store = tuple[TrackingClient, dict[str, str]]


def footer(pilot: object) -> str:
    """The footer line as shown."""
    app = pilot.app  # type: ignore[attr-defined]
    bar = app.screen.query_one(KeyBar)
    text = " ".join(f"{key} {description}" for key, description, _on in bar.shown_keys(app.screen))
    assert len(text) <= 80
    return text


def on_screen(widget: Widget) -> bool:
    """The whole widget is inside the terminal and inside its dialog (not clipped by it)."""
    region = widget.region
    dialog = widget.parent
    assert isinstance(dialog, Widget)
    inside = dialog.region.contains_region(region) and region.bottom < dialog.region.bottom
    return region.height > 0 and region.y >= 0 and region.bottom <= widget.app.size.height and inside


async def test_footers_at_80_columns_keep_what_a_newcomer_needs(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(80, 24)) as pilot:
        await open_resnet(pilot)
        await settle(pilot)
        main = footer(pilot)
        for expected in ("Open", "/ Search", "space Select", "c Compare", "b Experiments", "v State"):
            assert expected in main
        assert main.endswith("? Keys q Quit")
        await pilot.press("enter")
        await settle(pilot)
        details = footer(pilot)
        assert "p Reproduce" in details and "Back" in details and "q Quit" not in details
        await pilot.press("escape", "T")
        await settle(pilot)
        trash = footer(pilot)
        assert "u Restore" in trash and "P Purge" in trash


async def test_dialogs_fit_or_scroll_at_80x24(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(80, 24)) as pilot:
        await open_resnet(pilot)
        await pilot.press("C")
        await settle(pilot)
        chooser = pilot.app.screen
        assert on_screen(chooser.query_one("#column-count"))
        hint = chooser.query(".dialog-hint").last()
        assert on_screen(hint) and "Enter applies" in str(hint.render())
        await pilot.press("escape")
        long_text = "\n".join(f"step {n}" for n in range(1, 60))
        pilot.app.push_screen(TextViewerModal("Reproduce", long_text))
        await settle(pilot)
        viewer = pilot.app.screen
        assert on_screen(viewer.query_one(".viewer-hint"))
        body = viewer.query_one(VerticalScroll)
        assert body.max_scroll_y > 0
        await pilot.press("end")
        await settle(pilot)
        assert body.scroll_y == body.max_scroll_y  # the last step can be reached


async def test_run_details_page_down_scrolls_and_the_chart_starts_on_the_loss(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(80, 24)) as pilot:
        await open_resnet(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        panel = screen.query_one("#metrics-panel")
        assert panel.selected_key == "loss"  # not "accuracy", the alphabetically first
        body = screen.query_one("#run-body", VerticalScroll)
        screen.query_one("#params-table").data_table.focus()
        await pilot.pause()
        assert body.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0
        await pilot.press("pageup")
        await pilot.pause()
        assert body.scroll_y == 0


async def test_run_details_use_two_columns_on_a_wide_terminal(store: Store) -> None:
    client, _ = store
    async with make_app(client).run_test(size=(200, 50)) as pilot:
        await open_resnet(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        notes = screen.query_one("#section-notes").region
        params = screen.query_one("#section-params").region
        assert params.y == notes.y and params.x > notes.right - 1  # side by side
        assert params.width < 120

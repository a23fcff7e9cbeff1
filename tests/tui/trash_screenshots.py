"""Scene of the trash screen on the demo store: T from the browse screen's "All experiments" view.

tests/make_screenshots.py saves it as screenshots/trash.svg and tests/tui/test_snapshots.py guards it.
"""

from __future__ import annotations

from typing import Any

from browse_scenes import Scene, settle


def trash_scenes() -> dict[str, Scene]:
    """Scene name -> coroutine: the whole store's trash (deleted runs and an experiment)."""

    async def trash(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)

    return {"trash": trash}

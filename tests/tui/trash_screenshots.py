"""Scene of the trash screen on the demo store: T from the browse screen, then o for every experiment.

tests/make_screenshots.py saves it as screenshots/trash.svg and tests/tui/test_snapshots.py guards it.
"""

from __future__ import annotations

from typing import Any

from browse_scenes import Scene, settle


def trash_scenes() -> dict[str, Scene]:
    """Scene name -> coroutine: the whole store's trash (deleted runs and an experiment)."""

    async def trash(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("T")  # the trash of the experiment shown (/vision/resnet)
        await settle(pilot)
        await pilot.press("o")  # ... and of all experiments
        await settle(pilot)
        for _ in range(100):  # a slow load hands the focus back to the table a refresh later: wait for it
            if pilot.app.screen.table.has_focus:
                break
            await pilot.pause(0.02)

    return {"trash": trash}

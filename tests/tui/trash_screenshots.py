"""SVG screenshot of the trash screen on the demo store (seed 7) with a fixed clock.

`save_trash_screenshots(directory)` is what tests/make_screenshots.py can call; run this file directly
to write screenshots/trash.svg (python tests/tui/trash_screenshots.py [DIRECTORY]).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from runyard import TrackingClient
from runyard.demo import write_demo_store
from runyard.tui.app import RunyardApp
from runyard.tui.screens.trash import TrashScreen
from runyard.tui.settings import Settings

SIZE = (100, 30)
NOW_MS = 1_790_000_000_000  # the fixed clock of the demo store and of the app (2026-09-21)


async def _settle(app: RunyardApp, pilot: object) -> None:
    for _ in range(3):
        await pilot.pause()  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def _shoot(client: TrackingClient, directory: Path) -> list[Path]:
    settings = Settings(store_uri=client.tracking_uri, clock=lambda: NOW_MS)
    app = RunyardApp(client=client, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        app.push_screen(TrashScreen(client, None, clock=settings.clock))  # the whole store's trash
        await _settle(app, pilot)
        return [Path(app.save_screenshot("trash.svg", str(directory)))]


def save_trash_screenshots(directory: Path) -> list[Path]:
    """Write trash.svg (the trash of every experiment of the demo store) into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="runyard-trash-shots-") as scratch:
        uri = write_demo_store(Path(scratch) / "demo", seed=7, now_ms=NOW_MS)
        client = TrackingClient(uri, artifact_root=str(Path(scratch) / "demo" / "artifacts"))
        return asyncio.run(_shoot(client, directory))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "screenshots"
    for path in save_trash_screenshots(target):
        print(path)

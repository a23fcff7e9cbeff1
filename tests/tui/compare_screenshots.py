"""SVG screenshots of the compare screen (tables and each plot view) on the demo store, fixed clock, 100x30.

`save_compare_screenshots(directory)` is what tests/make_screenshots.py calls; run this file directly to
write them to screenshots/ (python tests/tui/compare_screenshots.py [DIRECTORY]).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_helpers import NOW_MS, CompareHostApp, demo_sweep_ids, settle  # noqa: E402
from runyard import TrackingClient  # noqa: E402
from runyard.demo import write_demo_store  # noqa: E402

SIZE = (100, 30)


async def _shoot(client: TrackingClient, directory: Path) -> list[Path]:
    written: list[Path] = []

    def save(app: CompareHostApp, name: str) -> None:
        written.append(Path(app.save_screenshot(f"{name}.svg", str(directory))))

    app = CompareHostApp(client, demo_sweep_ids(client, 6))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        save(app, "compare-tables")
        await pilot.press("2", "l")  # val_loss on a log axis: the runs' curves apart
        await settle(pilot)
        save(app, "compare-history")
    app = CompareHostApp(client, demo_sweep_ids(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "slash", *"params.lr", "down", "x", "l", "L")  # log lr against log val_loss
        await settle(pilot)
        save(app, "compare-scatter")
        await pilot.press("4")
        await settle(pilot)
        save(app, "compare-parallel")
        await pilot.press("5", "slash", *"val_acc", "down", "enter")  # val_accuracy ...
        await pilot.press("slash", "ctrl+u", *"optimizer", "down", "g")  # ... grouped by optimizer
        await settle(pilot)
        save(app, "compare-distribution")
    return written


def save_compare_screenshots(directory: Path) -> list[Path]:
    """Write compare-tables/-history/-scatter/-parallel/-distribution.svg into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="runyard-compare-shots-") as scratch:
        client = TrackingClient(write_demo_store(Path(scratch) / "demo", seed=7, now_ms=NOW_MS))
        return asyncio.run(_shoot(client, directory))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "screenshots"
    for path in save_compare_screenshots(target):
        print(path)

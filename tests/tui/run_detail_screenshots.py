"""SVG screenshots of the run-details screen on a seeded store with fixed ids and clock.

`save_run_detail_screenshots(directory)` is what tests/make_screenshots.py calls; run this file directly
to write them to screenshots/ (python tests/tui/run_detail_screenshots.py [DIRECTORY]).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_detail_helpers import HostApp, seed_run, settle  # noqa: E402
from runyard import TrackingClient  # noqa: E402

SIZE = (100, 30)


def _seeded_uuids() -> Iterator[uuid.UUID]:
    """uuid4 replacement: the same ids on every run, so screenshots only change when the screen does."""
    counter = 0
    while True:
        counter += 1
        yield uuid.UUID(int=0x5EED0000_0000_4000_8000_000000000000 + counter)


async def _shoot(client: TrackingClient, run_id: str, directory: Path) -> list[Path]:
    app = HostApp(client, run_id)
    written: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        written.append(Path(app.save_screenshot("run-detail.svg", str(directory))))
        await pilot.press("3", "enter")  # the metrics section, train/loss drawn
        await settle(pilot)
        written.append(Path(app.save_screenshot("run-detail-chart.svg", str(directory))))
        await pilot.press("5", *["down"] * 8)  # artifacts: config.json previewed
        await settle(pilot)
        written.append(Path(app.save_screenshot("run-detail-artifacts.svg", str(directory))))
    return written


def save_run_detail_screenshots(directory: Path) -> list[Path]:
    """Write run-detail.svg, run-detail-chart.svg and run-detail-artifacts.svg into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="runyard-shots-") as scratch:
        root = Path(scratch)
        ids = _seeded_uuids()
        with mock.patch("uuid.uuid4", lambda: next(ids)):
            client = TrackingClient(
                f"sqlite:///{root / 'runyard.db'}", artifact_root="/data/runyard-artifacts"
            )
            client._artifact_root = str(root / "artifacts")  # real files, stable id-based paths
            client.store.artifact_root = str(root / "artifacts")
            seeded = seed_run(client, root, spike=False)
        return asyncio.run(_shoot(client, seeded["run"], directory))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "screenshots"
    for path in save_run_detail_screenshots(target):
        print(path)

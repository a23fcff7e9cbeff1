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

from compare_helpers import NOW_MS, CompareHostApp, settle  # noqa: E402
from runyard import TrackingClient  # noqa: E402
from runyard.demo import write_demo_store  # noqa: E402

SIZE = (100, 30)


def sweep_trials(client: TrackingClient, best: int | None = None) -> list[str]:
    """The /vision/resnet sweep's trials, best val_loss first (all of them, or the `best` first)."""
    experiment = client.get_experiment_by_name("/vision/resnet")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000, order_by=["metrics.val_loss ASC"])
    trials = [run.info.run_id for run in runs if run.info.parent_run_id]
    return trials[:best] if best else trials


async def _shoot(client: TrackingClient, directory: Path) -> list[Path]:
    written: list[Path] = []

    def save(app: CompareHostApp, name: str) -> None:
        written.append(Path(app.save_screenshot(f"{name}.svg", str(directory))))

    app = CompareHostApp(client, sweep_trials(client, best=6))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        save(app, "compare-tables")
        await pilot.press("2")
        await settle(pilot)
        save(app, "compare-history")
    app = CompareHostApp(client, sweep_trials(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", *"params.lr", "down", "x", "l")  # x: the learning rate on a log axis
        await settle(pilot)
        save(app, "compare-scatter")
        await pilot.press("4")
        await settle(pilot)
        save(app, "compare-parallel")
        await pilot.press("5", *"optimizer", "down", "g")  # val_loss grouped by optimizer
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

"""Scenes of the run-details screen on the demo store, reached as a user would (search the run, enter).

tests/make_screenshots.py saves them as screenshots/run-detail*.svg and tests/tui/test_snapshots.py
guards them; both run them on `browse_app` over the demo store (seed 7, fixed clock).
"""

from __future__ import annotations

from typing import Any

from browse_scenes import Scene, open_experiment, search, settle

RUN = "resnet18-baseline"  # Bob's baseline: notes, six params, four metrics, every kind of artifact


async def open_run(pilot: Any, experiment: str = "/vision/resnet", run_name: str = RUN) -> None:
    """Search the run by name in its experiment, then open it with enter."""
    await open_experiment(pilot, experiment)
    await search(pilot, f"run_name = '{run_name}'")
    await pilot.press("enter")
    await settle(pilot)


def run_detail_scenes() -> dict[str, Scene]:
    """Scene name -> coroutine: overview, a chart drawn, an artifact previewed, the model section, the
    console, the watch screen."""

    async def overview(pilot: Any) -> None:
        await open_run(pilot)

    async def chart(pilot: Any) -> None:
        await open_run(pilot)
        await pilot.press("3", "down", "down", "enter")  # the metrics section: val_accuracy drawn
        await settle(pilot)

    async def artifacts(pilot: Any) -> None:
        await open_run(pilot)
        await pilot.press("5", *["down"] * 6)  # the artifacts section: logs/train.log previewed
        await settle(pilot)

    async def model(pilot: Any) -> None:
        await open_run(pilot, run_name="resnet34-baseline")
        await pilot.press("7")  # the Model section: flavor, schema and snippet, then the datasets
        await settle(pilot)

    async def console(pilot: Any) -> None:
        await open_run(pilot)
        await pilot.press("9", "slash")  # the console section: search its output
        await settle(pilot)
        await pilot.press(*"val_accuracy=0.83", "enter")
        await settle(pilot)

    async def watch(pilot: Any) -> None:
        await open_experiment(pilot, "/vision/resnet")
        await pilot.press("w")  # the RUNNING runs of the experiment, with their pace
        await settle(pilot)

    return {
        "run-detail": overview,
        "run-detail-chart": chart,
        "run-detail-artifacts": artifacts,
        "run-detail-model": model,
        "run-detail-console": console,
        "watch": watch,
    }

"""Scenes of the compare screen on the demo store: sweep trials searched, selected and compared (c).

tests/make_screenshots.py saves them as screenshots/compare-*.svg and tests/tui/test_snapshots.py
guards the tables and history views; both run them on `browse_app` over the demo store.
"""

from __future__ import annotations

from typing import Any

from browse_scenes import Scene, open_experiment, search, settle

TRIALS = "run_name LIKE 'trial-%'"  # the /vision/resnet sweep's 54 trials


async def compare_trials(pilot: Any, count: int | None = None) -> None:
    """Search the sweep's trials, select the first count of them (all when None) and compare them."""
    await open_experiment(pilot, "/vision/resnet")
    await search(pilot, TRIALS)
    if count is None:
        await pilot.press("a")
    else:
        await pilot.press(*["space"] * count)  # space selects the run and moves down
    await pilot.press("c")
    await settle(pilot)


def compare_scenes() -> dict[str, Scene]:
    """Scene name -> coroutine: the tables, history, scatter, parallel and distribution views."""

    async def tables(pilot: Any) -> None:
        await compare_trials(pilot, 6)

    async def history(pilot: Any) -> None:
        await compare_trials(pilot, 6)
        await pilot.press("2", "l")  # val_loss on a log axis: the runs' curves apart
        await settle(pilot)

    async def scatter(pilot: Any) -> None:
        await compare_trials(pilot)
        await pilot.press("3", "slash", *"params.lr", "down", "x", "l", "L")  # log lr vs log val_loss
        await settle(pilot)

    async def parallel(pilot: Any) -> None:
        await compare_trials(pilot)
        await pilot.press("4")
        await settle(pilot)

    async def distribution(pilot: Any) -> None:
        await compare_trials(pilot)
        await pilot.press("5", "slash", *"val_acc", "down", "enter")  # val_accuracy ...
        await pilot.press("slash", "ctrl+u", *"optimizer", "down", "g")  # ... grouped by optimizer
        await settle(pilot)

    return {
        "compare-tables": tables,
        "compare-history": history,
        "compare-scatter": scatter,
        "compare-parallel": parallel,
        "compare-distribution": distribution,
    }

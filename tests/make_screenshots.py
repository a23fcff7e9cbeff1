"""Write the README's SVG screenshots into screenshots/ from the demo store (seed 7, fixed clock), 100x30.

python tests/make_screenshots.py [DIRECTORY]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "tui"))

from browse_scenes import save_scene, scenes  # noqa: E402
from runyard import TrackingClient  # noqa: E402
from runyard.demo import write_demo_store  # noqa: E402

NOW_MS = 1_790_000_000_000  # 2026-09-21 14:13 UTC: the demo's clock and the app's
SIZE = (100, 30)


async def browse_screenshots(directory: Path) -> list[Path]:
    """The experiment tree and run table screens, with search, errors and dialogs."""
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        uri = write_demo_store(Path(scratch) / "demo", seed=7, now_ms=NOW_MS)
        client = TrackingClient(uri)
        chosen = scenes(
            experiment="/vision/resnet",
            query="metrics.val_accuracy > 0.84",
            bad_query="metrics.val_accuracy >> 0.84",
            column_filter="loss",
        )
        for name, scene in chosen.items():
            written.append(await save_scene(client, NOW_MS, scene, directory / f"{name}.svg", SIZE))
        written.append(
            await save_scene(
                client, NOW_MS, chosen["experiments"], directory / "experiments-80x24.svg", (80, 24)
            )
        )
    return written


def main() -> None:
    """Write every screenshot (other screens' scripts are called when present)."""
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    written = asyncio.run(browse_screenshots(directory))
    try:
        from run_detail_screenshots import save_run_detail_screenshots  # issue 6's screen
    except ImportError:
        pass
    else:
        written += list(save_run_detail_screenshots(directory) or [])
    try:
        from compare_screenshots import save_compare_screenshots  # issue 7's screen
    except ImportError:
        pass
    else:
        written += save_compare_screenshots(directory)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()

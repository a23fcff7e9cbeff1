"""Write every README screenshot into screenshots/: the real app on the demo store (seed 7, fixed clock).

python tests/make_screenshots.py [DIRECTORY]

Each screenshot is a scene (tests/tui/*_scenes / *_screenshots.py) played by the Pilot on a fresh
RunyardApp at 100x30 (plus the browse screen at 80x24); the same scenes are the snapshot tests
(tests/tui/test_snapshots.py). The output is the same byte for byte on every run; SVGs in the
directory that no scene writes any more are removed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "tui"))

from browse_scenes import (  # noqa: E402
    DEMO_BROWSE,
    DEMO_NOW_MS,
    NARROW_SIZE,
    SIZE,
    Scene,
    demo_client,
    save_scene,
    scenes,
)
from compare_screenshots import compare_scenes  # noqa: E402
from run_detail_screenshots import run_detail_scenes  # noqa: E402
from trash_screenshots import trash_scenes  # noqa: E402

REMOTE_SCREENSHOT = "server"


def all_scenes() -> dict[str, tuple[Scene, tuple[int, int]]]:
    """Screenshot name -> (scene, terminal size), for every screen."""
    browse = scenes(**DEMO_BROWSE)
    chosen = {name: (scene, SIZE) for name, scene in browse.items()}
    chosen["experiments-80x24"] = (browse["experiments"], NARROW_SIZE)
    for more in (run_detail_scenes(), compare_scenes(), trash_scenes()):
        chosen.update({name: (scene, SIZE) for name, scene in more.items()})
    return chosen


async def write_screenshots(directory: Path) -> list[Path]:
    """Play every scene on a fresh app over one demo store and save each screen as SVG."""
    written = []
    with tempfile.TemporaryDirectory(prefix="runyard-shots-") as scratch:
        client = demo_client(Path(scratch) / "demo")
        for name, (scene, size) in all_scenes().items():
            written.append(await save_scene(client, DEMO_NOW_MS, scene, directory / f"{name}.svg", size))
        written.append(await remote_screenshot(client.tracking_uri, Path(scratch), directory))
    return written


async def remote_screenshot(store_uri: str, scratch: Path, directory: Path) -> Path:
    """The browse screen of the app on a `runyard server` serving the demo store (over HTTP)."""
    sys.path.insert(0, str(HERE))
    from remote_servers import start_server
    from runyard import TrackingClient

    server = start_server(scratch / "server", store_uri=store_uri)
    try:
        client = TrackingClient(server.url)
        scene = scenes(**DEMO_BROWSE)["search"]
        return await save_scene(client, DEMO_NOW_MS, scene, directory / f"{REMOTE_SCREENSHOT}.svg", SIZE)
    finally:
        server.stop()


def main() -> None:
    """Write every screenshot and remove the SVGs no scene writes."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        # The compare plots draw in set/dict order of strings, which follows the hash seed: fix it.
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    written = asyncio.run(write_screenshots(directory))
    for stale in sorted(set(directory.glob("*.svg")) - set(written)):
        stale.unlink()
        print(f"removed {stale}")
    for path in written:
        print(path)


if __name__ == "__main__":
    main()

"""Shared set-up of the run-details Pilot tests: a seeded run with params, metrics, tags, notes, artifacts."""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from helpers import APP_CSS
from rich.console import Console, RenderableType
from runyard import Metric, TrackingClient
from runyard.tui.screens.run_detail import RunDetailScreen
from textual.app import App
from textual.pilot import Pilot

T0 = 1_700_000_000_000
FIXED_NOW = T0 + 3_000_000


def tiny_png(width: int = 6, height: int = 4) -> bytes:
    """A real RGB PNG (red to blue gradient) built with zlib and struct."""
    raw = b"".join(
        b"\x00" + b"".join(bytes((255 - 40 * x, 0, 40 * x)) for x in range(width)) for _ in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def seed_run(client: TrackingClient, tmp_path: Path, spike: bool = True) -> dict[str, str]:
    """A parent run with two children, params, two metrics, tags, notes and one artifact of each kind."""
    experiment_id = client.create_experiment("/vision/resnet")
    tags = {
        "runyard.source.git.commit": "0123456789abcdef0123456789abcdef01234567",
        "runyard.source.git.branch": "main",
        "runyard.source.git.dirty": "true",
        "runyard.source.git.repoURL": "https://github.com/acme/vision.git",
        "runyard.python.version": "3.11.7",
        "runyard.platform": "Linux-6.1-x86_64",
        "runyard.command": "/usr/bin/python3.11 train.py --lr 0.1",
        "runyard.note.content": "# Baseline\n\nResNet-50 on **CIFAR-10**.",
        "dataset": "cifar10",
        "team owner": "vision.core",
    }
    parent = client.create_run(
        experiment_id,
        run_name="sweep-parent",
        start_time=T0,
        tags=tags,
        user_id="alice",
        source_type="SCRIPT",
        source_name="train.py",
        entry_point="main",
    )
    run_id = parent.info.run_id
    children = []
    for index in range(2):
        child = client.create_run(
            experiment_id,
            run_name=f"trial-{index}",
            start_time=T0 + index + 1,
            parent_run_id=run_id,
            tags={"runyard.parentRunId": run_id},
        )
        children.append(child.info.run_id)
    client.log_params(run_id, {"lr": 0.1, "batch_size": 128, "optimizer": "sgd", "notes_long": "x" * 300})
    points = [Metric("train/loss", 2.5 * math.exp(-s / 300) + 1.0, T0 + s * 100, s) for s in range(2000)]
    if spike:
        points[700] = Metric("train/loss", 99.0, T0 + 700 * 100, 700)  # a spike the chart must keep
    else:  # a noisy curve, as the screenshots show it
        points = [Metric(p.key, p.value + 0.15 * math.sin(p.step * 1.7), p.timestamp, p.step) for p in points]
    points += [Metric("val/acc", s / 2000, T0 + s * 100, s) for s in range(0, 2000, 100)]
    client.log_batch(run_id, metrics=points)
    client.log_text(run_id, "epoch 1 loss 2.3\nepoch 2 loss 1.9\n", "logs/train.log")
    client.log_dict(run_id, {"lr": 0.1, "layers": [64, 128]}, "config.json")
    client.log_text(run_id, "step,loss\n0,2.5\n100,1.7\n", "metrics.csv")
    client.log_text(run_id, "def main():\n    return 42\n", "code/train.py")
    client.log_text(run_id, "numpy==1.26.4\n", "environment/requirements.txt")
    client.artifact_repository(run_id).write_bytes("plots/gradient.png", tiny_png())
    client.artifact_repository(run_id).write_bytes("model.bin", b"\x00\x01\x02binary")
    client.set_terminated(run_id, end_time=T0 + 2_000_000)
    return {"run": run_id, "child0": children[0], "child1": children[1], "experiment": experiment_id}


class HostApp(App[None]):
    """A tiny app that opens the run-details screen (the real app pushes it from the run table)."""

    CSS_PATH = APP_CSS

    def __init__(
        self, client: TrackingClient, run_id: str, clock: Callable[[], int] = lambda: FIXED_NOW
    ) -> None:
        super().__init__()
        self.client = client
        self.run_id = run_id
        self.clock = clock

    def on_mount(self) -> None:
        """Open the run."""
        self.push_screen(RunDetailScreen(self.client, self.run_id, clock=self.clock, refresh_seconds=None))


async def settle(pilot: Pilot[None], rounds: int = 3) -> None:
    """Let workers finish and their messages be handled."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def render_text(renderable: RenderableType | object, width: int = 100) -> str:
    """Plain text of a rich renderable (or of a widget's content)."""
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()

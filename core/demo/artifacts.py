"""Contents of the demo store's artifact files: training log, predictions CSV, code, requirements, a PNG."""

from __future__ import annotations

import math
import struct
import time
import zlib
from collections.abc import Callable, Mapping, Sequence

REQUIREMENTS = """\
numpy==1.26.4
pandas==2.2.2
pyarrow==16.1.0
runyard==0.1.0
scikit-learn==1.5.1
torch==2.3.1
torchvision==0.18.1
tqdm==4.66.4
"""

TRAIN_SCRIPT = '''\
"""Train a classifier and log the run to runyard."""

import argparse

import runyard

from model import build_model, load_data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="adamw")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()

    train, val = load_data()
    model, optimizer, schedule = build_model(args)
    with runyard.start_run():
        runyard.log_params(vars(args))
        for step, batch in zip(range(args.steps), train.batches(args.batch_size)):
            loss = model.step(batch, optimizer, lr=schedule(step))
            runyard.log_metric("train_loss", loss, step=step)
            if step % 10 == 0:
                runyard.log_metric("lr", schedule(step), step=step)
                runyard.log_metric("val_loss", model.loss(val), step=step)
            if step % 100 == 0:
                runyard.log_metric("val_accuracy", model.accuracy(val), step=step)
        runyard.log_dict(vars(args), "config.json")


if __name__ == "__main__":
    main()
'''


def _clock(timestamp_ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp_ms / 1000))


def train_log(
    run_name: str,
    params: Mapping[str, object],
    history: Mapping[str, Sequence[tuple[int, float]]],
    timestamp_of: Callable[[int], int],
    start_time: int,
    error: str | None = None,
) -> str:
    """A training log: the config, then one line every 100 steps with the values the loop computed."""
    lines = [f"{_clock(start_time)} INFO  starting run {run_name}"]
    lines += [f"{_clock(start_time)} INFO  {key} = {value}" for key, value in params.items()]
    train_loss = history.get("train_loss", [])
    latest = {name: dict(points) for name, points in history.items() if name != "train_loss"}
    for step, loss in train_loss:
        if step % 100 and step != train_loss[-1][0]:
            continue
        parts = [f"step {step:>5}", f"train_loss={loss:.4f}"]
        for name in ("val_loss", "val_accuracy", "lr"):
            value = latest.get(name, {}).get(step)
            if value is not None:
                parts.append(f"{name}={value:.4g}")
        lines.append(f"{_clock(timestamp_of(step))} INFO  " + " ".join(parts))
    if error:
        last = train_loss[-1][0] if train_loss else 0
        lines.append(f"{_clock(timestamp_of(last))} ERROR {error}")
    return "\n".join(lines) + "\n"


def predictions_csv(scores: Sequence[float], labels: Sequence[int], rows: int = 200) -> str:
    """The first rows validation predictions: label, score (the model's output), probability, prediction."""
    lines = ["sample_id,label,score,probability,prediction"]
    for index, (score, label) in enumerate(zip(scores[:rows], labels[:rows], strict=True)):
        probability = 1.0 / (1.0 + math.exp(-4.0 * max(-50.0, min(50.0, score))))
        lines.append(f"val-{index:04d},{label},{score:.5f},{probability:.4f},{1 if score > 0 else 0}")
    return "\n".join(lines) + "\n"


def png_bytes(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """An 8-bit RGB PNG whose pixel (x, y) has the colour pixel(x, y)."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type: none
        for x in range(width):
            raw.extend(pixel(x, y))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def confusion_png(confusion: tuple[int, int, int, int], cell: int = 48) -> bytes:
    """A 2x2 confusion-matrix heat map (rows: true label 0/1, columns: predicted 0/1), darker = more."""
    tn, fp, fn, tp = confusion
    counts = ((tn, fp), (fn, tp))
    total = max(1, tn + fp + fn + tp)
    gap = 2
    size = 2 * cell + 3 * gap

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        column, x_in = divmod(x - gap, cell + gap)
        row, y_in = divmod(y - gap, cell + gap)
        if x < gap or y < gap or x_in >= cell or y_in >= cell or column > 1 or row > 1:
            return (255, 255, 255)
        share = counts[row][column] / total * 2  # a perfect diagonal is at full colour
        share = min(1.0, share)
        return (int(235 - 200 * share), int(242 - 150 * share), int(250 - 60 * share))

    return png_bytes(size, size, pixel)

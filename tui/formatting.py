"""Text shown in the TUI: relative times, durations (the core's format_duration), numbers, short hashes."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from runyard import clock
from runyard.formatting import format_duration

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def system_clock_ms() -> int:
    """The current time in integer milliseconds since the epoch (runyard's one clock)."""
    return clock.now_ms()


def relative_time(timestamp_ms: int | None, now_ms: int) -> str:
    """A past time relative to now: 'just now', '42 s ago', '3 min ago', '5 h ago', '2 days ago', a date."""
    if timestamp_ms is None:
        return ""
    delta = now_ms - timestamp_ms
    if delta < 0:
        return "in the future" if delta < -MINUTE else "just now"
    if delta < 5 * SECOND:
        return "just now"
    if delta < MINUTE:
        return f"{delta // SECOND} s ago"
    if delta < HOUR:
        return f"{delta // MINUTE} min ago"
    if delta < DAY:
        return f"{delta // HOUR} h ago"
    if delta < 30 * DAY:
        days = delta // DAY
        return "1 day ago" if days == 1 else f"{days} days ago"
    return absolute_date(timestamp_ms)


def absolute_date(timestamp_ms: int) -> str:
    """The UTC calendar date of a timestamp, e.g. 2026-11-24."""
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


duration = format_duration  # one duration format in the CLI, the TUI and CSV exports


def needs_scientific(value: float | int | None) -> bool:
    """True for a value that `number` writes in scientific notation (tiny or huge, not an integer)."""
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return False
    if isinstance(value, int) or value.is_integer():
        return abs(value) >= 1e9
    magnitude = abs(value)
    return magnitude >= 1e6 or magnitude < 1e-3


def number(value: float | int | None, scientific: bool = False) -> str:
    """A metric value in at most ~9 characters: integers as is, else 4 significant digits; NaN and inf.

    scientific: write every fraction as 1.234e-05 (a column where one value needs it shows all alike,
    so that 2.900e-05 and 0.0029 are never read side by side).
    """
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e9:
            return str(int(value))
    elif abs(value) < 1e9:
        return str(value)
    magnitude = abs(value)
    if magnitude != 0 and (scientific or magnitude >= 1e6 or magnitude < 1e-3):
        return f"{value:.3e}"
    text = f"{value:.4g}"
    if "e" in text:
        return f"{value:.3e}"
    return text


def count(value: int) -> str:
    """An integer with thousands separators: 100,000."""
    return f"{value:,}"


def plural(value: int, word: str, suffix: str = "") -> str:
    """'1 run', '2 runs', '1,000 runs'; suffix goes after the number ('200+ runs')."""
    return f"{count(value)}{suffix} {word}" + ("" if value == 1 and not suffix else "s")


def short_hash(version: str | None) -> str:
    """The first 7 characters of a git commit."""
    return (version or "")[:7]


def truncate(text: str, width: int) -> str:
    """Text cut to width cells with an ellipsis when longer."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"

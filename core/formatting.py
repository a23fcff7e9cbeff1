"""Text renderings shared by the CLI, the TUI and CSV exports: times and durations."""

from __future__ import annotations

from datetime import datetime

_SECOND = 1000


def format_time(ms: int | None, with_zone: bool = False) -> str:
    """A local-time rendering of ms since the epoch ('' for None); with_zone: ISO 8601 with its offset."""
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000).astimezone()
    return moment.isoformat(timespec="seconds") if with_zone else moment.strftime("%Y-%m-%d %H:%M")


def format_duration(milliseconds: int | None) -> str:
    """A compact duration: '850 ms', '42 s', '3m 12s', '2h 05m', '3d 4h' ('' for None)."""
    if milliseconds is None:
        return ""
    milliseconds = max(0, int(milliseconds))
    if milliseconds < _SECOND:
        return f"{milliseconds} ms"
    seconds = milliseconds // _SECOND
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 16) -> str:
    """Block characters for the finite values (NaN and infinities show as "!")."""
    import math

    values = values[-width:]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "!" * len(values)
    low, high = min(finite), max(finite)
    span = high - low
    out = []
    for value in values:
        if not math.isfinite(value):
            out.append("!")
        else:
            out.append(_BARS[int((value - low) / span * (len(_BARS) - 1)) if span else len(_BARS) // 2])
    return "".join(out)

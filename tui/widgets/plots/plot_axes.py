"""Value axes shared by the plotext charts: log scaling done here rather than by plotext (whose log scale
rewrites the figure's stored data on every render, so a resize applied it twice), robust bounds that keep
one diverged run from flattening a chart, readable ticks for narrow or constant axes, quantile bins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..compare_values import quartiles

CLIP_LOW, CLIP_HIGH = 0.01, 0.99  # robust bounds of many values: the 1st..99th percentile
PERCENTILE_COUNT = (
    50  # from this many values; fewer (one per run): within MAD_REACH scaled MADs of the median
)
MAD_REACH = 5.0
CLIP_RATIO = 10.0  # clip only when the outliers would stretch the axis this many times the bulk's span
MIN_CLIP_VALUES = 3
ABOVE, BELOW = "▲", "▼"


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The fraction-th percentile of sorted values (linear interpolation, as numpy's default)."""
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def robust_bounds(values: Sequence[float]) -> tuple[float, float] | None:
    """The span of the bulk of finite values (p1..p99, or within 5 MADs of the median for a few values),
    or None when no value lies far enough out to flatten the rest (a normal curve is never clipped)."""
    ordered = sorted(v for v in values if math.isfinite(v))
    if len(ordered) < MIN_CLIP_VALUES:
        return None
    median = percentile(ordered, 0.5)
    if len(ordered) >= PERCENTILE_COUNT:
        low, high = percentile(ordered, CLIP_LOW), percentile(ordered, CLIP_HIGH)
    else:
        mad = percentile(sorted(abs(v - median) for v in ordered), 0.5) * 1.4826
        if mad == 0:
            _, q1, _, q3, _ = quartiles(ordered)
            mad = (q3 - q1) / 1.349
        low, high = median - MAD_REACH * mad, median + MAD_REACH * mad
    inside = [v for v in ordered if low <= v <= high] or [median]
    span = max(inside[-1] - inside[0], 0.1 * abs(median))
    if ordered[-1] - ordered[0] <= CLIP_RATIO * span:
        return None
    # values within one bulk span of it stay on the axis: only the far ones are clipped
    near = [v for v in ordered if inside[0] - span <= v <= inside[-1] + span]
    return near[0], near[-1]


def nice_step(span: float, count: int) -> float:
    """A 1, 2 or 5 times a power of ten step giving about count ticks over span."""
    raw = span / max(1, count - 1)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= multiple * power * 1.0001:
            return multiple * power
    return 10.0 * power


def tick_label(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs (all ticks of an axis alike)."""
    if value == 0:
        return "0"
    magnitude = max(abs(value), abs(step))
    if magnitude >= 1e6 or magnitude < 1e-4:
        return f"{value:.2g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    if step * 10**decimals % 1 > 1e-6:  # a 2.5 step needs one more decimal
        decimals += 1
    return f"{value:.{min(decimals, 6)}f}"


def linear_ticks(low: float, high: float, count: int = 5) -> tuple[list[float], list[str]]:
    """Ticks at round numbers within low..high and their labels."""
    step = nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9)
    ticks: list[float] = []
    index = first
    while index * step <= high + step * 1e-9 and len(ticks) < 50:
        ticks.append(index * step)
        index += 1
    return ticks, [tick_label(t, step) for t in ticks]


def log_ticks(low: float, high: float, count: int = 5) -> tuple[list[float], list[str]]:
    """Ticks for a log10 axis given in log10 units: whole decades, or round values inside one decade."""
    if high - low >= 1:
        first, last = math.ceil(low - 1e-9), math.floor(high + 1e-9)
        stride = max(1, math.ceil((last - first + 1) / count))
        decades = list(range(first, last + 1, stride))
        return [float(d) for d in decades], [f"{10.0**d:g}" if -4 <= d <= 5 else f"1e{d}" for d in decades]
    values, labels = linear_ticks(10.0**low, 10.0**high, count)
    kept = [(math.log10(v), label) for v, label in zip(values, labels, strict=True) if v > 0]
    return [p for p, _ in kept], [label for _, label in kept]


def padded(low: float, high: float) -> tuple[float, float]:
    """An axis range for low..high: a constant gets a round range around it, others a small margin."""
    if high <= low:
        half = abs(low) * 0.1 if low else 1.0
        step = nice_step(2 * half, 5)
        return low - 2 * step, low + 2 * step
    margin = (high - low) * 0.04
    return low - margin, high + margin


@dataclass(frozen=True)
class ValueScale:
    """How one numeric axis maps data to plot coordinates: optional log10, optional robust clipping."""

    log: bool = False
    low: float | None = None  # clip bounds in data units (None: not clipped)
    high: float | None = None

    @property
    def clipped(self) -> bool:
        """True when the axis is cut to robust bounds."""
        return self.low is not None

    def side(self, value: float) -> int:
        """-1 below the clip bounds, 1 above, 0 inside."""
        if self.low is not None and value < self.low:
            return -1
        if self.high is not None and value > self.high:
            return 1
        return 0

    def position(self, value: float) -> float:
        """The plot coordinate of a value (clamped into the bounds; log10 on a log axis)."""
        if self.low is not None and self.high is not None:
            value = min(max(value, self.low), self.high)
        return math.log10(value) if self.log else value

    def beyond(self, values: Sequence[float]) -> int:
        """How many values lie outside the clip bounds."""
        return sum(1 for v in values if self.side(v))

    def limits(self, values: Sequence[float]) -> tuple[float, float]:
        """The plot range showing these values (as positions), with a margin."""
        positions = [self.position(v) for v in values]
        return padded(min(positions), max(positions))

    def ticks(self, values: Sequence[float], count: int = 5) -> tuple[list[float], list[str]]:
        """Tick positions and labels for the plot range of these values."""
        low, high = self.limits(values)
        return log_ticks(low, high, count) if self.log else linear_ticks(low, high, count)


def value_scale(values: Sequence[float], log: bool, clip: bool) -> ValueScale:
    """The scale of an axis drawing these finite values (positive ones only when log)."""
    bounds = robust_bounds([math.log10(v) for v in values] if log else values) if clip else None
    if bounds is None:
        return ValueScale(log)
    low, high = (10.0 ** bounds[0], 10.0 ** bounds[1]) if log else bounds
    return ValueScale(log, low, high)


def drawable(values: Sequence[float], log: bool) -> list[float]:
    """The values an axis can draw: finite, and positive on a log axis."""
    return [v for v in values if math.isfinite(v) and (not log or v > 0)]


def clip_note(beyond: int) -> str:
    """'clipped: 3 beyond (o: show all)' for a chart title, or '' when nothing is clipped."""
    return f"clipped: {beyond:,} beyond (o: show all)" if beyond else ""


def quantile_bins(values: Sequence[float], max_bins: int = 8) -> list[float]:
    """Upper edges of at most max_bins quantile bins over the values (distinct; the last is the max)."""
    ordered = sorted(values)
    if not ordered:
        return []
    edges = sorted({percentile(ordered, i / max_bins) for i in range(1, max_bins + 1)})
    return edges


def bin_index(value: float, edges: Sequence[float]) -> int:
    """The bin of a value: the first edge it does not exceed."""
    for index, edge in enumerate(edges):
        if value <= edge:
            return index
    return len(edges) - 1

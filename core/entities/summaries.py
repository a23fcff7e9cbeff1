"""Summaries and the read models of the browse views: loaded on first use (see runyard.entities)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConsoleChunk:
    """A piece of a run's captured output: stream is "stdout", "stderr" or "runyard" (a note of ours)."""

    seq: int
    timestamp: int
    stream: str
    text: str


@dataclass(frozen=True)
class MetricSummary:
    """Per-(run, key) summary kept current by every write: latest point, min, max, count."""

    key: str
    latest_value: float
    latest_step: int
    latest_timestamp: int
    min_value: float
    max_value: float
    count: int


@dataclass
class DownsampledHistory:
    """Buckets of one metric's history, in x order: last step/time/value of each, with its min and max."""

    key: str
    x_axis: str = "step"
    steps: list[int] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    mins: list[float] = field(default_factory=list)
    maxs: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    source: str = "empty"
    """How it was computed: 'empty', 'points', 'sql-buckets', 'blocks' or 'merged'."""

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def total_points(self) -> int:
        """How many logged points the buckets cover."""
        return sum(self.counts)

    @property
    def last_step(self) -> int | None:
        """The greatest step covered (pass it as since_step to fetch only newer points)."""
        return max(self.steps) if self.steps else None

    @property
    def xs(self) -> list[int]:
        """The x coordinate of each bucket: its last step, or its last timestamp on the time axis."""
        return self.steps if self.x_axis == "step" else self.timestamps

    def extended(self, newer: DownsampledHistory, max_points: int) -> DownsampledHistory:
        """This history followed by a newer tail (from since_step), re-bucketed to at most max_points."""
        if not newer.steps:
            return self
        if not self.steps:
            return newer
        from runyard.downsample import bucket_units, from_units, units_of

        units = list(units_of(self)) + list(units_of(newer))
        if len(units) <= max_points:
            return from_units(self.key, self.x_axis, units, "merged")
        return from_units(self.key, self.x_axis, bucket_units(units, max_points), "merged")


@dataclass(frozen=True)
class ExperimentOverview:
    """Counts over the active runs of one or more experiments."""

    total_runs: int = 0
    running: int = 0  # RUNNING with a recent heartbeat
    lost: int = 0  # RUNNING, but the heartbeat stopped (killed, out of memory, preempted)
    failed: int = 0
    last_activity: int | None = None
    runs_per_user: dict[str, int] = field(default_factory=dict)
    capped: bool = False  # counted from the first runs only (a stock MLflow server): "1,000+"


@dataclass(frozen=True)
class RunKeys:
    """The distinct param, metric and tag keys of a set of runs, each sorted."""

    params: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GcResult:
    """What `gc` removed (or, with dry_run, would remove)."""

    run_ids: list[str] = field(default_factory=list)
    experiment_ids: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def run_count(self) -> int:
        """Number of runs removed."""
        return len(self.run_ids)

    @property
    def experiment_count(self) -> int:
        """Number of experiments removed."""
        return len(self.experiment_ids)

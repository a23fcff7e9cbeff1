"""System metrics overhead: the cost of one sample, and the CPU the sampler takes over a run.

Run: python benchmarks/bench_system_metrics.py [--seconds 300] [--interval 1] [--samples 200]

- one sample: median (min, max) time of SystemMetricsSampler.sample_once() with real psutil (and the
  real NVML when a GPU and nvidia-ml-py are present; the figure says whether one was);
- over a run: a process that only sleeps inside a run with log_system_metrics=True at the given interval
  (target: < 0.5% of one core at 1 s), against the same run without system metrics, both measured as the
  process's own CPU time (user + system) over the same wall time, so machine load does not bias them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import os, sys, time, resource
import runyard
runyard.set_tracking_uri(sys.argv[1])
seconds, metrics = float(sys.argv[2]), sys.argv[3] == "on"
with runyard.start_run(log_system_info=False, log_system_metrics=metrics):
    start = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic()
    time.sleep(seconds)
    end = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic() - wall
cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
print(cpu, wall)
"""


def one_sample_cost(samples: int) -> tuple[list[float], bool]:
    """Timings of sample_once in microseconds, and whether a GPU was sampled."""
    import psutil
    from runyard.tracking.system_metrics import SystemMetricsSampler

    sink: list[object] = []
    sampler = SystemMetricsSampler("bench", sink.extend, interval=60, psutil=psutil)
    sampler.sample_once()
    times = []
    for _ in range(samples):
        begin = time.perf_counter()
        sampler.sample_once()
        times.append((time.perf_counter() - begin) * 1e6)
        sink.clear()
    return times, sampler.gpus is not None


def run_cpu(seconds: float, interval: float, metrics: bool) -> tuple[float, float]:
    """CPU seconds and wall seconds of a sleeping run (with or without the sampler)."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {"RUNYARD_SYSTEM_METRICS_INTERVAL": str(interval), "PATH": "/usr/bin:/bin"}
        import os

        env = {**os.environ, **env}
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                str(Path(scratch) / "runyard.db"),
                str(seconds),
                "on" if metrics else "off",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=seconds + 120,
        ).stdout.split()
        return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the measured run")
    parser.add_argument("--interval", type=float, default=1.0, help="sampling interval in seconds")
    parser.add_argument("--samples", type=int, default=200, help="samples timed for the per-sample cost")
    args = parser.parse_args()
    times, gpu = one_sample_cost(args.samples)
    print(
        f"one sample: median {statistics.median(times):.0f} us (min {min(times):.0f}, max {max(times):.0f}), "
        f"{'with' if gpu else 'without'} a GPU"
    )
    cpu_on, wall_on = run_cpu(args.seconds, args.interval, True)
    cpu_off, wall_off = run_cpu(args.seconds, args.interval, False)
    share_on, share_off = cpu_on / wall_on * 100, cpu_off / wall_off * 100
    print(
        f"run of {wall_on:.0f} s at {args.interval:g} s interval: {share_on:.3f}% of one core with system "
        f"metrics, {share_off:.3f}% without: the sampler costs {share_on - share_off:.3f}% of one core"
    )


if __name__ == "__main__":
    main()

"""Shared helpers of the benchmark scripts: repetitions, median/min/max, subprocesses, the MLflow venv.

Figures on this shared 2-core machine are noisy: every figure is the median of several repetitions,
printed with its min and max, and comparisons are ratios of figures measured in the same run.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Where the MLflow side runs: RUNYARD_BENCH_MLFLOW_PYTHON, else this venv (see README), else this python.
DEFAULT_MLFLOW_VENV_PYTHON = "/tmp/mlflow-venv/bin/python"


@dataclass
class Stat:
    """Median, min and max of repeated measurements of one figure."""

    values: list[float]

    @property
    def median(self) -> float:
        """The median of the repetitions."""
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        """The smallest repetition."""
        return min(self.values)

    @property
    def max(self) -> float:
        """The largest repetition."""
        return max(self.values)

    def fmt(self, unit: str = "", scale: float = 1.0, digits: int = 2) -> str:
        """'median (min .. max) unit' with the values multiplied by scale."""
        m, lo, hi = (v * scale for v in (self.median, self.min, self.max))
        return f"{m:,.{digits}f} ({lo:,.{digits}f} .. {hi:,.{digits}f}) {unit}".rstrip()


def repeat(fn: Callable[[], float], repetitions: int) -> Stat:
    """Call fn (which returns one measurement) several times."""
    return Stat([fn() for _ in range(repetitions)])


def ratio(a: Stat, b: Stat) -> Stat:
    """Per-repetition ratios a/b (repetitions paired in order, both measured in the same run)."""
    return Stat([x / y for x, y in zip(a.values, b.values, strict=False) if y])


def machine_line() -> str:
    """Date, cores and Python version, printed at the top of every benchmark."""
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cpu = platform.processor() or platform.machine()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{date}; {os.cpu_count()} cores ({cpu}); Python {platform.python_version()}; "
        f"SQLite {__import__('sqlite3').sqlite_version}; load average {load} (shared machine)"
    )


def header(title: str) -> None:
    """Print a benchmark's title and machine line."""
    print(f"== {title}")
    print(f"   {machine_line()}")


def row(label: str, value: str, note: str = "") -> None:
    """Print one figure, aligned."""
    print(f"   {label:<58} {value}{'   ' + note if note else ''}")


def scratch_dir(prefix: str) -> Path:
    """A fresh temporary directory (removed by the caller with cleanup())."""
    return Path(tempfile.mkdtemp(prefix=f"runyard-bench-{prefix}-"))


def cleanup(path: Path) -> None:
    """Remove a scratch directory."""
    shutil.rmtree(path, ignore_errors=True)


def run_python(
    code: str,
    python: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    flags: Sequence[str] = (),
    argv: Sequence[str] = (),
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run `python [flags] -c code [argv]` in a fresh process and return it (output captured as text)."""
    full_env = dict(os.environ)
    full_env.pop("RUNYARD_TRACKING_URI", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [python or sys.executable, *flags, "-c", code, *argv],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_line_floats(proc: subprocess.CompletedProcess[str]) -> list[float]:
    """The floats printed on the last stdout line of a child (raises with its stderr if it failed)."""
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return [float(x) for x in proc.stdout.strip().splitlines()[-1].split()]


def mlflow_python() -> str | None:
    """A python that can `import mlflow` (the benchmark venv), or None (MLflow parts are skipped)."""
    candidates = [os.environ.get("RUNYARD_BENCH_MLFLOW_PYTHON"), DEFAULT_MLFLOW_VENV_PYTHON, sys.executable]
    for python in candidates:
        if not python or not Path(python).exists():
            continue
        probe = run_python("import importlib.util as u; print(u.find_spec('mlflow') is not None)", python)
        if probe.returncode == 0 and probe.stdout.strip().endswith("True"):
            return python
    return None


def mlflow_version(python: str) -> str:
    """The installed MLflow version of that python."""
    proc = run_python("import importlib.metadata as m; print(m.version('mlflow'))", python)
    return proc.stdout.strip() or "?"


def skip_mlflow_note() -> None:
    """The note printed when MLflow is not available."""
    print(
        "   MLflow not available: skipping the side-by-side figures. Install it in a separate venv:\n"
        "     python -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install "
        "-r benchmarks/requirements-mlflow.txt\n"
        "   (or point RUNYARD_BENCH_MLFLOW_PYTHON at a python that has mlflow)."
    )


MLFLOW_ENV = {"GIT_PYTHON_REFRESH": "quiet"}  # sqlite backend: no MLFLOW_ALLOW_FILE_STORE needed

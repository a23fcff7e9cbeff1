"""System metrics of a run: CPU, memory, disk, network and NVIDIA GPUs, sampled by a background thread.

Switched on by `start_run(log_system_metrics=True)`, `enable_system_metrics_logging()`,
RUNYARD_SYSTEM_METRICS=1 or MLflow's MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true. Every interval
(RUNYARD_SYSTEM_METRICS_INTERVAL or MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL, default 10 s) one sample
goes into the run's metric writer under MLflow's names (`system/cpu_utilization_percentage`,
`system/gpu_0_utilization_percentage`, ...), its step counting the samples. With a node id
(RUNYARD_SYSTEM_METRICS_NODE_ID or MLFLOW_SYSTEM_METRICS_NODE_ID) the keys read `system/<node>/...`.

psutil and nvidia-ml-py come with the extra `runyard[system]`. No GPU, no driver or no pynvml is a normal
case: the GPU metrics are left out. Only the GPUs the job may use (CUDA_VISIBLE_DEVICES) are sampled,
numbered by their CUDA ordinal within that list.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

from runyard import clock

ENABLE_ENVS = ("RUNYARD_SYSTEM_METRICS", "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING")
INTERVAL_ENVS = ("RUNYARD_SYSTEM_METRICS_INTERVAL", "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL")
NODE_ID_ENVS = ("RUNYARD_SYSTEM_METRICS_NODE_ID", "MLFLOW_SYSTEM_METRICS_NODE_ID")
DEFAULT_INTERVAL_SECONDS = 10.0
MIN_INTERVAL_SECONDS = 0.1
PREFIX = "system/"
MB = 1e6

_enabled_globally: bool | None = None
_warned_missing: set[str] = set()

# (run_id, key, value, timestamp_ms, step): the writer's buffered point
Point = tuple[str, str, float, int, int]


def enable_system_metrics_logging() -> None:
    """Sample system metrics in every run started from now on (MLflow's name)."""
    global _enabled_globally
    _enabled_globally = True


def disable_system_metrics_logging() -> None:
    """Stop sampling system metrics in runs started from now on (MLflow's name)."""
    global _enabled_globally
    _enabled_globally = False


def wanted(log_system_metrics: bool | None) -> bool:
    """Whether a new run samples system metrics: the start_run argument, then the switch, then the env."""
    if log_system_metrics is not None:
        return bool(log_system_metrics)
    if _enabled_globally is not None:
        return _enabled_globally
    return any(_truthy(os.environ.get(name)) for name in ENABLE_ENVS)


def interval_seconds() -> float:
    """The sampling interval in seconds (RUNYARD_, then MLflow's variable, else 10 s)."""
    for name in INTERVAL_ENVS:
        raw = os.environ.get(name)
        if raw:
            try:
                return max(float(raw), MIN_INTERVAL_SECONDS)
            except ValueError:
                _warn_once(name, f"runyard: {name}={raw!r} is not a number of seconds; sampling every 10 s.")
    return DEFAULT_INTERVAL_SECONDS


def node_id() -> str | None:
    """The node id of a multi-node job, from RUNYARD_ or MLflow's variable."""
    for name in NODE_ID_ENVS:
        value = os.environ.get(name, "").strip().strip("/")
        if value:
            return value
    return None


def metric_key(name: str, node: str | None = None) -> str:
    """`system/<name>`, or `system/<node>/<name>` on a multi-node job (MLflow's layout)."""
    return f"{PREFIX}{node}/{name}" if node else f"{PREFIX}{name}"


def visible_gpus(environ: dict[str, str] | os._Environ[str] | None = None) -> list[str] | None:
    """The devices of CUDA_VISIBLE_DEVICES in CUDA order (indices or UUIDs); None when it is unset."""
    env = os.environ if environ is None else environ
    raw = env.get("CUDA_VISIBLE_DEVICES")
    if raw is None:
        return None
    devices: list[str] = []
    for item in raw.split(","):
        item = item.strip()
        if not item or item in ("-1", "NoDevFiles"):
            break  # CUDA stops at the first invalid entry: the rest are invisible
        devices.append(item)
    return devices


class GpuSampler:
    """Reads the job's NVIDIA GPUs through NVML (pynvml, or a stand-in with the same functions)."""

    def __init__(self, nvml: Any, visible: list[str] | None) -> None:
        self.nvml = nvml
        nvml.nvmlInit()
        if visible is None:
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
        else:
            handles = []
            for device in visible:
                if device.isdigit():
                    handles.append(nvml.nvmlDeviceGetHandleByIndex(int(device)))
                else:
                    handles.append(nvml.nvmlDeviceGetHandleByUUID(device))
        self.handles = handles

    def sample(self, into: dict[str, float]) -> None:
        """Add utilization, memory, power and temperature of each GPU (a reading that fails is left out)."""
        for ordinal, handle in enumerate(self.handles):
            prefix = f"gpu_{ordinal}_"
            for read in (_gpu_memory, _gpu_utilization, _gpu_power, _gpu_temperature):
                try:
                    read(self.nvml, handle, prefix, into)
                except Exception:  # noqa: BLE001 - a reading NVML cannot give (unsupported, lost) is left out
                    pass


def _gpu_memory(nvml: Any, handle: Any, name: str, into: dict[str, float]) -> None:
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    into[name + "memory_usage_megabytes"] = memory.used / MB
    into[name + "memory_total_megabytes"] = memory.total / MB
    into[name + "memory_usage_percentage"] = (
        round(memory.used / memory.total * 100, 1) if memory.total else 0.0
    )


def _gpu_utilization(nvml: Any, handle: Any, name: str, into: dict[str, float]) -> None:
    into[name + "utilization_percentage"] = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)


def _gpu_temperature(nvml: Any, handle: Any, name: str, into: dict[str, float]) -> None:
    into[name + "temperature_celsius"] = float(nvml.nvmlDeviceGetTemperature(handle, 0))  # 0: the GPU die


def _gpu_power(nvml: Any, handle: Any, name: str, into: dict[str, float]) -> None:
    milliwatts = nvml.nvmlDeviceGetPowerUsage(handle)
    into[name + "power_usage_watts"] = milliwatts / 1000
    limit = nvml.nvmlDeviceGetEnforcedPowerLimit(handle)
    if limit:
        into[name + "power_usage_percentage"] = milliwatts / limit * 100


def _try(read: Callable[[], None]) -> None:
    try:
        read()
    except Exception:  # noqa: BLE001 - a reading the platform cannot give is left out
        pass


def open_gpu_sampler(nvml: Any = None) -> GpuSampler | None:
    """A GpuSampler of the visible GPUs, or None when there is no pynvml, no driver or no GPU."""
    visible = visible_gpus()
    if visible == []:
        return None
    if nvml is None:
        try:
            import pynvml  # nvidia-ml-py
        except ImportError:
            return None
        nvml = pynvml
    try:
        sampler = GpuSampler(nvml, visible)
    except Exception:  # noqa: BLE001 - no driver, no device: a normal case, not an error
        return None
    return sampler if sampler.handles else None


class HostSampler:
    """CPU, memory, disk and network readings through psutil (rates from the previous sample)."""

    def __init__(self, psutil: Any) -> None:
        self.psutil = psutil
        self.process = psutil.Process()
        psutil.cpu_percent(None)  # starts the CPU counter: the first real reading covers one interval
        network = psutil.net_io_counters()
        self._network_start = (network.bytes_recv, network.bytes_sent) if network else (0, 0)
        self._disk_last = self._disk_bytes()
        self._disk_time = clock.now_ms()

    def _disk_bytes(self) -> tuple[int, int] | None:
        counters = self.psutil.disk_io_counters()
        return (counters.read_bytes, counters.write_bytes) if counters else None

    def sample(self, into: dict[str, float]) -> None:
        """Add the host readings under MLflow's names (and runyard's additions in the same style)."""
        psutil = self.psutil
        into["cpu_utilization_percentage"] = float(psutil.cpu_percent(None))
        memory = psutil.virtual_memory()
        into["system_memory_usage_megabytes"] = memory.used / MB
        into["system_memory_usage_percentage"] = memory.used / memory.total * 100 if memory.total else 0.0
        _try(lambda: into.__setitem__("process_memory_rss_megabytes", self.process.memory_info().rss / MB))
        _try(lambda: self._disk_usage(into))
        _try(lambda: self._disk_rates(into))
        network = psutil.net_io_counters()
        if network:
            into["network_receive_megabytes"] = (network.bytes_recv - self._network_start[0]) / MB
            into["network_transmit_megabytes"] = (network.bytes_sent - self._network_start[1]) / MB

    def _disk_usage(self, into: dict[str, float]) -> None:
        usage = self.psutil.disk_usage(os.sep)
        into["disk_usage_percentage"] = float(usage.percent)
        into["disk_usage_megabytes"] = usage.used / MB
        into["disk_available_megabytes"] = usage.free / MB

    def _disk_rates(self, into: dict[str, float]) -> None:
        now, current = clock.now_ms(), self._disk_bytes()
        last, seconds = self._disk_last, (now - self._disk_time) / 1000
        self._disk_last, self._disk_time = current, now
        if current is None or last is None or seconds <= 0:
            return
        into["disk_read_megabytes_per_second"] = max(current[0] - last[0], 0) / MB / seconds
        into["disk_write_megabytes_per_second"] = max(current[1] - last[1], 0) / MB / seconds


class SystemMetricsSampler:
    """Samples the host (and GPUs) every interval into a run's metric writer, from a daemon thread."""

    def __init__(
        self,
        run_id: str,
        add_points: Callable[[list[Point]], None],
        interval: float | None = None,
        node: str | None = None,
        psutil: Any = None,
        nvml: Any = None,
    ) -> None:
        self.run_id = run_id
        self.add_points = add_points
        self.interval = interval if interval is not None else interval_seconds()
        self.node = node if node is not None else node_id()
        self.host = HostSampler(psutil)
        self.gpus = open_gpu_sampler(nvml)
        self.step = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample_once(self) -> dict[str, float]:
        """Take one sample, hand it to the writer as the next step, and return it (name -> value)."""
        values: dict[str, float] = {}
        self.host.sample(values)
        if self.gpus is not None:
            self.gpus.sample(values)
        now = clock.now_ms()
        step = self.step
        self.step += 1
        self.add_points(
            [(self.run_id, metric_key(name, self.node), value, now, step) for name, value in values.items()]
        )
        return values

    def start(self) -> None:
        """Sample every interval from a daemon thread until stop()."""
        self._thread = threading.Thread(target=self._loop, name="runyard-system-metrics", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from runyard.tracking.signals import block_in_this_thread

        block_in_this_thread()
        while not self._stop.wait(self.interval):
            try:
                self.sample_once()
            except Exception as error:  # noqa: BLE001 - a failed sample must never stop the training
                _warn_once("sample", f"runyard: a system metrics sample failed ({error}); sampling goes on.")

    def stop(self) -> None:
        """Stop sampling; a sample being taken right now finishes first (so it lands before the flush)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)


def start_sampler(run_id: str, add_points: Callable[[list[Point]], None]) -> SystemMetricsSampler | None:
    """Start sampling for a run, or warn once and return None when psutil is missing."""
    try:
        import psutil
    except ImportError:
        _warn_once(
            "psutil",
            "runyard: system metrics need psutil (and nvidia-ml-py for GPUs): pip install 'runyard[system]'. "
            "The run goes on without them.",
        )
        return None
    sampler = SystemMetricsSampler(run_id, add_points, psutil=psutil)
    sampler.start()
    return sampler


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _warn_once(what: str, message: str) -> None:
    if what not in _warned_missing:
        _warned_missing.add(what)
        warnings.warn(message, stacklevel=3)

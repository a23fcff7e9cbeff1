"""System metrics: real psutil readings under MLflow's names, GPUs through a fake NVML, the switches."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest
import runyard
from runyard.tracking import system_metrics
from runyard.tracking.system_metrics import SystemMetricsSampler, visible_gpus

HOST_KEYS = {
    "cpu_utilization_percentage",
    "system_memory_usage_megabytes",
    "system_memory_usage_percentage",
    "process_memory_rss_megabytes",
    "disk_usage_percentage",
    "disk_usage_megabytes",
    "disk_available_megabytes",
    "network_receive_megabytes",
    "network_transmit_megabytes",
}


class FakeNvml:
    """Stands in for pynvml: three GPUs; GPU 2 cannot report its power (as some boards cannot)."""

    class NVMLError(Exception):
        pass

    def __init__(self, fail_init: bool = False) -> None:
        self.fail_init = fail_init
        self.uuids = ["GPU-aaa", "GPU-bbb", "GPU-ccc"]

    def nvmlInit(self) -> None:  # noqa: N802 - NVML's names
        if self.fail_init:
            raise self.NVMLError("NVML Shared Library Not Found")

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return 3

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:  # noqa: N802
        return index

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> int:  # noqa: N802
        return self.uuids.index(uuid)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:  # noqa: N802
        return SimpleNamespace(used=(handle + 1) * 1_000_000_000, total=16_000_000_000)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:  # noqa: N802
        return SimpleNamespace(gpu=10 * (handle + 1), memory=5)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:  # noqa: N802
        if handle == 2:
            raise self.NVMLError("Not Supported")
        return 150_000

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:  # noqa: N802
        return 300_000

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:  # noqa: N802
        return 60 + handle


def _sampler(points: list[Any], **kwargs: Any) -> SystemMetricsSampler:
    return SystemMetricsSampler("run1", points.extend, interval=60, psutil=psutil, **kwargs)


def test_a_sample_has_mlflows_host_metric_names_with_real_psutil_values() -> None:
    points: list[Any] = []
    values = _sampler(points, nvml=FakeNvml(fail_init=True)).sample_once()
    assert HOST_KEYS <= set(values)
    assert 0 <= values["cpu_utilization_percentage"] <= 100 * psutil.cpu_count()
    assert 0 < values["system_memory_usage_percentage"] < 100
    assert values["process_memory_rss_megabytes"] > 1  # this Python process
    assert {key for _, key, *_ in points} == {f"system/{name}" for name in values}
    assert {step for *_, step in points} == {0}


def test_steps_count_samples_and_disk_rates_appear_from_the_second_sample() -> None:
    points: list[Any] = []
    sampler = _sampler(points, nvml=FakeNvml(fail_init=True))
    sampler.sample_once()
    time.sleep(0.02)
    second = sampler.sample_once()
    assert {step for *_, step in points} == {0, 1}
    if psutil.disk_io_counters() is not None:
        assert second["disk_read_megabytes_per_second"] >= 0
        assert second["disk_write_megabytes_per_second"] >= 0


def test_gpus_are_sampled_per_device_and_a_reading_a_board_lacks_is_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    values = _sampler([], nvml=FakeNvml()).sample_once()
    assert values["gpu_0_utilization_percentage"] == 10
    assert values["gpu_1_memory_usage_megabytes"] == 2000
    assert values["gpu_1_memory_total_megabytes"] == 16000
    assert values["gpu_0_power_usage_watts"] == 150
    assert values["gpu_0_power_usage_percentage"] == 50
    assert values["gpu_2_temperature_celsius"] == 62
    assert "gpu_2_power_usage_watts" not in values  # NVML said "Not Supported": no made-up zero
    assert "gpu_2_utilization_percentage" in values


def test_only_the_gpus_of_cuda_visible_devices_are_recorded_by_cuda_ordinal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,GPU-aaa")
    values = _sampler([], nvml=FakeNvml()).sample_once()
    gpu_keys = {key for key in values if key.startswith("gpu_")}
    assert {key.split("_")[1] for key in gpu_keys} == {"0", "1"}
    assert values["gpu_0_utilization_percentage"] == 30  # physical GPU 2 is CUDA device 0
    assert values["gpu_1_utilization_percentage"] == 10  # GPU-aaa is physical 0


@pytest.mark.parametrize("setting", ["", "-1", "NoDevFiles"])
def test_no_visible_gpu_means_no_gpu_metrics(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", setting)
    values = _sampler([], nvml=FakeNvml()).sample_once()
    assert not [key for key in values if key.startswith("gpu_")]


def test_cuda_visible_devices_stops_at_the_first_invalid_entry() -> None:
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "0,1,-1,2"}) == ["0", "1"]
    assert visible_gpus({}) is None


def test_no_driver_is_a_normal_case() -> None:
    values = _sampler([], nvml=FakeNvml(fail_init=True)).sample_once()
    assert HOST_KEYS <= set(values)
    assert not [key for key in values if key.startswith("gpu_")]


def test_a_node_id_goes_into_the_key_as_mlflow_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_NODE_ID", "node_1")
    points: list[Any] = []
    _sampler(points, nvml=FakeNvml(fail_init=True)).sample_once()
    assert "system/node_1/cpu_utilization_percentage" in {key for _, key, *_ in points}
    monkeypatch.setenv("RUNYARD_SYSTEM_METRICS_NODE_ID", "worker-7")  # runyard's name wins
    points.clear()
    _sampler(points, nvml=FakeNvml(fail_init=True)).sample_once()
    assert "system/worker-7/cpu_utilization_percentage" in {key for _, key, *_ in points}


def test_switches_start_run_argument_then_function_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_metrics, "_enabled_globally", None)
    for name in system_metrics.ENABLE_ENVS:
        monkeypatch.delenv(name, raising=False)
    assert not system_metrics.wanted(None)
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "true")
    assert system_metrics.wanted(None)
    assert not system_metrics.wanted(False)
    runyard.disable_system_metrics_logging()
    assert not system_metrics.wanted(None)
    runyard.enable_system_metrics_logging()
    assert system_metrics.wanted(None)
    monkeypatch.setattr(system_metrics, "_enabled_globally", None)
    monkeypatch.setenv("RUNYARD_SYSTEM_METRICS_INTERVAL", "0.5")
    assert system_metrics.interval_seconds() == 0.5
    monkeypatch.delenv("RUNYARD_SYSTEM_METRICS_INTERVAL")
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "3")
    assert system_metrics.interval_seconds() == 3.0


def test_a_run_with_system_metrics_stores_them_as_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SYSTEM_METRICS_INTERVAL", "0.1")
    runyard.set_tracking_uri(str(tmp_path / "runyard.db"))
    with runyard.start_run(log_system_info=False, log_system_metrics=True) as run:
        runyard.log_metric("loss", 1.0)
        deadline = time.monotonic() + 20
        sampler = run.system_metrics
        assert sampler is not None
        while sampler.step < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    stored = runyard.get_run(run.info.run_id)
    assert "system/cpu_utilization_percentage" in stored.data.metrics
    assert "loss" in stored.data.metrics
    history = runyard.TrackingClient(runyard.get_tracking_uri()).get_metric_history(
        run.info.run_id, "system/system_memory_usage_megabytes"
    )
    assert len(history) >= 3
    assert sorted(point.step for point in history)[:3] == [0, 1, 2]
    steps_after_end = sampler.step
    time.sleep(0.3)
    assert sampler.step <= steps_after_end + 1  # the sampler stopped with the run


def test_runs_without_the_switch_record_no_system_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in system_metrics.ENABLE_ENVS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(system_metrics, "_enabled_globally", None)
    runyard.set_tracking_uri(str(tmp_path / "runyard.db"))
    with runyard.start_run(log_system_info=False) as run:
        runyard.log_metric("loss", 1.0)
    assert run.system_metrics is None
    assert not [k for k in runyard.get_run(run.info.run_id).data.metrics if k.startswith("system/")]

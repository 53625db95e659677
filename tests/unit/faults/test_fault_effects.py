"""cpu_burn and memory_pressure really load the process, and stop when cleared."""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from sample_backend.faults import FaultRegistry
from sample_backend.faults.effects import CpuBurn, MemoryHog

MIB = 1024**2


def cpu_seconds_over(window: float) -> float:
    proc = psutil.Process()
    before = sum(proc.cpu_times()[:2])
    time.sleep(window)  # a CPU rate needs a time window; there is no condition to poll
    return sum(proc.cpu_times()[:2]) - before


def burn_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("cpu-burn-")]


def test_cpu_burn_raises_process_cpu_time_and_stops() -> None:
    proc = psutil.Process()
    registry = FaultRegistry()
    before = sum(proc.cpu_times()[:2])
    registry.set("cpu_burn", {"cores": 1.0})
    try:
        assert len(burn_threads()) == 1
        # Poll rather than sample a fixed window: on a busy host the burn gets a smaller
        # share of the CPU, but it still accumulates CPU seconds.
        deadline = time.monotonic() + 10
        while sum(proc.cpu_times()[:2]) - before < 0.5:
            assert time.monotonic() < deadline, "cpu_burn added less than 0.5 CPU s in 10 s"
            time.sleep(0.05)
    finally:
        registry.clear("cpu_burn")
    assert burn_threads() == []
    assert cpu_seconds_over(0.3) < 0.15


def test_fractional_cores_use_enough_threads() -> None:
    burn = CpuBurn(1.5)
    try:
        assert len(burn_threads()) == 2
    finally:
        burn.stop()
    assert not burn.running


def test_close_stops_cpu_burn() -> None:
    registry = FaultRegistry()
    registry.set("cpu_burn", {"cores": 0.5})
    registry.close()
    assert burn_threads() == []


@pytest.mark.parametrize("cores", [0, 4.5, -1])
def test_cpu_burn_rejects_out_of_range(cores: float) -> None:
    with pytest.raises(ValueError, match="cores must be in"):
        CpuBurn(cores)


def test_memory_pressure_raises_rss_and_frees() -> None:
    proc = psutil.Process()
    registry = FaultRegistry()
    base = proc.memory_info().rss
    registry.set("memory_pressure", {"bytes": 256 * MIB})
    try:
        held = proc.memory_info().rss
    finally:
        registry.clear("memory_pressure")
    freed = proc.memory_info().rss
    assert held - base > 240 * MIB
    assert held - freed > 200 * MIB


def test_memory_hog_zero_bytes_is_fine() -> None:
    hog = MemoryHog(0)
    assert hog.held == 0
    hog.release()

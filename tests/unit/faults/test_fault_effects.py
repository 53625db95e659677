"""cpu_burn and memory_pressure really load the process, and stop when cleared."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


@contextmanager
def memory_pressure(size: int) -> Iterator[int]:
    """memory_pressure of ``size`` bytes on while inside; yields the RSS before it."""
    registry = FaultRegistry()
    base = rss()
    registry.set("memory_pressure", {"bytes": size})
    try:
        yield base
    finally:
        registry.clear("memory_pressure")


def test_memory_pressure_raises_rss_and_frees() -> None:
    with memory_pressure(256 * MIB) as base:
        # On a slow machine the fill may outlast the wait in set(): poll, as a scrape would.
        deadline = time.monotonic() + 10
        while (held := rss()) - base <= 240 * MIB:
            assert time.monotonic() < deadline, f"RSS grew {(held - base) / MIB:.0f} MiB in 10 s"
            time.sleep(0.05)
    freed = rss()
    assert held - base > 240 * MIB
    assert held - freed > 200 * MIB


def test_switching_memory_pressure_on_returns_once_the_memory_is_resident() -> None:
    with memory_pressure(64 * MIB) as base:
        assert rss() - base > 60 * MIB


def test_memory_hog_zero_bytes_is_fine() -> None:
    hog = MemoryHog(0)
    assert hog.wait(5)
    assert hog.held == 0
    hog.release()


def test_memory_hog_holds_exactly_its_size_and_releases_it() -> None:
    hog = MemoryHog(40 * MIB + 4096)  # not a whole number of chunks
    assert hog.wait(10)
    assert hog.held == 40 * MIB + 4096
    hog.release()
    assert hog.held == 0


def test_memory_hog_released_while_filling_frees_what_it_had() -> None:
    proc = psutil.Process()
    base = proc.memory_info().rss
    hog = MemoryHog(1024 * MIB)
    while hog.held < 64 * MIB:
        time.sleep(0.01)
    hog.release()
    assert hog.wait(0)
    assert hog.held == 0
    assert proc.memory_info().rss - base < 32 * MIB


def test_memory_hog_lets_other_threads_run_while_it_fills() -> None:
    # The event loop is another thread to the filler: a fill that held the GIL throughout
    # would stall every request for as long as the kernel takes to hand out the pages.
    ticks: list[float] = []
    done = threading.Event()

    def ticker() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        start = time.perf_counter()
        hog = MemoryHog(256 * MIB)
        assert hog.wait(10)
        end = time.perf_counter()
    finally:
        done.set()
        thread.join()
    hog.release()
    during = [start, *(t for t in ticks if start < t < end), end]
    longest = max(b - a for a, b in itertools.pairwise(during))
    assert len(during) > 4, f"the ticker ran {len(during) - 2} times in a {end - start:.3f} s fill"
    assert longest < (end - start) / 2, f"longest stall {longest:.3f} s of a {end - start:.3f} s fill"

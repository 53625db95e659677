"""Process-level fault effects: burning CPU and holding memory inside this process.

These two faults cannot be applied "where they would happen" by the request path —
they are the process itself misbehaving — so the registry starts and stops them here.
Both are real: ``process_cpu_seconds_total`` and ``process_resident_memory_bytes``
move because the process really does the work / holds the pages.

Usage::

    burn = CpuBurn(cores=1.5)   # starts at once
    burn.stop()
    hog = MemoryHog(256 * 1024**2)
    hog.release()
"""

from __future__ import annotations

import hashlib
import math
import threading
import time

__all__ = ["CpuBurn", "MemoryHog"]

# hashlib releases the GIL for inputs over 2 KiB, so the burn threads load the CPU
# without stalling the event loop. 1 MiB keeps one hash at about a millisecond, fine
# enough to follow the duty cycle.
_BUFFER = b"\xa5" * (1024 * 1024)
# Duty-cycle period: short enough that a scrape interval sees a steady average.
_PERIOD = 0.1
_PAGE = 4096


class CpuBurn:
    """Keeps ``cores`` CPU cores busy with hashing until :meth:`stop`.

    Uses ``ceil(cores)`` threads, each using ``cores / threads`` of every period in CPU time,
    so fractional values (0.5, 1.5) give the requested average load. CPU time, not wall time:
    on a machine where other processes compete for the cores a thread keeps hashing until it
    has had its share, so the process still uses what was asked for if the cores have it.
    """

    def __init__(self, cores: float) -> None:
        if not 0 < cores <= 4:
            raise ValueError(f"cores must be in (0, 4], got {cores}")
        self.cores = cores
        self._stop = threading.Event()
        n = math.ceil(cores)
        duty = cores / n
        self._threads = [
            threading.Thread(target=self._run, args=(duty,), name=f"cpu-burn-{i}", daemon=True)
            for i in range(n)
        ]
        for t in self._threads:
            t.start()

    def _run(self, duty: float) -> None:
        busy = _PERIOD * duty
        while not self._stop.is_set():
            start, cpu = time.monotonic(), time.thread_time()
            while time.thread_time() - cpu < busy and not self._stop.is_set():
                hashlib.sha256(_BUFFER).digest()
            rest = _PERIOD - (time.monotonic() - start)
            if rest > 0:
                self._stop.wait(rest)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def stop(self, timeout: float = 2.0) -> None:
        """Signal the threads and wait for them (each finishes within one hash)."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout)


class MemoryHog:
    """Holds ``size`` bytes of resident memory until :meth:`release`.

    A fresh ``bytearray`` is backed by zero pages the kernel has not committed yet;
    writing one byte per page makes every page resident, so RSS really grows.
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        self.size = size
        self._buf: bytearray | None = bytearray(size)
        if size:
            # One extended-slice assignment touches every page at C speed.
            pages = len(range(0, size, _PAGE))
            self._buf[::_PAGE] = b"\x01" * pages

    @property
    def held(self) -> int:
        return len(self._buf) if self._buf is not None else 0

    def release(self) -> None:
        """Drop the buffer; CPython returns a large allocation to the OS at once."""
        self._buf = None

"""Process-level fault effects: burning CPU and holding memory inside this process.

These two faults cannot be applied "where they would happen" by the request path —
they are the process itself misbehaving — so the registry starts and stops them here.
Both are real: ``process_cpu_seconds_total`` and ``process_resident_memory_bytes``
move because the process really does the work / holds the pages.

Usage::

    burn = CpuBurn(cores=1.5)   # starts at once
    burn.stop()
    hog = MemoryHog(256 * 1024**2)  # fills in the background
    hog.wait()                      # only tests need to wait for it
    hog.release()
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import mmap
import threading
import time

__all__ = ["CpuBurn", "MemoryHog"]

# hashlib releases the GIL for inputs over 2 KiB, so the burn threads load the CPU
# without stalling the event loop. 1 MiB keeps one hash at about a millisecond, fine
# enough to follow the duty cycle.
_BUFFER = b"\xa5" * (1024 * 1024)
# Duty-cycle period: short enough that a scrape interval sees a steady average.
_PERIOD = 0.1
# 16 MiB: the filler notices a release within one chunk's write (milliseconds).
_CHUNK = 16 * 1024 * 1024


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

    A background thread maps the memory in chunks of :data:`_CHUNK` bytes and writes each
    one, so every page is resident and RSS really grows, over well under a second on an
    idle machine. On a busy VM the first touch of fresh pages can take seconds; the thread
    writes with ``memset`` through ctypes, which runs without the GIL, so the event loop
    keeps serving meanwhile (a Python-level fill held the GIL throughout: every request
    stalled, then timed out on the database pool and answered 503) and the caller chooses
    whether to :meth:`wait` for the fill. Anonymous mappings, not ``bytearray``: closing one
    hands its pages back to the OS at once, where the allocator could keep freed heap memory.
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        self.size = size
        self._chunks: list[mmap.mmap] = []
        self._stop = threading.Event()
        self._filler = threading.Thread(target=self._fill, name="memory-hog", daemon=True)
        self._filler.start()

    def _fill(self) -> None:
        for offset in range(0, self.size, _CHUNK):
            if self._stop.is_set():
                return
            chunk = mmap.mmap(-1, min(_CHUNK, self.size - offset))
            start = ctypes.c_char.from_buffer(chunk)
            ctypes.memset(ctypes.addressof(start), 1, len(chunk))
            del start  # the mapping cannot be closed while ctypes points into it
            self._chunks.append(chunk)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until all ``size`` bytes are resident; False if ``timeout`` passed first."""
        self._filler.join(timeout)
        return not self._filler.is_alive()

    @property
    def held(self) -> int:
        return sum(len(chunk) for chunk in list(self._chunks))

    def release(self) -> None:
        """Stop filling and unmap every chunk; the pages go back to the OS at once."""
        self._stop.set()
        self._filler.join()  # at most one chunk's write away
        chunks, self._chunks = self._chunks, []
        for chunk in chunks:
            chunk.close()

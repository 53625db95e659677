"""An in-process TTL cache in front of the conversation store and the HTTP tools.

Lookups count ``agent_cache_requests_total{result}`` (hit, miss) and every operation
is timed in ``agent_cache_operation_duration_seconds{operation}``. The
``cache_degraded`` fault makes lookups miss at ``miss_rate`` and adds ``seconds`` to
every operation, which is how a struggling shared cache looks from the client side.

Usage::

    cache = Cache(max_entries=1000, ttl_seconds=60, faults=f, metrics=m)
    await cache.set("weather:Paris", {"temp": 21})
    await cache.get("weather:Paris")
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from typing import Any

from sample_backend.faults.registry import FaultRegistry
from sample_backend.telemetry.metrics import BackendMetrics
from sample_backend.telemetry.tracing import exemplar

__all__ = ["Cache"]

OPERATIONS = ("get", "set", "clear")


class Cache:
    """LRU + TTL key-value cache with hit/miss and latency metrics."""

    def __init__(
        self, *, max_entries: int, ttl_seconds: float, faults: FaultRegistry, metrics: BackendMetrics
    ):
        self._max = max_entries
        self._ttl = ttl_seconds
        self._faults = faults
        self._metrics = metrics
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._random = random.Random()
        for result in ("hit", "miss"):
            metrics.cache_requests.labels(result=result)

    async def _degrade(self) -> float:
        """Apply cache_degraded's latency; returns its miss rate (0 when healthy)."""
        params = self._faults.params("cache_degraded")
        if params is None:
            return 0.0
        if params["seconds"] > 0:
            await asyncio.sleep(float(params["seconds"]))
        return float(params["miss_rate"])

    def _observe(self, operation: str, start: float) -> None:
        self._metrics.cache_duration.labels(operation=operation).observe(
            time.perf_counter() - start, exemplar()
        )

    async def get(self, key: str) -> Any | None:
        start = time.perf_counter()
        miss_rate = await self._degrade()
        entry = self._data.get(key)
        value = None
        if entry is not None and entry[0] > time.monotonic():
            self._data.move_to_end(key)
            value = entry[1]
        elif entry is not None:
            del self._data[key]
        if value is not None and miss_rate > 0 and self._random.random() < miss_rate:
            value = None
        self._metrics.cache_requests.labels(result="miss" if value is None else "hit").inc()
        self._observe("get", start)
        return value

    async def set(self, key: str, value: Any) -> None:
        start = time.perf_counter()
        await self._degrade()
        self._data[key] = (time.monotonic() + self._ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)
        self._observe("set", start)

    async def clear(self) -> int:
        """Drop every entry; returns how many there were."""
        start = time.perf_counter()
        await self._degrade()
        count = len(self._data)
        self._data.clear()
        self._observe("clear", start)
        return count

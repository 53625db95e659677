"""The conversation store: a simulated database behind a bounded connection pool.

It behaves like a real pooled client where the monitoring can see it: every query
checks a connection out of a pool of ``BACKEND_DB_POOL_SIZE`` (waiting up to
``BACKEND_DB_POOL_TIMEOUT_SECONDS``, then failing), takes a little time, and writes
grow the storage the volume reports. Faults act at the same points:

* ``db_down`` — the connection attempt fails (``DatabaseUnavailable``);
* ``db_pool_saturation`` — that share of the pool is held by a stuck client, so fewer
  connections are free and ``agent_db_pool_connections_in_use`` rises;
* ``db_storage_fill`` — the volume reports that share of its capacity as used.

Conversations live in memory, capped (least recently used threads are evicted), so a
long load test cannot grow the process without bound.

Usage::

    store = ConversationStore(pool_size=10, pool_timeout=2.0, capacity_bytes=10**9, faults=f, metrics=m)
    history = await store.load("thread-1")
    await store.append("thread-1", [{"role": "user", "content": "hi"}])
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sample_backend.faults.registry import FaultRegistry
from sample_backend.telemetry.metrics import BackendMetrics
from sample_backend.telemetry.tracing import exemplar

__all__ = ["ConversationStore", "DatabaseError", "DatabaseUnavailable", "PoolTimeout"]

OPERATIONS = ("select", "insert", "ping")
# A healthy query on a nearby database takes about a millisecond.
QUERY_SECONDS = 0.001
MAX_THREADS = 2_000
MAX_MESSAGES_PER_THREAD = 20


class DatabaseError(Exception):
    """A query failed; subclasses say why."""


class DatabaseUnavailable(DatabaseError):
    """The database could not be reached."""


class PoolTimeout(DatabaseError):
    """No pooled connection became free in time."""


class ConversationStore:
    """Thread histories behind a connection pool with the real failure modes."""

    def __init__(
        self,
        *,
        pool_size: int,
        pool_timeout: float,
        capacity_bytes: int,
        faults: FaultRegistry,
        metrics: BackendMetrics,
    ) -> None:
        self._size = pool_size
        self._timeout = pool_timeout
        self._capacity = capacity_bytes
        self._faults = faults
        self._metrics = metrics
        self._in_use = 0
        self._written_bytes = 0
        self._threads: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        # Created on first use so it binds to the loop that serves requests.
        self._freed: asyncio.Condition | None = None
        metrics.db_connections_max.set(pool_size)
        metrics.db_storage_capacity.set(capacity_bytes)
        self.refresh_gauges()

    # --- pool ----------------------------------------------------------------------

    def _held_by_fault(self) -> int:
        params = self._faults.params("db_pool_saturation")
        if params is None:
            return 0
        # floor: 0.95 of 10 holds 9, leaving one connection, so the service slows
        # down under concurrency but keeps answering.
        return min(self._size, math.floor(float(params["fraction"]) * self._size))

    def _free(self) -> int:
        return self._size - self._held_by_fault() - self._in_use

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[None]:
        if self._faults.active("db_down"):
            raise DatabaseUnavailable("conversation store unreachable: connection refused")
        if self._freed is None:
            self._freed = asyncio.Condition()
        async with self._freed:
            try:
                await asyncio.wait_for(self._freed.wait_for(lambda: self._free() > 0), self._timeout)
            except TimeoutError:
                raise PoolTimeout(
                    f"no database connection free within {self._timeout:g} s (pool size {self._size})"
                ) from None
            self._in_use += 1
        self.refresh_gauges()
        try:
            yield
        finally:
            async with self._freed:
                self._in_use -= 1
                self._freed.notify()
            self.refresh_gauges()

    @asynccontextmanager
    async def _query(self, operation: str) -> AsyncIterator[None]:
        start = time.perf_counter()
        try:
            async with self._connection():
                await asyncio.sleep(QUERY_SECONDS)
                yield
        finally:
            self._metrics.db_duration.labels(operation=operation).observe(
                time.perf_counter() - start, exemplar()
            )

    # --- queries -------------------------------------------------------------------

    async def ping(self) -> None:
        """``SELECT 1``: raises DatabaseError when the store cannot answer."""
        async with self._query("ping"):
            pass

    async def load(self, thread_id: str) -> list[dict[str, Any]]:
        """The stored messages of ``thread_id`` (empty for a new thread)."""
        async with self._query("select"):
            messages = self._threads.get(thread_id)
            if messages is not None:
                self._threads.move_to_end(thread_id)
            return list(messages or [])

    async def append(self, thread_id: str, messages: list[dict[str, Any]]) -> None:
        """Add ``messages`` to ``thread_id``; the bytes written count as storage used."""
        async with self._query("insert"):
            stored = self._threads.setdefault(thread_id, [])
            stored.extend(messages)
            del stored[:-MAX_MESSAGES_PER_THREAD]
            self._threads.move_to_end(thread_id)
            while len(self._threads) > MAX_THREADS:
                self._threads.popitem(last=False)
            self._written_bytes += len(json.dumps(messages).encode())
        self.refresh_gauges()

    # --- gauges --------------------------------------------------------------------

    def refresh_gauges(self) -> None:
        """Bring the pool and storage gauges up to date (also called before each scrape)."""
        self._metrics.db_connections_in_use.set(self._in_use + self._held_by_fault())
        used = self._written_bytes
        fill = self._faults.params("db_storage_fill")
        if fill is not None:
            used = max(used, int(float(fill["fraction"]) * self._capacity))
        self._metrics.db_storage_used.set(min(used, self._capacity))

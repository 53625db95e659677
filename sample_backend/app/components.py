"""Everything one backend app holds, built from its settings.

One :class:`Components` per app (metrics registry, fault registry, stores, clients,
agent), so several apps — two instances in one test process — never share state.
The HTTP clients are closed by :meth:`Components.aclose` at shutdown.

Usage::

    c = Components.build(settings)
    ...
    await c.aclose()
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from sample_backend.app.a2a import A2AClient
from sample_backend.app.agent import Agent
from sample_backend.app.auth import Authenticator
from sample_backend.app.cache import Cache
from sample_backend.app.guardrail import Guardrail
from sample_backend.app.llm import LlmClient
from sample_backend.app.pricing import TokenBudget
from sample_backend.app.settings import BackendSettings
from sample_backend.app.store import ConversationStore
from sample_backend.app.tools import ToolRegistry
from sample_backend.app.unreachable import UnreachableAddress
from sample_backend.faults.registry import FaultRegistry
from sample_backend.telemetry.metrics import BackendMetrics
from sample_backend.telemetry.resources import cpu_limit_cores, memory_limit_bytes
from sample_backend.telemetry.tracing import inject_untraced

__all__ = ["VERSION", "Components"]

VERSION = "0.1.0"


@dataclass
class Components:
    settings: BackendSettings
    registry: CollectorRegistry
    metrics: BackendMetrics
    faults: FaultRegistry
    auth: Authenticator
    guardrail: Guardrail
    store: ConversationStore
    cache: Cache
    budget: TokenBudget
    llm: LlmClient
    tools: ToolRegistry
    a2a: A2AClient
    agent: Agent
    http: httpx.AsyncClient
    unreachable: UnreachableAddress

    @classmethod
    def build(cls, settings: BackendSettings, service_name: str) -> Components:
        registry = CollectorRegistry()
        # Process CPU / memory / fds on the app's own registry: the resource alerts
        # divide these by the limits below.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        metrics = BackendMetrics(registry)
        metrics.build_info.labels(version=VERSION, service_name=service_name).set(1)
        metrics.memory_limit.set(memory_limit_bytes(settings.memory_limit_bytes))
        metrics.cpu_limit.set(cpu_limit_cores(settings.cpu_limit_cores))
        for dependency in ("database", "llm"):
            metrics.dependency_up.labels(dependency=dependency).set(1)

        faults = FaultRegistry(metrics)
        unreachable = UnreachableAddress()
        # LLM calls are sent without an HTTP span (their chat span is the client span);
        # the hook gives them the trace context the instrumentation would have injected.
        hooks = {"request": [inject_untraced]} if settings.telemetry_enabled else {}
        http = httpx.AsyncClient(timeout=settings.upstream_timeout_seconds, event_hooks=hooks)
        cache = Cache(
            max_entries=settings.cache_max_entries,
            ttl_seconds=settings.cache_ttl_seconds,
            faults=faults,
            metrics=metrics,
        )
        store = ConversationStore(
            pool_size=settings.db_pool_size,
            pool_timeout=settings.db_pool_timeout_seconds,
            capacity_bytes=settings.db_storage_capacity_bytes,
            faults=faults,
            metrics=metrics,
        )
        budget = TokenBudget(settings.token_budget_daily, metrics)
        llm = LlmClient(settings, faults, metrics, budget, unreachable.url("/v1"), http)
        tools = ToolRegistry(settings, http, cache, faults, metrics)
        a2a = A2AClient(settings.a2a_agents, http, faults, metrics, unreachable.url("/a2a"))
        agent = Agent(llm=llm, tools=tools, a2a=a2a, store=store, cache=cache, faults=faults, metrics=metrics)
        return cls(
            settings=settings,
            registry=registry,
            metrics=metrics,
            faults=faults,
            auth=Authenticator(settings.auth_tokens, metrics),
            guardrail=Guardrail(metrics),
            store=store,
            cache=cache,
            budget=budget,
            llm=llm,
            tools=tools,
            a2a=a2a,
            agent=agent,
            http=http,
            unreachable=unreachable,
        )

    async def aclose(self) -> None:
        await self.http.aclose()  # shared by the LLM, tool and A2A clients
        self.faults.close()
        self.unreachable.close()

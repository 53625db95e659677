"""Fixtures for the backend tests: the real upstreams app and backends on real ports.

The upstreams app (simulated LLM, tools API, A2A peers) runs once per session with
its latencies at zero, so runs take milliseconds. Each test that needs a backend gets
a fresh one (own registry, own fault state) from the ``backend`` factory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sample_backend.app import BackendSettings, create_app
from sample_backend.telemetry.tracing import ensure_tracing
from sample_backend.upstreams.app import create_app as create_upstreams
from sample_backend.upstreams.settings import UpstreamsSettings
from tests.support.servers import serve
from tests.unit.backend.helpers import Backend

ADMIN = "test-admin-token"
USER = "test-user-token"
TOKENS = {USER: "user", ADMIN: "admin"}


@pytest.fixture(scope="session")
def upstreams() -> Iterator[str]:
    settings = UpstreamsSettings(
        port=0,
        llm_latency_seconds=0,
        llm_token_interval_seconds=0,
        tool_latency_seconds=0,
        a2a_latency_seconds=0,
    )
    with serve(create_upstreams(settings)) as url:
        yield url


def backend_settings(upstreams: str, **overrides: Any) -> BackendSettings:
    values: dict[str, Any] = {
        "port": 0,
        "llm_base_url": f"{upstreams}/v1",
        "tools_base_url": f"{upstreams}/tools",
        "a2a_agents": {
            "research-agent": f"{upstreams}/a2a/research-agent",
            "billing-agent": f"{upstreams}/a2a/billing-agent",
        },
        "admin_token": ADMIN,
        "auth_tokens": TOKENS,
        "db_pool_timeout_seconds": 0.3,
    }
    values.update(overrides)
    return BackendSettings(**values)


@pytest.fixture
def make_backend(upstreams: str) -> Iterator[Callable[..., Backend]]:
    """Factory: ``make_backend(**settings)`` serves a new backend and returns its handle."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> Backend:
            app = create_app(backend_settings(upstreams, **overrides))
            url = stack.enter_context(serve(app))
            handle = Backend(url=url, app=app, user_token=USER, admin_token=ADMIN)
            stack.callback(handle.http.close)
            return handle

        yield make


@pytest.fixture(scope="module")
def shared_backend(upstreams: str) -> Iterator[Backend]:
    """One backend for a whole module, for tests that assert no state of their own."""
    app = create_app(backend_settings(upstreams))
    with serve(app) as url:
        handle = Backend(url=url, app=app, user_token=USER, admin_token=ADMIN)
        yield handle
        handle.http.close()


@pytest.fixture
def backend(make_backend: Callable[..., Backend]) -> Backend:
    return make_backend()


_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Finished spans of the test (the in-process provider create_app installs)."""
    ensure_tracing("backend-tests")
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    if not getattr(provider, "_test_exporter_added", False):
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        provider._test_exporter_added = True  # type: ignore[attr-defined]
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


@pytest.fixture(autouse=True)
def _info_logs(caplog: pytest.LogCaptureFixture) -> None:
    # Audit records are INFO; the root logger's default WARNING would drop them.
    caplog.set_level(logging.INFO)

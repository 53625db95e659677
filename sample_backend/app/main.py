"""The app factory: ``create_app(settings)`` wires components, routers and middleware.

Usage::

    app = create_app(BackendSettings(admin_token="t"))
    uvicorn.run(app)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from sample_backend.app.api import admin, agui, health, metrics
from sample_backend.app.components import VERSION, Components
from sample_backend.app.errors import install_error_handlers
from sample_backend.app.middleware import RedMetricsMiddleware
from sample_backend.app.settings import BackendSettings, load_settings
from sample_backend.faults.api import build_router
from sample_backend.telemetry.tracing import ensure_tracing, instrument_app

__all__ = ["create_app", "service_name"]

NATIVE_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def service_name(settings: BackendSettings) -> str:
    """The name logs and traces carry: OTEL_SERVICE_NAME when set, else the instance name."""
    return os.environ.get("OTEL_SERVICE_NAME") or settings.instance_name


def create_app(settings: BackendSettings | None = None) -> FastAPI:
    """A complete backend instance; each call has its own registry and state."""
    settings = settings or load_settings()
    name = service_name(settings)
    if settings.telemetry_enabled:
        ensure_tracing(name)
    components = Components.build(settings, name)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await components.aclose()

    app = FastAPI(
        title="Realtime Agent Interaction Backend",
        version=VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # FastAPI's built-in telemetry stays off: server spans come from the
        # OpenTelemetry FastAPI instrumentation (instrument_app below), and both at once
        # would double every server span; HTTP metrics come from RedMetricsMiddleware.
        telemetry=NATIVE_TELEMETRY_OFF,
    )
    app.state.components = components
    install_error_handlers(app)
    app.include_router(agui.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(build_router(components.faults, settings.admin_token))
    app.include_router(admin.build_router(components, settings.admin_token))
    if settings.telemetry_enabled:
        app.add_middleware(RedMetricsMiddleware, metrics=components.metrics)
        instrument_app(app)
    return app

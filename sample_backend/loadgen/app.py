"""The load generator's own small HTTP app: ``/health``, ``/metrics`` and ``/status``.

The generator runs inside the app's lifespan, so stopping the server (SIGTERM) stops
the traffic cleanly: scheduling ends, in-flight runs get a grace period, the client
closes.

Usage::

    app = create_app(LoadgenSettings(targets="http://127.0.0.1:8001"))
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

from sample_backend.loadgen.generator import LoadGenerator
from sample_backend.loadgen.metrics import LoadgenMetrics
from sample_backend.loadgen.settings import LoadgenSettings

__all__ = ["create_app"]


def create_app(settings: LoadgenSettings | None = None) -> FastAPI:
    settings = settings or LoadgenSettings()
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    generator = LoadGenerator(settings, LoadgenMetrics(registry))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await generator.start()
        try:
            yield
        finally:
            await generator.stop()

    app = FastAPI(title="Load generator", version="0.1.0", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.generator = generator

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    @app.get("/status")
    async def status() -> dict[str, Any]:
        """Targets, the traffic modes active on each, and run counts by outcome."""
        return generator.status()

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        """Run counts and durations; OpenMetrics when the scraper asks for it."""
        if "application/openmetrics-text" in request.headers.get("accept", ""):
            return Response(openmetrics_latest(registry), media_type=OPENMETRICS)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app

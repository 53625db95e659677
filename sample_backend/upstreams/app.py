"""The simulated upstreams as one FastAPI app: LLM, tool API, A2A peers, health, metrics.

Usage::

    app = create_app(UpstreamsSettings(port=0))
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from starlette.exceptions import HTTPException

from sample_backend.upstreams import a2a, llm, tools
from sample_backend.upstreams.settings import UpstreamsSettings
from sample_backend.upstreams.simulation import SimulationMiddleware, UpstreamMetrics

__all__ = ["ROUTES", "create_app"]

# Route templates, the only values of the metrics' route label (a test checks every
# served route is listed).
ROUTES = (
    "/v1/chat/completions",
    "/v1/models",
    "/tools/weather",
    "/tools/search",
    "/tools/crm/customers/{customer_id}",
    "/a2a/{agent}/.well-known/agent-card.json",
    "/a2a/{agent}",
    "/health",
    "/metrics",
)


def create_app(settings: UpstreamsSettings | None = None) -> FastAPI:
    settings = settings or UpstreamsSettings()
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    metrics = UpstreamMetrics(registry)

    app = FastAPI(title="Simulated upstreams", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.metrics = metrics
    app.add_middleware(SimulationMiddleware, metrics=metrics, routes=ROUTES)
    app.include_router(llm.build_router(settings, metrics))
    app.include_router(tools.build_router(settings))
    app.include_router(a2a.build_router(settings))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Plain 400 with the failing field, like the rest of the bundle (not FastAPI's 422).
        return JSONResponse({"error": "invalid request", "detail": exc.errors()}, status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail), "detail": None}, status_code=exc.status_code)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"])
    async def prometheus_metrics(request: Request) -> Response:
        """This process's metrics; OpenMetrics when the scraper asks for it."""
        if "application/openmetrics-text" in request.headers.get("accept", ""):
            return Response(openmetrics_latest(registry), media_type=OPENMETRICS)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app

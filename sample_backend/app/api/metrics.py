"""``GET /metrics``: the app's registry in the format the scraper asks for.

Prometheus asks for OpenMetrics (``Accept: application/openmetrics-text``), the only
format that carries exemplars; anything else gets the classic text format. Gauges
that depend on fault state or the date (pool, storage, token budget) are brought up
to date first, so a scrape always sees the current values.

Usage::

    app.include_router(router)
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.exposition import choose_encoder

from sample_backend.app.components import Components

__all__ = ["router"]

router = APIRouter(tags=["metrics"])


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Every metric family of this instance."""
    c: Components = request.app.state.components
    c.store.refresh_gauges()
    c.budget.refresh()
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(c.registry), media_type=content_type)

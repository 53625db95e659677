"""HTTP RED metrics as pure ASGI middleware.

``http_server_request_duration_seconds{http_request_method,http_route,
http_response_status_code}`` is observed when the app has finished with the request,
which for an SSE response is when the stream ends (or the client leaves), so
long-running runs count with their real duration. Pure ASGI rather than
``BaseHTTPMiddleware`` because the latter buffers and re-wraps streaming bodies.

``http_route`` is the matched route's template (``/admin/faults/{name}``); requests no
route matches are ``other``, so scanners cannot create series. The observation carries
the current trace as exemplar.

Usage::

    app.add_middleware(RedMetricsMiddleware, metrics=metrics)
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sample_backend.telemetry.metrics import OTHER, BackendMetrics
from sample_backend.telemetry.tracing import exemplar

__all__ = ["METHODS", "RedMetricsMiddleware"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RedMetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: BackendMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) if route is not None else None
            method = scope.get("method", "")
            self.metrics.http_duration.labels(
                method if method in METHODS else OTHER,
                template if isinstance(template, str) else OTHER,
                str(status),
            ).observe(time.perf_counter() - start, exemplar())

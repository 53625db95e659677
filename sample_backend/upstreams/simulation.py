"""The simulation headers every upstream route honours, and the request metrics.

A client (the backend, when a fault is on) steers this process per request:

- ``X-Simulate-Status: <200..599>`` — answer with that status (an error body for 4xx/5xx)
  instead of doing the work;
- ``X-Simulate-Delay: <seconds>`` — wait that long before answering (0..600);
- ``X-Simulate-Usage-Multiplier: <n>`` — the LLM reports ``n`` times the real token
  usage (1..1e6; other routes validate and ignore it).

A malformed header answers 400 naming the header, so a broken fault shows up at once.
The middleware is plain ASGI so streamed responses pass through untouched.

Usage::

    app.add_middleware(SimulationMiddleware, metrics=UpstreamMetrics(registry), routes=["/health"])
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "Simulation",
    "SimulationError",
    "SimulationMiddleware",
    "UpstreamMetrics",
    "parse_simulation",
    "simulation_of",
]

MAX_DELAY = 600.0
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_MULTIPLIER = 1_000_000.0


class SimulationError(ValueError):
    """A simulation header that cannot be honoured; the message names it."""


@dataclass(frozen=True)
class Simulation:
    status: int | None = None
    delay: float = 0.0
    usage_multiplier: float = 1.0


def _number(headers: Headers, name: str, low: float, high: float) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SimulationError(f"{name} must be a number in [{low:g}, {high:g}], got {raw!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise SimulationError(f"{name} must be a number in [{low:g}, {high:g}], got {raw!r}")
    return value


def parse_simulation(headers: Headers) -> Simulation:
    """The request's simulation settings, or SimulationError naming the bad header."""
    status: int | None = None
    raw = headers.get("x-simulate-status")
    if raw is not None:
        if not raw.strip().isdigit() or not 200 <= int(raw) <= 599:
            raise SimulationError(f"X-Simulate-Status must be an HTTP status code 200..599, got {raw!r}")
        status = int(raw)
    delay = _number(headers, "X-Simulate-Delay", 0.0, MAX_DELAY)
    mult = _number(headers, "X-Simulate-Usage-Multiplier", 1.0, MAX_MULTIPLIER)
    return Simulation(status, delay or 0.0, mult or 1.0)


class UpstreamMetrics:
    """This process's own small registry: requests by route and status, latency, tokens."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "upstreams_requests",
            "Requests served by the simulated upstreams, by templated route, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "upstreams_request_duration_seconds",
            "Time to answer (until the last byte of a stream), by templated route.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=registry,
        )
        self.llm_tokens = Counter(
            "upstreams_llm_tokens",
            "Tokens reported in chat completion usage (after any simulated multiplier), by type.",
            ["type"],
            registry=registry,
        )
        self.simulated = Counter(
            "upstreams_simulated_responses",
            "Requests answered with a status forced by X-Simulate-Status.",
            ["route", "status"],
            registry=registry,
        )


def _error_body(path: str, status: int, message: str) -> dict[str, Any]:
    if path.startswith("/v1/"):
        # The shape OpenAI's API uses, so the openai client raises its usual APIStatusError.
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return {"error": message, "detail": None}


class SimulationMiddleware:
    """Applies the simulation headers and records per-route request metrics."""

    def __init__(self, app: ASGIApp, metrics: UpstreamMetrics, routes: Iterable[str]) -> None:
        self.app = app
        self.metrics = metrics
        self._routes = [(template, compile_path(template)[0]) for template in routes]

    def _route(self, scope: Scope) -> str:
        # Matched here, before the app runs, so short-circuited requests get their
        # template too; an unknown path maps to "other" and creates no new series.
        path = scope["path"]
        for template, regex in self._routes:
            if regex.match(path):
                return template
        return "other"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        route = self._route(scope)
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            try:
                sim = parse_simulation(Headers(scope=scope))
            except SimulationError as exc:
                await JSONResponse(_error_body(scope["path"], 400, str(exc)), 400)(
                    scope, receive, send_wrapper
                )
                return
            scope.setdefault("state", {})["simulation"] = sim
            if sim.delay:
                await asyncio.sleep(sim.delay)
            if sim.status is not None and sim.status >= 400:
                self.metrics.simulated.labels(route=route, status=str(sim.status)).inc()
                body = _error_body(
                    scope["path"], sim.status, f"simulated upstream failure (status {sim.status})"
                )
                await JSONResponse(body, sim.status)(scope, receive, send_wrapper)
                return
            await self.app(scope, receive, send_wrapper)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.requests.labels(route=route, method=method, status=str(status)).inc()
            self.metrics.duration.labels(route=route).observe(time.perf_counter() - start)


def simulation_of(scope: Scope) -> Simulation:
    """The parsed simulation of the current request (defaults outside the middleware)."""
    sim = scope.get("state", {}).get("simulation")
    return sim if isinstance(sim, Simulation) else Simulation()

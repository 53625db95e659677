"""The simulated HTTP tool API the backend's MCP tools call: weather, docs search, CRM.

Answers are deterministic per input (derived from a hash), so a test can assert them
and dashboards show plausible, stable data. The CRM demands the configured API key,
which is what makes the backend's credential-loading failure (``ERROR_CREDENTIALS``)
real: without the key the upstream answers 401.

Usage::

    app.include_router(build_router(settings))
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sample_backend.upstreams.llm import jittered
from sample_backend.upstreams.settings import UpstreamsSettings

__all__ = ["build_router"]

_CONDITIONS = ("sunny", "partly cloudy", "overcast", "light rain", "windy", "snow showers")
_DOCS = (
    ("Getting started", "/docs/getting-started", "Install the service and run your first agent."),
    ("Configuring tools", "/docs/tools", "Register MCP tools and set their credentials."),
    ("Agent-to-agent delegation", "/docs/a2a", "Delegate tasks to peer agents over A2A."),
    ("Observability", "/docs/observability", "Metrics, traces and logs the service emits."),
    ("Troubleshooting", "/docs/troubleshooting", "Common errors and how to fix them."),
    ("Rate limits and budgets", "/docs/budgets", "Token budgets and how they are enforced."),
)
_NAMES = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Ken Thompson")
_TIERS = ("free", "pro", "enterprise")
_CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_QUERY = 500


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.lower().encode()).digest()[:8], "big")


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message, "detail": None}, status_code=status)


def build_router(settings: UpstreamsSettings) -> APIRouter:
    router = APIRouter(prefix="/tools", tags=["tools"])

    async def work() -> None:
        await asyncio.sleep(jittered(settings.tool_latency_seconds, settings.latency_jitter))

    @router.get("/weather", response_model=None)
    async def weather(city: str = "") -> dict[str, Any] | JSONResponse:
        """Current conditions for ``city``."""
        city = city.strip()
        if not city or len(city) > 100:
            return _bad("query parameter 'city' is required (1..100 characters)")
        await work()
        s = _seed(city)
        return {
            "city": city,
            "temperature_c": round(-5 + (s % 400) / 10, 1),
            "conditions": _CONDITIONS[s % len(_CONDITIONS)],
            "humidity_percent": 30 + s % 60,
            "wind_kph": s % 45,
        }

    @router.get("/search", response_model=None)
    async def search(q: str = "") -> dict[str, Any] | JSONResponse:
        """Documentation pages matching ``q``."""
        q = q.strip()
        if not q or len(q) > MAX_QUERY:
            return _bad(f"query parameter 'q' is required (1..{MAX_QUERY} characters)")
        await work()
        s = _seed(q)
        picks = [_DOCS[(s + i) % len(_DOCS)] for i in range(3)]
        return {
            "query": q,
            "results": [
                {"title": t, "url": u, "snippet": snip, "score": round(0.95 - 0.1 * i, 2)}
                for i, (t, u, snip) in enumerate(picks)
            ],
        }

    @router.get("/crm/customers/{customer_id}", response_model=None)
    async def customer(customer_id: str, request: Request) -> dict[str, Any] | JSONResponse:
        """A CRM customer record; needs ``Authorization: Bearer <crm api key>``."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            key.strip().encode(), settings.crm_api_key.encode()
        ):
            return JSONResponse(
                {"error": "missing or invalid CRM API key", "detail": None},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not _CUSTOMER_ID.match(customer_id):
            return _bad("customer id must be 1..64 letters, digits, '-' or '_'")
        await work()
        s = _seed(customer_id)
        name = _NAMES[s % len(_NAMES)]
        return {
            "id": customer_id,
            "name": name,
            "email": f"{name.split()[0].lower()}@example.com",
            "tier": _TIERS[s % len(_TIERS)],
            "open_tickets": s % 5,
            "lifetime_value_usd": s % 50_000,
        }

    return router

"""The fault API: ``/admin/faults`` routes over a :class:`FaultRegistry`.

Guarded by the admin bearer token (constant-time comparison). With no token
configured the router has no routes at all, so the API is off and every path under
``/admin/faults`` answers the app's ordinary 404. Bad input — unknown fault, bad
parameters, a body that is not a JSON object — answers 400 with ``error`` saying what
was wrong and ``valid`` listing the catalog; never a 500. :func:`admin_denied` is the
one admin check, shared with the backend's other admin routes
(:mod:`sample_backend.app.api.admin`).

Usage::

    app.include_router(build_router(registry, settings.admin_token))
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sample_backend.faults.registry import FaultError, FaultRegistry

__all__ = ["PREFIX", "admin_denied", "build_router"]

PREFIX = "/admin/faults"


def admin_denied(request: Request, admin_token: str) -> JSONResponse | None:
    """The 401 answer when ``request`` lacks the admin bearer token, else None.

    Shared by every admin route of the backend, so they all refuse alike.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return JSONResponse(
            {"error": "missing bearer token", "detail": "send Authorization: Bearer <admin token>"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    # compare_digest keeps the comparison time independent of where the tokens differ.
    if not hmac.compare_digest(token.strip().encode(), admin_token.encode()):
        return JSONResponse(
            {"error": "invalid admin token", "detail": None},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return None


def _bad_request(exc: FaultError) -> JSONResponse:
    return JSONResponse({"error": str(exc), "valid": exc.catalog}, status_code=400)


def _entry(registry: FaultRegistry, name: str) -> dict[str, Any]:
    return next(f for f in registry.snapshot() if f["name"] == name)


def build_router(registry: FaultRegistry, admin_token: str) -> APIRouter:
    """The ``/admin/faults`` router; empty (API off) when ``admin_token`` is empty."""
    router = APIRouter(prefix=PREFIX, tags=["faults"])
    if not admin_token:
        return router

    # Sync handlers and registry changes run in the threadpool: clearing cpu_burn or
    # memory_pressure joins their threads, which must not stall the event loop serving
    # live streams.
    @router.get("")
    def list_faults(request: Request) -> JSONResponse:
        """Every fault and traffic mode with its state and parameters."""
        denied = admin_denied(request, admin_token)
        if denied:
            return denied
        return JSONResponse({"faults": registry.snapshot()})

    @router.put("/{name}")
    async def set_fault(name: str, request: Request) -> JSONResponse:
        """Switch a fault on with the JSON parameters in the body (empty body: defaults)."""
        denied = admin_denied(request, admin_token)
        if denied:
            return denied
        try:
            params = _parse_params(await request.body())
            await run_in_threadpool(registry.set, name, params)
        except FaultError as exc:
            return _bad_request(exc)
        return JSONResponse(_entry(registry, name))

    @router.delete("/{name}")
    def clear_fault(name: str, request: Request) -> JSONResponse:
        """Switch one fault off."""
        denied = admin_denied(request, admin_token)
        if denied:
            return denied
        try:
            registry.clear(name)
        except FaultError as exc:
            return _bad_request(exc)
        return JSONResponse(_entry(registry, name))

    @router.delete("")
    def clear_all(request: Request) -> JSONResponse:
        """Switch every fault and traffic mode off."""
        denied = admin_denied(request, admin_token)
        if denied:
            return denied
        registry.clear_all()
        return JSONResponse({"faults": registry.snapshot()})

    return router


def _parse_params(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FaultError(f"body is not valid JSON: {exc}") from None

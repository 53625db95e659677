"""``GET /health`` (liveness) and ``GET /readiness`` (can this instance serve runs?).

Readiness checks the conversation store (a ping through the pool) and the model
endpoint (``GET /models``) concurrently, plus the ``readiness_fail`` fault, and
answers 503 ``{"status": "unready", "failing": [...]}`` naming each failing one
(``database``, ``llm``, ``fault``). Each check also sets
``agent_dependency_up{dependency}``, so the dashboards see what the probe saw.

Usage::

    app.include_router(router)
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sample_backend.app.components import Components
from sample_backend.app.store import DatabaseError

__all__ = ["router"]

router = APIRouter(tags=["health"])
# A probe that waits longer than this is as bad as a failed one.
CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    c: Components = request.app.state.components
    return JSONResponse({"status": "ok", "instance": c.settings.instance_name})


async def _database(c: Components) -> str | None:
    try:
        await asyncio.wait_for(c.store.ping(), CHECK_TIMEOUT_SECONDS)
    except (DatabaseError, TimeoutError) as exc:
        return str(exc) or "ping timed out"
    return None


@router.get("/readiness")
async def readiness(request: Request) -> JSONResponse:
    """Readiness: 200 when the database and the LLM answer and no fault says otherwise."""
    c: Components = request.app.state.components
    db_error, llm_error = await asyncio.gather(_database(c), c.llm.check())
    checks: dict[str, str] = {"database": db_error or "ok", "llm": llm_error or "ok"}
    c.metrics.dependency_up.labels(dependency="database").set(0 if db_error else 1)
    c.metrics.dependency_up.labels(dependency="llm").set(0 if llm_error else 1)
    failing = [name for name, error in (("database", db_error), ("llm", llm_error)) if error]
    if c.faults.active("readiness_fail"):
        failing.append("fault")
        checks["fault"] = "readiness_fail fault is active"
    body = {"status": "unready" if failing else "ready", "failing": failing, "checks": checks}
    return JSONResponse(body, status_code=503 if failing else 200)

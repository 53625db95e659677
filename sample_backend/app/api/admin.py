"""The backend's admin routes besides the fault API: ``POST /admin/token-budget/reset``.

Every admin route of the backend is guarded the same way as ``/admin/faults``
(:func:`sample_backend.faults.api.admin_denied`): ``Authorization: Bearer
<BACKEND_ADMIN_TOKEN>``, 401 JSON without it or with a wrong one, and no routes at all
(the app's ordinary 404) when ``BACKEND_ADMIN_TOKEN`` is empty.

``POST /admin/token-budget/reset`` (no body) starts a new budget day at once, as an
operator does after raising a budget or at a billing-period boundary:
``agent_llm_token_budget_used_tokens`` drops to 0 and the audit record
``TOKEN_BUDGET_RESET`` (with ``previous_used_tokens`` and ``limit_tokens``) is written.
It answers 200 ``{"used_tokens": 0, "limit_tokens": N, "previous_used_tokens": M}``.

Usage::

    app.include_router(build_router(components, settings.admin_token))
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sample_backend.app.audit import audit
from sample_backend.app.components import Components
from sample_backend.faults.api import admin_denied

__all__ = ["TOKEN_BUDGET_RESET_PATH", "build_router"]

TOKEN_BUDGET_RESET_PATH = "/admin/token-budget/reset"
EVENT = "TOKEN_BUDGET_RESET"


def build_router(components: Components, admin_token: str) -> APIRouter:
    """The admin router; empty (routes off) when ``admin_token`` is empty."""
    router = APIRouter(tags=["admin"])
    if not admin_token:
        return router

    @router.post(TOKEN_BUDGET_RESET_PATH)
    def reset_token_budget(request: Request) -> JSONResponse:
        """Start a new token budget day: the used-tokens gauge drops to 0."""
        denied = admin_denied(request, admin_token)
        if denied:
            return denied
        budget = components.budget
        previous = budget.reset()
        audit(
            components.metrics,
            EVENT,
            f"token budget reset ({previous} tokens used before)",
            previous_used_tokens=previous,
            limit_tokens=budget.limit,
        )
        return JSONResponse(
            {"used_tokens": budget.used, "limit_tokens": budget.limit, "previous_used_tokens": previous}
        )

    return router

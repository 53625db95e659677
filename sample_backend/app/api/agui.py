"""``POST /ag-ui/events``: the gateway checks, then the run as an SSE stream.

Before a byte is streamed the request passes, in order: bearer authentication (401),
the body checks — content type (415), size (413), JSON (400), the AG-UI
``RunAgentInput`` schema plus a user message with text (422) — the ``http_5xx`` fault
(500), the input guardrail (400 ``guardrail_violation``) and loading the thread's
history from the cache or the conversation store (503 when the store is down). Each
refusal is a JSON ``{"error", "detail"}``; after that, failures end the stream with
``RUN_ERROR``.

Usage::

    app.include_router(router)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ag_ui.core import RunAgentInput
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from sample_backend.app.agent import RunRequest, history_key
from sample_backend.app.auth import AuthError, Principal
from sample_backend.app.components import Components
from sample_backend.app.errors import ApiError, validation_details
from sample_backend.app.store import DatabaseError
from sample_backend.app.stream import EventStreamResponse

__all__ = ["router"]

router = APIRouter(tags=["ag-ui"])
MAX_ID_LENGTH = 256


def _authenticate(c: Components, request: Request) -> Principal:
    client = request.client.host if request.client else ""
    try:
        return c.auth.authenticate(request.headers.get("authorization"), client)
    except AuthError as exc:
        raise ApiError(401, f"{exc.outcome}_token", str(exc), {"WWW-Authenticate": "Bearer"}) from exc


async def _read_body(request: Request, limit: int) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(
            415, "unsupported_media_type", f"send Content-Type: application/json, not {content_type!r}"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")
    size, chunks = 0, []
    # Counted while reading, for chunked bodies that declare no length.
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes) -> tuple[RunAgentInput, str]:
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(
            422, "invalid_body", [{"field": "body", "message": "must be a RunAgentInput JSON object"}]
        )
    try:
        run = RunAgentInput.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid_body", validation_details(exc)) from exc
    for field, value in (("threadId", run.thread_id), ("runId", run.run_id)):
        if not value or len(value) > MAX_ID_LENGTH:
            raise ApiError(
                422, "invalid_body", [{"field": field, "message": f"must be 1..{MAX_ID_LENGTH} characters"}]
            )
    user_text = ""
    for message in run.messages:
        if getattr(message, "role", "") == "user":
            content = getattr(message, "content", "")
            if isinstance(content, str):
                user_text = content
            else:
                user_text = " ".join(getattr(p, "text", "") for p in content if getattr(p, "text", None))
    if not user_text.strip():
        raise ApiError(
            422, "invalid_body", [{"field": "messages", "message": "needs a user message with text"}]
        )
    return run, user_text


async def _history(c: Components, thread_id: str, token: str) -> list[dict[str, Any]]:
    # The caller's session is cached per token; on a miss it is rebuilt and cached.
    session_key = "session:" + hashlib.sha256(token.encode()).hexdigest()[:16]
    if await c.cache.get(session_key) is None:
        await c.cache.set(session_key, {"seen": True})
    cached = await c.cache.get(history_key(thread_id))
    if isinstance(cached, list):
        return cached
    try:
        history = await c.store.load(thread_id)
    except DatabaseError as exc:
        raise ApiError(503, "database_unavailable", str(exc), {"Retry-After": "5"}) from exc
    await c.cache.set(history_key(thread_id), history)
    return history


@router.post("/ag-ui/events", response_model=None)
async def run_agent(request: Request) -> Response:
    """Run the agent on a RunAgentInput; answers an SSE stream of AG-UI events."""
    c: Components = request.app.state.components
    principal = _authenticate(c, request)
    run, user_text = _parse(await _read_body(request, c.settings.max_body_bytes))
    if c.faults.roll("http_5xx") is not None:
        raise ApiError(500, "internal_error", "simulated server error (http_5xx fault)")
    rule = c.guardrail.check(user_text)
    if rule is not None:
        raise ApiError(
            400, "guardrail_violation", {"rule": rule, "message": "the input was refused by policy"}
        )
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    history = await _history(c, run.thread_id, token)
    try:
        # The user's message is stored before the run starts, as a chat service does, so
        # a store outage refuses the request instead of losing the turn afterwards.
        await c.store.append(run.thread_id, [{"role": "user", "content": user_text}])
    except DatabaseError as exc:
        raise ApiError(503, "database_unavailable", str(exc), {"Retry-After": "5"}) from exc
    req = RunRequest(input=run, principal=principal, history=history, user_text=user_text)
    return EventStreamResponse(lambda emit: c.agent.run(req, emit), c.metrics)

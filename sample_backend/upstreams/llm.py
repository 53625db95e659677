"""The simulated OpenAI-compatible LLM: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Answers the way OpenAI's API does — the same JSON for plain completions, the same
``chat.completion.chunk`` SSE frames for ``stream: true`` (a role chunk, content or
tool-call argument deltas, a finish chunk, the usage chunk when
``stream_options.include_usage`` is set, then ``[DONE]``) — so the official client
parses it unchanged. ``usage`` is always reported and scaled by
``X-Simulate-Usage-Multiplier``.

Usage::

    app.include_router(build_router(settings, metrics))
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from sample_backend.upstreams.planner import (
    ToolCall,
    answer_text,
    count_tokens,
    message_text,
    offered_tools,
    plan_tool_calls,
)
from sample_backend.upstreams.settings import UpstreamsSettings
from sample_backend.upstreams.simulation import UpstreamMetrics, simulation_of

__all__ = ["MODELS", "build_router", "jittered"]

MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1")
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_FINGERPRINT = "fp_simulated"
_PIECE = re.compile(r"\S+\s*|\s+")


class InvalidRequest(ValueError):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def jittered(base: float, jitter: float) -> float:
    return max(0.0, base * random.uniform(1 - jitter, 1 + jitter))


def _invalid(exc: InvalidRequest) -> JSONResponse:
    body = {"error": {"message": str(exc), "type": "invalid_request_error", "param": exc.param, "code": None}}
    return JSONResponse(body, status_code=400)


def _validate(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidRequest("'model' is required and must be a non-empty string", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array", "messages")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in _ROLES:
            raise InvalidRequest(f"messages[{i}].role must be one of {', '.join(sorted(_ROLES))}", "messages")
    tools = body.get("tools", [])
    if tools is not None and not isinstance(tools, list):
        raise InvalidRequest("'tools' must be an array", "tools")
    for key in ("stream",):
        if key in body and body[key] is not None and not isinstance(body[key], bool):
            raise InvalidRequest(f"'{key}' must be a boolean", key)
    if body.get("n") not in (None, 1):
        raise InvalidRequest("only n=1 is supported", "n")
    return body


def _usage(prompt: int, completion: int, multiplier: float) -> dict[str, Any]:
    p, c = round(prompt * multiplier), round(completion * multiplier)
    return {
        "prompt_tokens": p,
        "completion_tokens": c,
        "total_tokens": p + c,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _prompt_tokens(body: dict[str, Any]) -> int:
    # A few tokens of framing per message, as OpenAI's own accounting has.
    tokens = sum(4 + count_tokens(message_text(m.get("content"))) for m in body["messages"]) + 3
    if body.get("tools"):
        tokens += count_tokens(json.dumps(body["tools"]))
    return tokens


def _wire_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
        }
        for c in calls
    ]


def build_router(settings: UpstreamsSettings, metrics: UpstreamMetrics) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["llm"])

    @router.get("/models")
    async def list_models() -> dict[str, Any]:
        """The models this simulation answers as (any model name is accepted)."""
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "system"} for m in MODELS
            ],
        }

    @router.post("/chat/completions")
    async def chat_completions(request: Request) -> Response:
        """OpenAI chat completions, plain or streamed, with function calling."""
        try:
            body = _validate(json.loads(await request.body()))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _invalid(InvalidRequest(f"request body is not valid JSON: {exc}"))
        except InvalidRequest as exc:
            return _invalid(exc)

        sim = simulation_of(request.scope)
        messages: list[dict[str, Any]] = body["messages"]
        calls: list[ToolCall] = []
        if body.get("tools") and body.get("tool_choice") != "none" and messages[-1].get("role") == "user":
            calls = plan_tool_calls(message_text(messages[-1].get("content")), offered_tools(body["tools"]))
        wire = _wire_calls(calls)
        text = None if calls else answer_text(messages)
        completion_tokens = (
            count_tokens(text)
            if text is not None
            else sum(10 + count_tokens(c["function"]["arguments"]) for c in wire)
        )
        usage = _usage(_prompt_tokens(body), completion_tokens, sim.usage_multiplier)
        metrics.llm_tokens.labels(type="input").inc(usage["prompt_tokens"])
        metrics.llm_tokens.labels(type="output").inc(usage["completion_tokens"])

        # Time to first token: the model "thinks" before the first byte either way.
        await asyncio.sleep(jittered(settings.llm_latency_seconds, settings.latency_jitter))
        head = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:29]}",
            "created": int(time.time()),
            "model": body["model"],
            "service_tier": "default",
            "system_fingerprint": _FINGERPRINT,
        }
        finish = "tool_calls" if calls else "stop"
        if not body.get("stream"):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": text,
                "refusal": None,
                "annotations": [],
            }
            if wire:
                message["tool_calls"] = wire
            return JSONResponse(
                {
                    **head,
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                    "usage": usage,
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        frames = _stream(head, text, wire, finish, usage if include_usage else None)
        return StreamingResponse(
            _paced(frames, settings.llm_token_interval_seconds),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    return router


def _stream(
    head: dict[str, Any],
    text: str | None,
    calls: list[dict[str, Any]],
    finish: str,
    usage: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """Every chunk of a streamed completion, in OpenAI's order."""
    extra = {"usage": None} if usage is not None else {}

    def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        return {**head, "object": "chat.completion.chunk", "choices": [choice], **extra}

    chunks: list[dict[str, Any]] = []
    if text is not None:
        chunks.append(chunk({"role": "assistant", "content": "", "refusal": None}))
        chunks += [chunk({"content": piece}) for piece in _PIECE.findall(text)]
    for i, call in enumerate(calls):
        header = {
            "index": i,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        first = (
            {"role": "assistant", "content": None, "tool_calls": [header]}
            if i == 0
            else {"tool_calls": [header]}
        )
        chunks.append(chunk(first))
        args = call["function"]["arguments"]
        # Arguments arrive in small fragments, as they do from the real API.
        chunks += [
            chunk({"tool_calls": [{"index": i, "function": {"arguments": args[j : j + 8]}}]})
            for j in range(0, len(args), 8)
        ]
    chunks.append(chunk({}, finish))
    if usage is not None:
        chunks.append({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
    return chunks


async def _paced(chunks: list[dict[str, Any]], interval: float) -> AsyncIterator[bytes]:
    for i, c in enumerate(chunks):
        if i and interval:
            await asyncio.sleep(interval)
        yield f"data: {json.dumps(c, separators=(',', ':'))}\n\n".encode()
    yield b"data: [DONE]\n\n"

"""The simulated A2A peer agents (``research-agent``, ``billing-agent``).

Each speaks A2A over JSON-RPC 2.0 at ``POST /a2a/{agent}``: ``message/send`` with a
user Message answers a ``Message`` result from the agent. Each publishes its agent
card at ``/a2a/{agent}/.well-known/agent-card.json`` (A2A 0.3 field names). Bad
JSON-RPC — unparseable body, not a request object, unknown method, bad params —
answers a JSON-RPC error object with HTTP 400; an unknown agent answers 404.

Usage::

    app.include_router(build_router(settings))
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sample_backend.upstreams.llm import jittered
from sample_backend.upstreams.settings import UpstreamsSettings

__all__ = ["AGENTS", "PROTOCOL_VERSION", "build_router"]

PROTOCOL_VERSION = "0.3.0"
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
MAX_TEXT = 20_000


@dataclass(frozen=True)
class Agent:
    name: str
    description: str
    skill: str
    skill_description: str
    tags: tuple[str, ...]
    examples: tuple[str, ...]
    reply: str


AGENTS = {
    a.name: a
    for a in (
        Agent(
            "research-agent",
            "Researches a topic across internal notes and public sources and returns a short summary.",
            "research",
            "Summarise what is known about a topic, with the main sources.",
            ("research", "summary"),
            ("Research recent work on vector databases",),
            "Research summary: three sources agree on the main points; the strongest evidence comes "
            "from the most recent study, and one older source disagrees on scope.",
        ),
        Agent(
            "billing-agent",
            "Answers billing questions: invoices, charges, refunds and plan changes.",
            "billing",
            "Explain an invoice or charge and what can be done about it.",
            ("billing", "invoices", "refunds"),
            ("Why was invoice INV-1042 higher than last month?",),
            "Billing review: the invoice matches the plan's usage tier; the difference comes from "
            "additional usage in the last week of the period. No duplicate charges found.",
        ),
    )
}


def _error(rpc_id: Any, code: int, message: str, status: int = 400) -> JSONResponse:
    body = {"jsonrpc": "2.0", "id": rpc_id, "error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status)


def _unknown_agent(agent: str) -> JSONResponse:
    return JSONResponse(
        {"error": f"unknown agent {agent!r}", "detail": {"valid": list(AGENTS)}}, status_code=404
    )


def _user_text(params: Any) -> str:
    """The text of ``params.message``; ValueError naming what is wrong."""
    if not isinstance(params, dict) or not isinstance(params.get("message"), dict):
        raise ValueError("params.message must be an object")
    message = params["message"]
    if message.get("role") != "user":
        raise ValueError("params.message.role must be 'user'")
    if "messageId" in message and not isinstance(message["messageId"], str):
        raise ValueError("params.message.messageId must be a string")
    parts = message.get("parts")
    if not isinstance(parts, list) or not parts:
        raise ValueError("params.message.parts must be a non-empty array")
    texts = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise ValueError(f"params.message.parts[{i}] must be an object")
        # "kind" is the A2A 0.3 discriminator; 0.2 peers sent "type".
        kind = part.get("kind", part.get("type"))
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise ValueError(f"params.message.parts[{i}].text must be a string")
            texts.append(part["text"])
        elif kind not in ("data", "file"):
            raise ValueError(f"params.message.parts[{i}].kind must be text, data or file")
    text = " ".join(texts)
    if len(text) > MAX_TEXT:
        raise ValueError(f"message text longer than {MAX_TEXT} characters")
    return text


def build_router(settings: UpstreamsSettings) -> APIRouter:
    router = APIRouter(prefix="/a2a", tags=["a2a"])

    @router.get("/{agent}/.well-known/agent-card.json", response_model=None)
    async def agent_card(agent: str, request: Request) -> dict[str, Any] | JSONResponse:
        """The agent's A2A agent card."""
        spec = AGENTS.get(agent)
        if spec is None:
            return _unknown_agent(agent)
        # The URL a client reached us on, so the card is right natively and in compose.
        url = str(request.url_for("a2a_rpc", agent=agent))
        return {
            "protocolVersion": PROTOCOL_VERSION,
            "name": spec.name,
            "description": spec.description,
            "url": url,
            "preferredTransport": "JSONRPC",
            "additionalInterfaces": [{"url": url, "transport": "JSONRPC"}],
            "provider": {"organization": "Alert Proving Ground", "url": str(request.base_url).rstrip("/")},
            "version": "1.0.0",
            "capabilities": {"streaming": False, "pushNotifications": False, "stateTransitionHistory": False},
            "defaultInputModes": ["text/plain"],
            "defaultOutputModes": ["text/plain"],
            "skills": [
                {
                    "id": spec.skill,
                    "name": spec.skill.capitalize(),
                    "description": spec.skill_description,
                    "tags": list(spec.tags),
                    "examples": list(spec.examples),
                    "inputModes": ["text/plain"],
                    "outputModes": ["text/plain"],
                }
            ],
        }

    @router.post("/{agent}", name="a2a_rpc", response_model=None)
    async def rpc(agent: str, request: Request) -> dict[str, Any] | JSONResponse:
        """JSON-RPC 2.0 endpoint; supports ``message/send``."""
        spec = AGENTS.get(agent)
        if spec is None:
            return _unknown_agent(agent)
        try:
            body = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(None, PARSE_ERROR, f"Parse error: {exc}")
        if (
            not isinstance(body, dict)
            or body.get("jsonrpc") != "2.0"
            or not isinstance(body.get("method"), str)
        ):
            return _error(
                None, INVALID_REQUEST, "Invalid Request: need an object with jsonrpc '2.0' and a method"
            )
        rpc_id = body.get("id")
        if rpc_id is not None and not isinstance(rpc_id, str | int):
            return _error(None, INVALID_REQUEST, "Invalid Request: id must be a string, number or null")
        if body["method"] != "message/send":
            return _error(
                rpc_id, METHOD_NOT_FOUND, f"Method not found: {body['method']!r}; supported: message/send"
            )
        try:
            text = _user_text(body.get("params"))
        except ValueError as exc:
            return _error(rpc_id, INVALID_PARAMS, f"Invalid params: {exc}")
        await asyncio.sleep(jittered(settings.a2a_latency_seconds, settings.latency_jitter))
        context = body["params"]["message"].get("contextId")
        topic = text.strip().splitlines()[0][:80] if text.strip() else "your request"
        return {
            "jsonrpc": "2.0",
            "id": rpc_id,
            "result": {
                "kind": "message",
                "messageId": str(uuid.uuid4()),
                "role": "agent",
                "contextId": context if isinstance(context, str) else str(uuid.uuid4()),
                "parts": [{"kind": "text", "text": f"{spec.reply} (Re: {topic})"}],
                "metadata": {"agent": spec.name},
            },
        }

    return router

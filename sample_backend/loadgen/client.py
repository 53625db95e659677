"""One AG-UI run as a real client makes it: POST a RunAgentInput, read the SSE stream to the end.

The outcome is one of :data:`OUTCOMES` (a bounded label set): ``finished`` (the stream
ended with ``RUN_FINISHED``), ``run_error`` (ended with ``RUN_ERROR``), ``incomplete``
(closed without either), ``http_401`` / ``http_403`` / ``http_400`` / ``http_4xx`` /
``http_5xx`` (refused before streaming), ``network_error`` or ``timeout``.

``answer`` is the assistant's text as the stream delivered it, so a multi-turn
conversation can carry it into the next turn's transcript.

Usage::

    result = await run_agent(client, "http://127.0.0.1:8001", "Hi", token="dev-user-token")
    result.outcome, result.events, result.answer
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from sample_backend.loadgen.conversations import build_input

__all__ = ["OUTCOMES", "RunResult", "build_input", "run_agent"]

OUTCOMES = (
    "finished",
    "run_error",
    "incomplete",
    "http_400",
    "http_401",
    "http_403",
    "http_4xx",
    "http_5xx",
    "network_error",
    "timeout",
)
EVENTS_PATH = "/ag-ui/events"


@dataclass
class RunResult:
    outcome: str
    status: int | None = None
    events: list[str] = field(default_factory=list)
    answer: str = ""


def _status_outcome(status: int) -> str:
    if status in (400, 401, 403):
        return f"http_{status}"
    return "http_5xx" if status >= 500 else "http_4xx"


async def run_agent(
    client: httpx.AsyncClient,
    target: str,
    text: str,
    *,
    token: str | None,
    max_seconds: float = 60.0,
    authorization: str | None = None,
    body: dict[str, Any] | None = None,
) -> RunResult:
    """Run one agent turn against ``target``; never raises for a failed run.

    ``authorization`` overrides the header outright (attack traffic sends malformed ones);
    otherwise ``token`` is sent as a bearer token, or no header at all when it is None.
    ``body`` is the RunAgentInput to send (a conversation's next turn); by default a
    new thread with ``text`` as its only message.
    """
    headers = {"Accept": "text/event-stream"}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    result = RunResult("incomplete")
    parts: list[str] = []
    try:
        async with asyncio.timeout(max_seconds):
            async with client.stream(
                "POST",
                f"{target}{EVENTS_PATH}",
                json=body if body is not None else build_input(text),
                headers=headers,
            ) as response:
                result.status = response.status_code
                if response.status_code >= 300:
                    await response.aread()
                    result.outcome = _status_outcome(response.status_code)
                    return result
                # Read the whole stream, as a UI does, even after the terminal event.
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    try:
                        event = json.loads(line[5:].strip())
                    except ValueError:
                        continue
                    kind = event.get("type") if isinstance(event, dict) else None
                    if isinstance(kind, str):
                        result.events.append(kind)
                    if kind == "TEXT_MESSAGE_CONTENT" and isinstance(event.get("delta"), str):
                        parts.append(event["delta"])
                result.answer = "".join(parts)
                if "RUN_ERROR" in result.events:
                    result.outcome = "run_error"
                elif result.events and result.events[-1] == "RUN_FINISHED":
                    result.outcome = "finished"
    except TimeoutError:
        result.outcome = "timeout"
    except httpx.HTTPError:
        result.outcome = "network_error"
    return result

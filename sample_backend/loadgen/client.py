"""One AG-UI run as a real client makes it: POST a RunAgentInput, read the SSE stream to the end.

The outcome is one of :data:`OUTCOMES` (a bounded label set): ``finished`` (the stream
ended with ``RUN_FINISHED``), ``run_error`` (ended with ``RUN_ERROR``), ``incomplete``
(closed without either), ``http_401`` / ``http_403`` / ``http_400`` / ``http_4xx`` /
``http_5xx`` (refused before streaming), ``network_error`` or ``timeout``.

Usage::

    result = await run_agent(client, "http://127.0.0.1:8001", "Hi", token="dev-user-token")
    result.outcome, result.events
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from ag_ui.core import RunAgentInput, UserMessage

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


def build_input(text: str) -> dict[str, Any]:
    """A valid AG-UI RunAgentInput (camelCase JSON) with one user message, new thread."""
    run = RunAgentInput(
        thread_id=str(uuid.uuid4()),
        run_id=str(uuid.uuid4()),
        state={},
        messages=[UserMessage(id=str(uuid.uuid4()), role="user", content=text)],
        tools=[],
        context=[],
        forwarded_props={},
    )
    body: dict[str, Any] = run.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


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
) -> RunResult:
    """Run one agent turn against ``target``; never raises for a failed run.

    ``authorization`` overrides the header outright (attack traffic sends malformed ones);
    otherwise ``token`` is sent as a bearer token, or no header at all when it is None.
    """
    headers = {"Accept": "text/event-stream"}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    result = RunResult("incomplete")
    try:
        async with asyncio.timeout(max_seconds):
            async with client.stream(
                "POST", f"{target}{EVENTS_PATH}", json=build_input(text), headers=headers
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
                if "RUN_ERROR" in result.events:
                    result.outcome = "run_error"
                elif result.events and result.events[-1] == "RUN_FINISHED":
                    result.outcome = "finished"
    except TimeoutError:
        result.outcome = "timeout"
    except httpx.HTTPError:
        result.outcome = "network_error"
    return result

"""A stand-in for the backend, as the load generator sees it: the real fault API over a
real FaultRegistry, and an ``/ag-ui/events`` endpoint that checks auth, validates the
RunAgentInput, refuses guardrail phrases and streams a short AG-UI run."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ag_ui.core import (
    EventType,
    RunAgentInput,
    RunFinishedEvent,
    RunStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
)
from ag_ui.encoder import EventEncoder
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from sample_backend.faults import FaultRegistry, build_router

ADMIN_TOKEN = "standin-admin"
USER_TOKEN = "standin-user"
_GUARDRAIL = re.compile(r"instructions|system prompt|api keys|jailbroken", re.I)


@dataclass
class Seen:
    """One request to /ag-ui/events as the stand-in saw it."""

    authorization: str | None
    text: str
    status: int
    thread_id: str = ""
    # Messages the RunAgentInput carried (the transcript so far plus the new one).
    messages: int = 0


@dataclass
class StandIn:
    registry: FaultRegistry = field(default_factory=FaultRegistry)
    seen: list[Seen] = field(default_factory=list)
    streams_completed: int = 0
    # Seconds each stream takes beyond its events, to play a slow backend.
    delay: float = 0.0
    streams_open: int = 0
    max_streams_open: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self, status: int | None = None) -> list[str]:
        with self.lock:
            return [s.text for s in self.seen if status is None or s.status == status]

    def app(self) -> FastAPI:
        app = FastAPI()
        app.include_router(build_router(self.registry, ADMIN_TOKEN))

        @app.post("/ag-ui/events")
        async def events(request: Request) -> Response:
            auth = request.headers.get("authorization")
            try:
                run = RunAgentInput.model_validate_json(await request.body())
            except ValidationError as exc:
                self._see(auth, "", 422)
                return JSONResponse({"error": "invalid RunAgentInput", "detail": str(exc)}, 422)
            content = run.messages[-1].content
            text = content if isinstance(content, str) else ""
            if auth not in (f"Bearer {USER_TOKEN}", f"Bearer {ADMIN_TOKEN}"):
                self._see(auth, text, 401)
                return JSONResponse({"error": "unauthorized", "detail": None}, 401)
            if _GUARDRAIL.search(text):
                self._see(auth, text, 400)
                return JSONResponse({"error": "guardrail_violation", "detail": None}, 400)
            self._see(auth, text, 200, run.thread_id, len(run.messages))
            return StreamingResponse(self._stream(run), media_type="text/event-stream")

        return app

    def _see(self, auth: str | None, text: str, status: int, thread_id: str = "", messages: int = 0) -> None:
        with self.lock:
            self.seen.append(Seen(auth, text, status, thread_id, messages))

    async def _stream(self, run: RunAgentInput) -> AsyncIterator[str]:
        enc = EventEncoder()
        events = [
            RunStartedEvent(type=EventType.RUN_STARTED, thread_id=run.thread_id, run_id=run.run_id),
            TextMessageStartEvent(type=EventType.TEXT_MESSAGE_START, message_id="m1", role="assistant"),
            TextMessageContentEvent(type=EventType.TEXT_MESSAGE_CONTENT, message_id="m1", delta="Hello"),
            TextMessageContentEvent(type=EventType.TEXT_MESSAGE_CONTENT, message_id="m1", delta=" there"),
            TextMessageEndEvent(type=EventType.TEXT_MESSAGE_END, message_id="m1"),
            RunFinishedEvent(type=EventType.RUN_FINISHED, thread_id=run.thread_id, run_id=run.run_id),
        ]
        with self.lock:
            self.streams_open += 1
            self.max_streams_open = max(self.max_streams_open, self.streams_open)
        try:
            await asyncio.sleep(self.delay)
            for event in events:
                # Spread over time, so a client that stops early would miss the end.
                await asyncio.sleep(0.01)
                yield enc.encode(event)
        finally:
            with self.lock:
                self.streams_open -= 1
        with self.lock:
            self.streams_completed += 1

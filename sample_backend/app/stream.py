"""The SSE response of a run: events from a run task, framed by the AG-UI encoder.

The run executes in its own task and hands events over a queue, so its span stays
current for the whole run however the response is iterated. The response counts
itself in ``agent_sse_streams_active`` for exactly as long as it is being sent and,
when the client disconnects mid-run, cancels the run task, so neither the gauge nor
the run leaks.

Usage::

    return EventStreamResponse(lambda emit: agent.run(request, emit), metrics)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from ag_ui.core import BaseEvent
from ag_ui.encoder import EventEncoder
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from sample_backend.telemetry.metrics import BackendMetrics

__all__ = ["EventStreamResponse", "RunFn"]

Emit = Callable[[BaseEvent], Awaitable[None]]
RunFn = Callable[[Emit], Awaitable[None]]
_DONE = object()


async def _events(run: RunFn) -> AsyncIterator[str]:
    encoder = EventEncoder()
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def emit(event: BaseEvent) -> None:
        queue.put_nowait(event)

    async def runner() -> None:
        try:
            await run(emit)
        finally:
            queue.put_nowait(_DONE)

    task = asyncio.create_task(runner())
    try:
        done = False
        while not done:
            # Events that piled up while the last write was going out leave in one
            # write: same SSE framing, far fewer sends (and per-send middleware work).
            items = [await queue.get()]
            while not queue.empty():
                items.append(queue.get_nowait())
            frames = []
            for item in items:
                if item is _DONE:
                    done = True
                    break
                assert isinstance(item, BaseEvent)
                frames.append(encoder.encode(item))
            if frames:
                yield "".join(frames)
        await task
    finally:
        # Client gone (or the response was cancelled): stop the run rather than let it
        # keep calling the model for nobody.
        if not task.done():
            task.cancel()


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` of AG-UI events, tracked in the active-streams gauge."""

    def __init__(self, run: RunFn, metrics: BackendMetrics) -> None:
        super().__init__(
            _events(run),
            media_type=EventEncoder().get_content_type(),
            # Proxies must pass events through as they come instead of buffering them.
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._metrics.sse_streams_active.inc()
        try:
            await super().__call__(scope, receive, send)
        except ClientDisconnect:
            pass  # the client left; the run was cancelled in _events
        finally:
            self._metrics.sse_streams_active.dec()
            iterator = self.body_iterator
            if hasattr(iterator, "aclose"):
                # Closes a generator the response stopped iterating early.
                await iterator.aclose()

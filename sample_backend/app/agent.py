"""One agent run: from the validated input to the AG-UI events of the stream.

The run plans with the model (function calling over the tool registry and
``delegate_to_agent``), executes the calls it asked for (tools or A2A peers), streams
the final answer, stores the turn in the conversation store and the cache, and ends
with ``RUN_FINISHED`` — or with ``RUN_ERROR`` (``message`` and ``code``) when a step
fails. Events go out through ``emit`` as they happen. The whole run is one
``invoke_agent realtime-agent`` span; runs are counted by outcome in
``agent_runs_total`` (finished, error, cancelled when the client went away).

Usage::

    await agent.run(RunRequest(input, principal, history, "hello"), emit)
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ag_ui.core import (
    BaseEvent,
    RunAgentInput,
    RunErrorEvent,
    RunFinishedEvent,
    RunStartedEvent,
    StateDeltaEvent,
    StateSnapshotEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from sample_backend.app.a2a import A2AClient
from sample_backend.app.auth import Principal
from sample_backend.app.cache import Cache
from sample_backend.app.llm import LlmClient, LlmError
from sample_backend.app.store import ConversationStore, DatabaseError
from sample_backend.app.tools import TOOL_SCHEMAS, ToolRegistry
from sample_backend.faults.registry import FaultRegistry
from sample_backend.telemetry.metrics import BackendMetrics

__all__ = ["AGENT_NAME", "Agent", "RunRequest", "history_key"]

AGENT_NAME = "realtime-agent"
DELEGATE = "delegate_to_agent"
SYSTEM_PROMPT = (
    "You are the realtime assistant of an operations team. Use the tools when they help, "
    f"delegate research or billing questions with {DELEGATE}, and answer concisely."
)
# Models sometimes ask for many calls at once; more than this in one turn is a loop.
MAX_TOOL_CALLS = 8

Emit = Callable[[BaseEvent], Awaitable[None]]
_log = logging.getLogger(__name__)


def history_key(thread_id: str) -> str:
    return f"thread:{thread_id}"


@dataclass
class RunRequest:
    """A run that passed the gateway: input, caller, stored history and the user's text."""

    input: RunAgentInput
    principal: Principal
    history: list[dict[str, Any]]
    user_text: str


def _delegate_schema(agents: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": DELEGATE,
            "description": "Hand a sub-task to a peer agent and return its answer.",
            "parameters": {
                "type": "object",
                "properties": {"agent": {"type": "string", "enum": agents}, "task": {"type": "string"}},
                "required": ["agent", "task"],
            },
        },
    }


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(getattr(part, "text", "") for part in content if getattr(part, "text", None))
    return ""


def openai_messages(run: RunRequest) -> list[dict[str, Any]]:
    """System prompt, stored history, then the input's new text messages, in OpenAI form.

    An AG-UI client sends the whole transcript with every turn, and the store already
    holds the turns it took part in; input messages the stored history already has
    (same role and text, each stored message matched once) are left out so the model
    does not see a turn twice. The input's last message is always new: it is the turn
    being asked. Tool and activity messages from the client are left out: the model
    only sees tool calls paired with their results, which the client's transcript may
    not have.
    """
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}, *run.history]
    incoming: list[dict[str, Any]] = []
    for message in run.input.messages:
        role = getattr(message, "role", "")
        if role in ("user", "assistant", "system", "developer"):
            text = _text(getattr(message, "content", None))
            if text:
                incoming.append({"role": "system" if role == "developer" else role, "content": text})
    stored = Counter((m.get("role"), m.get("content")) for m in run.history)
    for item in incoming[:-1]:
        key = (item["role"], item["content"])
        if stored[key] > 0:
            stored[key] -= 1
            continue
        messages.append(item)
    messages.extend(incoming[-1:])
    return messages


class Agent:
    """Runs agent turns against the model, the tools, the peers and the stores."""

    def __init__(
        self,
        *,
        llm: LlmClient,
        tools: ToolRegistry,
        a2a: A2AClient,
        store: ConversationStore,
        cache: Cache,
        faults: FaultRegistry,
        metrics: BackendMetrics,
    ) -> None:
        self._llm = llm
        self._tools = tools
        self._a2a = a2a
        self._store = store
        self._cache = cache
        self._faults = faults
        self._metrics = metrics
        self._schemas = [*TOOL_SCHEMAS, _delegate_schema(sorted(a2a.agents))]
        self._tracer = trace.get_tracer(__name__)
        for outcome in ("finished", "error", "cancelled"):
            metrics.runs.labels(outcome=outcome)

    async def run(self, run: RunRequest, emit: Emit) -> None:
        """Emit the events of one run; ends with RUN_FINISHED or RUN_ERROR unless cancelled."""
        ids = run.input
        # Attributes known up front go in at creation: one pass instead of one locked
        # set_attribute per key, and samplers get to see them.
        attributes = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": AGENT_NAME,
            "gen_ai.conversation.id": ids.thread_id,
            "gen_ai.request.model": self._llm.model,
            "ag_ui.run_id": ids.run_id,
        }
        with self._tracer.start_as_current_span(f"invoke_agent {AGENT_NAME}", attributes=attributes) as span:
            await emit(RunStartedEvent(thread_id=ids.thread_id, run_id=ids.run_id))
            try:
                await self._steps(run, emit)
            except asyncio.CancelledError:
                self._metrics.runs.labels(outcome="cancelled").inc()
                span.set_attribute("error.type", "cancelled")
                raise
            except (LlmError, DatabaseError, Exception) as exc:
                code, message = _error_code(exc)
                if code == "INTERNAL_ERROR":
                    _log.exception("agent run failed")
                else:
                    _log.warning("agent run failed: %s", message, extra={"code": code})
                span.set_attribute("error.type", code)
                span.set_status(Status(StatusCode.ERROR, message))
                self._metrics.runs.labels(outcome="error").inc()
                await emit(RunErrorEvent(message=message, code=code))
                return
            self._metrics.runs.labels(outcome="finished").inc()
            await emit(RunFinishedEvent(thread_id=ids.thread_id, run_id=ids.run_id))

    async def _steps(self, run: RunRequest, emit: Emit) -> None:
        await emit(StateSnapshotEvent(snapshot={"status": "planning", "toolCalls": []}))
        messages = openai_messages(run)
        plan = await self._llm.plan(messages, self._schemas)
        calls = [c for c in (plan.tool_calls or []) if getattr(c, "function", None) is not None]
        if calls:
            plan_id = str(uuid.uuid4())
            messages.append(
                {
                    "role": "assistant",
                    "content": plan.content,
                    "tool_calls": [c.model_dump(exclude_none=True) for c in calls[:MAX_TOOL_CALLS]],
                }
            )
            for call in calls[:MAX_TOOL_CALLS]:
                function = call.function  # type: ignore[union-attr]
                result = await self._call(call.id, function.name, function.arguments, plan_id, run, emit)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        await emit(StateDeltaEvent(delta=[{"op": "replace", "path": "/status", "value": "answering"}]))
        answer = await self._answer(messages, emit)
        await self._remember(run, answer)
        slow = self._faults.params("slow_responses")
        if slow is not None:
            # The run is slow to finish, after its calls: the stream (and the request's duration)
            # lasts this much longer while the LLM, tool and delegation calls keep their usual pace,
            # so their own signals are not shifted by it.
            await asyncio.sleep(float(slow["seconds"]))
        await emit(StateDeltaEvent(delta=[{"op": "replace", "path": "/status", "value": "done"}]))

    async def _call(
        self, call_id: str, name: str, arguments: str, parent: str, run: RunRequest, emit: Emit
    ) -> str:
        """Announce, execute and report one tool call; returns the result text for the model."""
        await emit(ToolCallStartEvent(tool_call_id=call_id, tool_call_name=name, parent_message_id=parent))
        await emit(ToolCallArgsEvent(tool_call_id=call_id, delta=arguments or "{}"))
        await emit(ToolCallEndEvent(tool_call_id=call_id))
        if name == DELEGATE:
            args = _json_object(arguments)
            outcome = await self._a2a.delegate(
                str(args.get("agent", "")), str(args.get("task", run.user_text))
            )
            status, content = outcome.status, outcome.content
        else:
            result = await self._tools.invoke(name, arguments, role=run.principal.role, call_id=call_id)
            status, content = result.status, result.content
        text = json.dumps(content)
        await emit(
            ToolCallResultEvent(message_id=str(uuid.uuid4()), tool_call_id=call_id, content=text, role="tool")
        )
        await emit(
            StateDeltaEvent(
                delta=[{"op": "add", "path": "/toolCalls/-", "value": {"name": name[:64], "status": status}}]
            )
        )
        return text

    async def _answer(self, messages: list[dict[str, Any]], emit: Emit) -> str:
        """Stream the final answer as one text message; returns its full text."""
        message_id = str(uuid.uuid4())
        started = False

        async def on_delta(delta: str) -> None:
            nonlocal started
            if not started:
                started = True
                await emit(TextMessageStartEvent(message_id=message_id, role="assistant"))
            await emit(TextMessageContentEvent(message_id=message_id, delta=delta))

        text = await self._llm.stream_answer(messages, on_delta)
        if not started:
            raise LlmError("LLM_EMPTY_ANSWER", "other", "the model answered with no text")
        await emit(TextMessageEndEvent(message_id=message_id))
        return text

    async def _remember(self, run: RunRequest, answer: str) -> None:
        turn = [{"role": "user", "content": run.user_text}, {"role": "assistant", "content": answer}]
        # The user's message was stored before the stream started; the answer joins it.
        await self._store.append(run.input.thread_id, turn[1:])
        # Write-through, so the thread's next turn finds its history in the cache.
        await self._cache.set(history_key(run.input.thread_id), [*run.history, *turn][-20:])


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _error_code(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, LlmError):
        return exc.code, str(exc)
    if isinstance(exc, DatabaseError):
        return "DATABASE_ERROR", str(exc)
    return "INTERNAL_ERROR", "the agent failed unexpectedly"

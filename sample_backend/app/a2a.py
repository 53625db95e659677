"""A2A delegation: hand a sub-task to a peer agent over HTTP JSON-RPC 2.0.

The peer's agent card is fetched once from ``{base}/.well-known/agent-card.json`` and
cached (its ``url`` is where ``message/send`` goes, the base URL when it names none).
Each delegation ends ``OK``, ``ERROR_NETWORK`` (the peer could not be reached) or
``ERROR_HTTP`` (it answered an HTTP error or a JSON-RPC error), counted in
``agent_a2a_delegations_total{agent,status}``, timed in
``agent_a2a_delegation_duration_seconds{agent}``, audited as ``A2A_DELEGATION`` and
traced as an ``invoke_agent {agent}`` client span.

Faults: ``a2a_errors`` (mode http: the peer answers 500 via ``X-Simulate-Status``;
mode network: the call goes to a port where nothing listens) and ``a2a_latency``
(``X-Simulate-Delay``).

Usage::

    a2a = A2AClient({"research-agent": "http://127.0.0.1:8100/a2a/research-agent"}, http, faults,
                    metrics, unreachable_url)
    outcome = await a2a.delegate("research-agent", "summarise the outage")
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from sample_backend.app.audit import audit
from sample_backend.faults.registry import FaultRegistry
from sample_backend.telemetry.metrics import A2A_STATUSES, OTHER, BackendMetrics, bounded
from sample_backend.telemetry.tracing import exemplar

__all__ = ["A2AClient", "Delegation"]

EVENT = "A2A_DELEGATION"
CARD_PATH = "/.well-known/agent-card.json"


@dataclass
class Delegation:
    """The outcome of one delegation: status and the peer's answer (or the error)."""

    agent: str
    status: str
    content: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == "OK"


class _Failure(Exception):
    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _answer_text(result: Any) -> str:
    """The text parts of a Message result, or of a Task's status message / artifacts."""
    if not isinstance(result, dict):
        return ""
    texts: list[str] = []
    containers: list[Any] = [result, (result.get("status") or {}).get("message")]
    containers += list(result.get("artifacts") or [])
    for container in containers:
        if isinstance(container, dict):
            for part in container.get("parts") or []:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return "\n".join(texts)


class A2AClient:
    """Delegates tasks to the configured peer agents."""

    def __init__(
        self,
        agents: dict[str, str],
        http: httpx.AsyncClient,
        faults: FaultRegistry,
        metrics: BackendMetrics,
        unreachable_base_url: str,
    ) -> None:
        self.agents = {name: url.rstrip("/") for name, url in agents.items()}
        self._http = http
        self._faults = faults
        self._metrics = metrics
        self._unreachable = unreachable_base_url.rstrip("/")
        self._cards: dict[str, dict[str, Any]] = {}
        self._tracer = trace.get_tracer(__name__)
        # "other" too, so the first unknown agent a model invents adds no series either.
        for agent in (*self.agents, OTHER):
            metrics.a2a_duration.labels(agent=agent)
            for status in A2A_STATUSES:
                metrics.a2a_delegations.labels(agent=agent, status=status)

    async def delegate(self, agent: str, task: str) -> Delegation:
        """Send ``task`` to ``agent`` with ``message/send``; never raises for a peer failure."""
        label = bounded(agent, self.agents)
        start = time.perf_counter()
        attributes = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": label,
            "gen_ai.provider.name": "a2a",
        }
        with self._tracer.start_as_current_span(
            f"invoke_agent {label}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                text = await self._send(agent, task)
                outcome = Delegation(label, "OK", {"agent": label, "answer": text})
            except _Failure as failure:
                outcome = Delegation(label, failure.status, {"error": failure.status, "detail": str(failure)})
                span.set_attribute("error.type", failure.status)
                span.set_status(Status(StatusCode.ERROR, failure.status))
            self._metrics.a2a_duration.labels(agent=label).observe(time.perf_counter() - start, exemplar())
            self._metrics.a2a_delegations.labels(agent=label, status=outcome.status).inc()
            audit(
                self._metrics,
                EVENT,
                f"delegation to {label}: {outcome.status}",
                agent=label,
                status=outcome.status,
            )
        return outcome

    async def _send(self, agent: str, task: str) -> str:
        base = self.agents.get(agent)
        if base is None:
            # No route to an agent we do not know: the same as an unreachable peer.
            raise _Failure("ERROR_NETWORK", f"unknown agent {agent[:64]!r}; known: {', '.join(self.agents)}")
        headers: dict[str, str] = {}
        failure = self._faults.roll("a2a_errors", agent=agent)
        if failure is not None and failure.get("mode") == "network":
            base = self._unreachable
        elif failure is not None:
            headers["X-Simulate-Status"] = "500"
        latency = self._faults.roll("a2a_latency", agent=agent)
        if latency is not None:
            headers["X-Simulate-Delay"] = f"{float(latency['seconds']):g}"
        endpoint = await self._endpoint(agent, base)
        request = {
            "jsonrpc": "2.0",
            "id": str(uuid.uuid4()),
            "method": "message/send",
            "params": {
                "message": {
                    "kind": "message",
                    "role": "user",
                    "messageId": str(uuid.uuid4()),
                    "parts": [{"kind": "text", "text": task}],
                }
            },
        }
        body = await self._post(endpoint, request, headers)
        if "error" in body:
            error = body["error"] if isinstance(body["error"], dict) else {}
            raise _Failure(
                "ERROR_HTTP", f"peer answered JSON-RPC error {error.get('code')}: {error.get('message')}"
            )
        return _answer_text(body.get("result"))

    async def _endpoint(self, agent: str, base: str) -> str:
        """Where message/send goes: the card's url, fetched once per agent."""
        if base == self._unreachable:
            return base
        card = self._cards.get(agent)
        if card is None:
            card = await self._get_card(base)
            self._cards[agent] = card
        url = card.get("url")
        return url if isinstance(url, str) and url.startswith(("http://", "https://")) else base

    async def _get_card(self, base: str) -> dict[str, Any]:
        try:
            response = await self._http.get(f"{base}{CARD_PATH}")
        except httpx.HTTPError as exc:
            raise _Failure("ERROR_NETWORK", f"agent card unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise _Failure("ERROR_HTTP", f"agent card answered HTTP {response.status_code}")
        try:
            card = response.json()
        except ValueError as exc:
            raise _Failure("ERROR_HTTP", "agent card is not JSON") from exc
        return card if isinstance(card, dict) else {}

    async def _post(self, url: str, request: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._http.post(url, json=request, headers=headers)
        except httpx.HTTPError as exc:
            raise _Failure("ERROR_NETWORK", f"peer unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise _Failure("ERROR_HTTP", f"peer answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise _Failure("ERROR_HTTP", "peer answered invalid JSON") from exc
        if not isinstance(body, dict):
            raise _Failure("ERROR_HTTP", "peer answered a non-object JSON-RPC response")
        return body

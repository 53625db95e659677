"""The MCP-style tool registry: what the agent can call, with RBAC and credentials.

Tools: ``weather`` and ``search_docs`` (HTTP GET to the tools API), ``crm_lookup``
(HTTP, needs ``BACKEND_CRM_API_KEY``), ``calculator`` (local) and
``admin_reset_cache`` (local, admin role only). Every attempt ends in one status of
:data:`TOOL_STATUSES`, counted in ``agent_tool_calls_total{tool,status}``, timed in
``agent_tool_call_duration_seconds{tool}``, written as an ``MCP_TOOL_INVOKE_ATTEMPT``
audit record and traced as an ``execute_tool {tool}`` span. A tool failure is handed
back to the model as the tool's result; it does not fail the run.

Faults: ``tool_errors`` makes HTTP tools' upstream answer 500 (``X-Simulate-Status``)
and local tools raise; ``tool_latency`` delays HTTP tools upstream
(``X-Simulate-Delay``) and local tools in process; ``tool_credentials`` makes loading
a tool's configured secret fail (``ERROR_CREDENTIALS`` before any upstream call), as
when a secret store is unreachable or the mounted secret is missing.

Usage::

    registry = ToolRegistry(settings, http, cache, faults, metrics)
    result = await registry.invoke("weather", '{"city": "Paris"}', role="user", call_id="c1")
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from sample_backend.app.audit import audit
from sample_backend.app.cache import Cache
from sample_backend.app.calculator import CalculatorError, evaluate
from sample_backend.app.settings import BackendSettings
from sample_backend.faults.registry import FaultRegistry
from sample_backend.telemetry.metrics import OTHER, TOOL_STATUSES, BackendMetrics, bounded
from sample_backend.telemetry.tracing import exemplar

__all__ = ["TOOL_NAMES", "TOOL_SCHEMAS", "ToolRegistry", "ToolResult"]

EVENT = "MCP_TOOL_INVOKE_ATTEMPT"
ADMIN_ONLY = frozenset({"admin_reset_cache"})


def _function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


TOOL_SCHEMAS: tuple[dict[str, Any], ...] = (
    _function("weather", "Current weather for a city.", {"city": {"type": "string"}}, ["city"]),
    _function("search_docs", "Search the product documentation.", {"query": {"type": "string"}}, ["query"]),
    _function(
        "crm_lookup", "Look a customer up in the CRM.", {"customer_id": {"type": "string"}}, ["customer_id"]
    ),
    _function(
        "calculator", "Evaluate an arithmetic expression.", {"expression": {"type": "string"}}, ["expression"]
    ),
    _function("admin_reset_cache", "Clear the agent's cache (administrators only).", {}, []),
)
TOOL_NAMES = tuple(s["function"]["name"] for s in TOOL_SCHEMAS)


@dataclass
class ToolResult:
    """What a tool attempt produced: its status and the content handed to the model."""

    status: str
    content: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "OK"


class _Failure(Exception):
    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _arg(args: dict[str, Any], *names: str) -> str:
    """The first of ``names`` present in ``args`` (models differ in the names they pick)."""
    for name in names:
        value = args.get(name)
        if value is not None and str(value).strip():
            return str(value)
    raise _Failure("ERROR_EXECUTION", f"missing argument {names[0]!r}")


class ToolRegistry:
    """Runs tool calls the model asked for, with RBAC, credentials, faults and telemetry."""

    def __init__(
        self,
        settings: BackendSettings,
        http: httpx.AsyncClient,
        cache: Cache,
        faults: FaultRegistry,
        metrics: BackendMetrics,
    ) -> None:
        self._base = settings.tools_base_url
        self._crm_key = settings.crm_api_key
        self._http = http
        self._cache = cache
        self._faults = faults
        self._metrics = metrics
        self._tracer = trace.get_tracer(__name__)
        # "other" too, so the first unknown tool a model invents adds no series either.
        for tool in (*TOOL_NAMES, OTHER):
            metrics.tool_duration.labels(tool=tool)
            for status in TOOL_STATUSES:
                metrics.tool_calls.labels(tool=tool, status=status)
        for tool in ADMIN_ONLY:
            metrics.rbac_denials.labels(tool=tool)

    async def invoke(self, name: str, arguments: str, *, role: str, call_id: str) -> ToolResult:
        """Attempt one tool call; never raises for a tool failure."""
        tool = bounded(name, TOOL_NAMES)
        start = time.perf_counter()
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "function",
        }
        with self._tracer.start_as_current_span(
            f"execute_tool {tool}", kind=SpanKind.INTERNAL, attributes=attributes
        ) as span:
            try:
                result = ToolResult("OK", await self._run(tool, name, arguments, role))
            except _Failure as failure:
                result = ToolResult(failure.status, {"error": failure.status, "detail": str(failure)})
            span.set_attribute("agent.tool.status", result.status)
            if not result.ok:
                span.set_attribute("error.type", result.status)
                span.set_status(Status(StatusCode.ERROR, result.status))
            self._metrics.tool_duration.labels(tool=tool).observe(time.perf_counter() - start, exemplar())
            self._metrics.tool_calls.labels(tool=tool, status=result.status).inc()
            if result.status == "ERROR_FORBIDDEN":
                self._metrics.rbac_denials.labels(tool=tool).inc()
            audit(
                self._metrics,
                EVENT,
                f"tool {tool} attempt: {result.status}",
                tool=tool,
                status=result.status,
                role=role,
            )
        return result

    async def _run(self, tool: str, name: str, arguments: str, role: str) -> dict[str, Any]:
        if tool == OTHER:
            raise _Failure("ERROR_EXECUTION", f"unknown tool {name[:64]!r}")
        if tool in ADMIN_ONLY and role != "admin":
            raise _Failure("ERROR_FORBIDDEN", f"{tool} needs the admin role; caller has {role}")
        try:
            args = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            raise _Failure("ERROR_EXECUTION", f"arguments are not JSON: {exc.msg}") from exc
        if not isinstance(args, dict):
            raise _Failure("ERROR_EXECUTION", "arguments must be a JSON object")
        if tool == "weather":
            return await self._get(tool, "/weather", {"city": _arg(args, "city", "location")})
        if tool == "search_docs":
            return await self._get(tool, "/search", {"q": _arg(args, "query", "q")})
        if tool == "crm_lookup":
            key = self._credential(tool)
            customer = _arg(args, "customer_id", "id", "customer")
            return await self._get(
                tool,
                f"/crm/customers/{urllib.parse.quote(customer, safe='')}",
                None,
                {"Authorization": f"Bearer {key}"},
            )
        await self._local_faults(tool)
        if tool == "calculator":
            try:
                return {"result": evaluate(_arg(args, "expression", "expr", "input"))}
            except CalculatorError as exc:
                raise _Failure("ERROR_EXECUTION", str(exc)) from exc
        cleared = await self._cache.clear()  # admin_reset_cache
        return {"cleared_entries": cleared}

    def _credential(self, tool: str) -> str:
        """Load the tool's configured secret; ERROR_CREDENTIALS when it cannot be loaded."""
        if self._faults.roll("tool_credentials", tool=tool) is not None:
            raise _Failure(
                "ERROR_CREDENTIALS",
                f"could not load the {tool} credential (BACKEND_CRM_API_KEY): secret unavailable",
            )
        if not self._crm_key:
            raise _Failure("ERROR_CREDENTIALS", "no CRM credential configured (BACKEND_CRM_API_KEY)")
        return self._crm_key

    async def _local_faults(self, tool: str) -> None:
        latency = self._faults.roll("tool_latency", tool=tool)
        if latency is not None:
            await asyncio.sleep(float(latency["seconds"]))
        if self._faults.roll("tool_errors", tool=tool) is not None:
            raise _Failure("ERROR_EXECUTION", f"{tool} raised: simulated internal error")

    async def _get(
        self, tool: str, path: str, params: dict[str, str] | None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if self._faults.roll("tool_errors", tool=tool) is not None:
            sent["X-Simulate-Status"] = "500"
        latency = self._faults.roll("tool_latency", tool=tool)
        if latency is not None:
            sent["X-Simulate-Delay"] = f"{float(latency['seconds']):g}"
        try:
            response = await self._http.get(f"{self._base}{path}", params=params, headers=sent)
        except httpx.HTTPError as exc:
            raise _Failure("ERROR_HTTP", f"{tool} upstream unreachable: {type(exc).__name__}") from exc
        if response.status_code in (401, 403) and tool == "crm_lookup":
            raise _Failure("ERROR_CREDENTIALS", f"CRM refused the credential (HTTP {response.status_code})")
        if response.status_code >= 400:
            raise _Failure("ERROR_HTTP", f"{tool} upstream answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise _Failure("ERROR_HTTP", f"{tool} upstream answered invalid JSON") from exc
        return body if isinstance(body, dict) else {"result": body}

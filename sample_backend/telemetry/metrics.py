"""Every Prometheus metric the sample backend exports, in one place.

This module is the contract between the backend, the alert rules in
``provisioning/prometheus/rules/`` and the Grafana dashboards: a rule or a panel may
only use a name defined here (or one a stack component exports), and a test checks
that against a live ``/metrics``.

Naming follows Prometheus conventions (base units, ``_total`` for counters,
``_seconds`` for durations). Where an OpenTelemetry semantic convention exists the
metric uses its Prometheus form (``http.server.request.duration`` becomes
``http_server_request_duration_seconds`` with ``http_request_method`` /
``http_route`` / ``http_response_status_code`` labels).

Every label value comes from a bounded set: callers pass values through
:func:`bounded`, which maps anything unknown to ``"other"``.

Usage::

    m = BackendMetrics(CollectorRegistry())
    m.tool_calls.labels(tool="weather", status="OK").inc()
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

__all__ = [
    "A2A_STATUSES",
    "AG_UI_ROUTE",
    "AG_UI_STATUSES",
    "AUTH_OUTCOMES",
    "LATENCY_BUCKETS",
    "TOOL_STATUSES",
    "BackendMetrics",
    "bounded",
]

# Request latency buckets. 2.5 s is the latency SLO threshold and 5 s the p99 page
# threshold, so both are bucket boundaries: histogram_quantile and the SLO ratio are
# exact there instead of interpolated.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Upstream calls (LLM, tools, A2A) are slower than in-process work; 1 s and 2 s are
# the warning thresholds of the tool / A2A / LLM latency alerts.
UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
# Cache and database operations are sub-millisecond when healthy.
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# OpenTelemetry's recommended buckets for gen_ai.client.token.usage.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)

TOOL_STATUSES = ("OK", "ERROR_EXECUTION", "ERROR_HTTP", "ERROR_FORBIDDEN", "ERROR_CREDENTIALS")
A2A_STATUSES = ("OK", "ERROR_NETWORK", "ERROR_HTTP")
AUTH_OUTCOMES = ("success", "missing", "invalid")
# Every status POST /ag-ui/events answers with. Their series exist from the start at zero: a series
# born with its first request has no earlier sample, so rate() and increase() miss that request and
# the error ratios see a new kind of failure one scrape late.
AG_UI_ROUTE = "/ag-ui/events"
AG_UI_STATUSES = (200, 400, 401, 413, 415, 422, 500, 503)
OTHER = "other"


def bounded(value: str, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is in ``allowed``, else ``"other"`` (keeps series bounded)."""
    return value if value in set(allowed) else OTHER


class BackendMetrics:
    """The backend's metric families, registered on ``registry``.

    One instance per application, so that tests can run several apps in one process.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        r = registry

        # --- HTTP server (OpenTelemetry http.server.request.duration) ---------------
        self.http_duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests; for /ag-ui/events, until the SSE stream ends.",
            ["http_request_method", "http_route", "http_response_status_code"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        for status in AG_UI_STATUSES:
            self.http_duration.labels("POST", AG_UI_ROUTE, str(status))
        self.sse_streams_active = Gauge(
            "agent_sse_streams_active",
            "AG-UI SSE streams currently open.",
            registry=r,
        )
        self.runs = Counter(
            "agent_runs",
            "Agent runs by how they ended (finished, error, or cancelled when the client left).",
            ["outcome"],
            registry=r,
        )

        # --- LLM (OpenTelemetry gen_ai.client.*) ------------------------------------
        self.llm_duration = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "Duration of GenAI client operations; error_type is empty on success.",
            ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )
        self.llm_tokens = Histogram(
            "gen_ai_client_token_usage",
            "Tokens used per GenAI client operation, by token type (input or output).",
            ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_token_type"],
            buckets=TOKEN_BUCKETS,
            registry=r,
        )
        self.llm_cost = Counter(
            "agent_llm_cost_usd",
            "Estimated LLM spend in US dollars, from token counts and list prices.",
            ["gen_ai_request_model"],
            registry=r,
        )
        self.token_budget_used = Gauge(
            "agent_llm_token_budget_used_tokens",
            "Tokens used in the current UTC day.",
            registry=r,
        )
        self.token_budget_limit = Gauge(
            "agent_llm_token_budget_limit_tokens",
            "Daily token budget.",
            registry=r,
        )

        # --- MCP tools ---------------------------------------------------------------
        self.tool_calls = Counter(
            "agent_tool_calls",
            "MCP tool invocation attempts by tool and status.",
            ["tool", "status"],
            registry=r,
        )
        self.tool_duration = Histogram(
            "agent_tool_call_duration_seconds",
            "Duration of MCP tool invocations.",
            ["tool"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )

        # --- A2A delegation ------------------------------------------------------------
        self.a2a_delegations = Counter(
            "agent_a2a_delegations",
            "A2A delegations by target agent and status.",
            ["agent", "status"],
            registry=r,
        )
        self.a2a_duration = Histogram(
            "agent_a2a_delegation_duration_seconds",
            "Duration of A2A message/send calls.",
            ["agent"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )

        # --- security and audit ----------------------------------------------------------
        self.auth_validations = Counter(
            "agent_auth_validations",
            "Bearer-token validations by outcome (success, missing, invalid).",
            ["outcome"],
            registry=r,
        )
        self.rbac_denials = Counter(
            "agent_rbac_denials",
            "Calls refused because the caller's role lacks the permission.",
            ["tool"],
            registry=r,
        )
        self.guardrail_checks = Counter(
            "agent_guardrail_checks",
            "User inputs checked by the guardrail.",
            registry=r,
        )
        self.guardrail_violations = Counter(
            "agent_guardrail_violations",
            "User inputs the guardrail refused, by rule.",
            ["rule"],
            registry=r,
        )
        self.audit_events = Counter(
            "agent_audit_events",
            "Audit log records written, by event name.",
            ["event"],
            registry=r,
        )

        # --- cache --------------------------------------------------------------------
        self.cache_requests = Counter(
            "agent_cache_requests",
            "Cache lookups by result (hit or miss).",
            ["result"],
            registry=r,
        )
        self.cache_duration = Histogram(
            "agent_cache_operation_duration_seconds",
            "Duration of cache operations.",
            ["operation"],
            buckets=FAST_BUCKETS,
            registry=r,
        )

        # --- database (conversation store) ------------------------------------------------
        self.db_connections_in_use = Gauge(
            "agent_db_pool_connections_in_use",
            "Database pool connections checked out.",
            registry=r,
        )
        self.db_connections_max = Gauge(
            "agent_db_pool_connections_max",
            "Database pool size limit.",
            registry=r,
        )
        self.db_duration = Histogram(
            "agent_db_query_duration_seconds",
            "Duration of conversation-store queries.",
            ["operation"],
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.db_storage_used = Gauge(
            "agent_db_storage_used_bytes",
            "Bytes used by the conversation store.",
            registry=r,
        )
        self.db_storage_capacity = Gauge(
            "agent_db_storage_capacity_bytes",
            "Capacity of the conversation store's volume.",
            registry=r,
        )

        # --- dependencies, resources, faults ----------------------------------------------
        self.dependency_up = Gauge(
            "agent_dependency_up",
            "1 when the readiness check last found the dependency (database, llm) healthy.",
            ["dependency"],
            registry=r,
        )
        self.memory_limit = Gauge(
            "agent_process_memory_limit_bytes",
            "Memory limit of the process: the cgroup limit when there is one, else configured.",
            registry=r,
        )
        self.cpu_limit = Gauge(
            "agent_process_cpu_limit_cores",
            "CPU cores the process may use: the cgroup quota when there is one, else configured.",
            registry=r,
        )
        self.fault_active = Gauge(
            "agent_fault_active",
            "1 while the named fault or traffic mode is switched on.",
            ["fault"],
            registry=r,
        )
        self.build_info = Gauge(
            "agent_build_info",
            "Always 1; labels carry the version and service name.",
            ["version", "service_name"],
            registry=r,
        )

    def families(self) -> list[MetricWrapperBase]:
        """Every family defined here (for tests that check each one is exported)."""
        return [v for v in vars(self).values() if isinstance(v, MetricWrapperBase)]

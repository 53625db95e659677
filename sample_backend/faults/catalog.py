"""The catalog of faults and traffic modes, as data.

Each entry names a fault (server-side misbehaviour the backend applies where it would
really happen) or a traffic mode (attack traffic the load generator sends while the
mode is on), its typed parameters with defaults and bounds, and a description. The
registry validates against this catalog and ``GET /admin/faults`` publishes it, so
adding a fault here makes it settable, validated and documented at once.

Usage::

    spec = FAULTS["tool_errors"]
    spec.parameters["rate"].default   # 1.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CREDENTIAL_TOOLS",
    "FAULTS",
    "KNOWN_AGENTS",
    "KNOWN_TOOLS",
    "MAX_BYTES",
    "MAX_SECONDS",
    "FaultSpec",
    "ParamSpec",
]

# The backend's tool registry and A2A peers. Fault parameters naming a tool or agent
# must be one of these (or "*"), so a typo fails loudly instead of silently matching
# nothing during a drill.
KNOWN_TOOLS = ("weather", "search_docs", "crm_lookup", "calculator", "admin_reset_cache")
KNOWN_AGENTS = ("research-agent", "billing-agent")
# The tools that load a credential from configuration; only these can fail to load one.
CREDENTIAL_TOOLS = ("crm_lookup",)

# Ten minutes is longer than any alert's `for` needs, and short enough that a forgotten
# latency fault cannot wedge a client for good.
MAX_SECONDS = 600.0
# Allocating more than this could take the host down rather than the process.
MAX_BYTES = 2 * 1024**3

ParamType = Literal["number", "integer", "string"]


@dataclass(frozen=True)
class ParamSpec:
    """One typed parameter: JSON type, default, bounds or allowed values."""

    type: ParamType
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    # True when the minimum itself is not allowed (e.g. zero CPU cores).
    exclusive_minimum: bool = False
    choices: tuple[str, ...] | None = None

    def describe(self) -> dict[str, Any]:
        """The JSON shape published by ``GET /admin/faults``."""
        out: dict[str, Any] = {"type": self.type, "default": self.default, "description": self.description}
        if self.minimum is not None:
            out["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.choices is not None:
            out["enum"] = list(self.choices)
        return out


@dataclass(frozen=True)
class FaultSpec:
    """A fault (``kind="fault"``) or traffic mode (``kind="traffic"``)."""

    name: str
    kind: Literal["fault", "traffic"]
    description: str
    parameters: dict[str, ParamSpec] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "parameters": {k: p.describe() for k, p in self.parameters.items()},
        }


def _rate(default: float = 1.0) -> ParamSpec:
    return ParamSpec("number", default, "Fraction of calls affected, 0..1.", 0.0, 1.0)


def _seconds(default: float, what: str) -> ParamSpec:
    return ParamSpec("number", default, f"Seconds added to {what}.", 0.0, MAX_SECONDS)


def _fraction(default: float, what: str) -> ParamSpec:
    return ParamSpec("number", default, f"Fraction of {what}, 0..1.", 0.0, 1.0)


def _tool() -> ParamSpec:
    return ParamSpec("string", "*", "Tool affected, or * for every tool.", choices=(*KNOWN_TOOLS, "*"))


def _agent() -> ParamSpec:
    return ParamSpec("string", "*", "A2A agent affected, or * for every agent.", choices=(*KNOWN_AGENTS, "*"))


def _traffic_rate(default: float) -> ParamSpec:
    # 200 req/s is far above what any security alert needs and below what would
    # starve the steady traffic sharing the same instance.
    return ParamSpec("number", default, "Requests per second sent to the instance.", 0.0, 200.0, True)


_SPECS = (
    FaultSpec(
        "http_5xx",
        "fault",
        "That fraction of /ag-ui/events requests answer HTTP 500 before streaming.",
        {"rate": _rate()},
    ),
    FaultSpec(
        "slow_responses",
        "fault",
        "Every /ag-ui/events run takes this much longer.",
        # 6 s puts the p99 above the 5 s page threshold and every run above the 2.5 s SLO.
        {"seconds": _seconds(6.0, "each run")},
    ),
    FaultSpec(
        "llm_errors",
        "fault",
        "The upstream LLM answers HTTP 500 for that fraction of calls (X-Simulate-Status: 500).",
        {"rate": _rate()},
    ),
    FaultSpec(
        "llm_latency",
        "fault",
        "The upstream LLM answers this much later (X-Simulate-Delay).",
        # Above the 2 s LLM latency warning threshold.
        {"seconds": _seconds(3.0, "each LLM call")},
    ),
    FaultSpec(
        "llm_outage",
        "fault",
        "The LLM is unreachable (connection refused); readiness fails naming llm.",
    ),
    FaultSpec(
        "tool_errors",
        "fault",
        "HTTP tools get upstream 500s (ERROR_HTTP); local tools raise (ERROR_EXECUTION).",
        {"tool": _tool(), "rate": _rate()},
    ),
    FaultSpec(
        "tool_latency",
        "fault",
        "Tool calls take this much longer.",
        # Above the 1 s tool latency warning threshold.
        {"tool": _tool(), "seconds": _seconds(1.5, "each tool call")},
    ),
    FaultSpec(
        "tool_credentials",
        "fault",
        "The tool's configured secret cannot be loaded, so every attempt ends ERROR_CREDENTIALS.",
        {
            "tool": ParamSpec(
                "string",
                "crm_lookup",
                "Tool whose credential fails to load (only tools that need credentials).",
                choices=CREDENTIAL_TOOLS,
            )
        },
    ),
    FaultSpec(
        "a2a_errors",
        "fault",
        "A2A delegations fail: mode http -> upstream 500 (ERROR_HTTP), network -> ERROR_NETWORK.",
        {
            "agent": _agent(),
            "rate": _rate(),
            "mode": ParamSpec("string", "http", "How the delegation fails.", choices=("http", "network")),
        },
    ),
    FaultSpec(
        "a2a_latency",
        "fault",
        "A2A delegations take this much longer.",
        # Above the 2 s A2A latency warning threshold.
        {"agent": _agent(), "seconds": _seconds(3.0, "each delegation")},
    ),
    FaultSpec(
        "db_down",
        "fault",
        "The conversation store is unreachable: /ag-ui/events answers 503, readiness fails naming database.",
    ),
    FaultSpec(
        "db_pool_saturation",
        "fault",
        "Holds that share of the database pool's connections.",
        {"fraction": _fraction(0.95, "pool connections held")},
    ),
    FaultSpec(
        "db_storage_fill",
        "fault",
        "The conversation store's storage is filled to that fraction of capacity.",
        {"fraction": _fraction(0.95, "storage capacity used")},
    ),
    FaultSpec(
        "cache_degraded",
        "fault",
        "Cache lookups miss at miss_rate and every cache operation is slower.",
        {
            "miss_rate": _fraction(1.0, "cache lookups that miss"),
            "seconds": _seconds(0.05, "each cache operation"),
        },
    ),
    FaultSpec(
        "cpu_burn",
        "fault",
        "Burns CPU inside the backend process (GIL-free hashing threads).",
        {"cores": ParamSpec("number", 1.0, "CPU cores to keep busy, >0..4.", 0.0, 4.0, True)},
    ),
    FaultSpec(
        "memory_pressure",
        "fault",
        "Allocates and touches that much memory inside the backend process.",
        # 400 MiB on top of a ~100 MB process passes 80 % of the default 512 MiB limit.
        {"bytes": ParamSpec("integer", 400 * 1024**2, "Bytes to allocate, 0..2 GiB.", 0, MAX_BYTES)},
    ),
    FaultSpec(
        "token_budget_burn",
        "fault",
        "The upstream LLM reports this many times the real usage (X-Simulate-Usage-Multiplier).",
        {"multiplier": ParamSpec("number", 1000.0, "Usage multiplier, 1..1000000.", 1.0, 1_000_000.0)},
    ),
    FaultSpec(
        "readiness_fail",
        "fault",
        "Readiness answers 503 naming fault.",
    ),
    FaultSpec(
        "auth_failure_spike",
        "traffic",
        "The load generator sends requests with invalid or missing bearer tokens.",
        {"rate": _traffic_rate(20.0)},
    ),
    FaultSpec(
        "guardrail_attack",
        "traffic",
        "The load generator sends prompts that trip the input guardrail.",
        {"rate": _traffic_rate(5.0)},
    ),
    FaultSpec(
        "forbidden_admin_tool",
        "traffic",
        "The load generator sends user-role prompts that make the agent call the admin-only tool.",
        {"rate": _traffic_rate(5.0)},
    ),
)

FAULTS: dict[str, FaultSpec] = {s.name: s for s in _SPECS}

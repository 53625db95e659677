"""Audit records: one structured log line plus one ``agent_audit_events_total`` tick.

Keeping the two in one call means the security dashboard (metrics) and the audit
trail (logs) can never disagree about how many events there were.

Usage::

    audit(metrics, "GUARDRAIL_VIOLATION_DETECTED", "input refused", rule="prompt_injection")
"""

from __future__ import annotations

from typing import Any

from sample_backend.telemetry.logs import audit_logger
from sample_backend.telemetry.metrics import BackendMetrics

__all__ = ["AUDIT_EVENTS", "audit"]

AUDIT_EVENTS = (
    "AUTH_GATEWAY_VALIDATION",
    "GUARDRAIL_VIOLATION_DETECTED",
    "MCP_TOOL_INVOKE_ATTEMPT",
    "A2A_DELEGATION",
    "FAULT_CHANGED",
    "TOKEN_BUDGET_RESET",
)


def audit(metrics: BackendMetrics, event: str, message: str, **fields: Any) -> None:
    """Write the audit record ``event`` with ``fields`` and count it."""
    audit_logger().info(message, extra={"event": event, **fields})
    metrics.audit_events.labels(event=event).inc()

"""Audit Log & Security (strategy section 3f): audit volume, auth failures, RBAC denials,
guardrail violations and critical errors, as metrics and as the audit records themselves.

The log panels read the audit records Loki receives from the backends' stdout; each
record's ``trace_id`` opens the request's trace in Tempo.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from ._board import BACKEND, PanelBuilder, board, instance_variable
from ._panels import logs, logs_link, loki_query, prom, timeseries

__all__ = ["build"]

# A zero line (instead of "No data") for counters that have not been incremented yet.
_ZERO = f"sum(rate(agent_audit_events_total{{{BACKEND}}}[$__rate_interval])) * 0"
_AUDIT = '{logger="audit", instance=~"$instance"} | json'
_AUTH_FAILED = _AUDIT + ' | event="AUTH_GATEWAY_VALIDATION" | outcome!="success"'


def _metrics() -> list[PanelBuilder]:
    return [
        timeseries(
            "Audit events by type",
            "Audit records written per second, by event name.",
            [
                prom(
                    f"sum by (event) (rate(agent_audit_events_total{{{BACKEND}}}[$__rate_interval]))",
                    "{{event}}",
                )
            ],
            unit="ops",
            links=[logs_link("Audit log", _AUDIT)],
        ),
        timeseries(
            "Authentication failures",
            "AUTH_GATEWAY_VALIDATION outcomes other than success (missing or invalid token).",
            [
                prom(
                    f'sum by (outcome) (rate(agent_auth_validations_total{{{BACKEND}, outcome!="success"}}'
                    f"[$__rate_interval])) or {_ZERO}",
                    "{{outcome}}",
                ),
            ],
            unit="ops",
            links=[logs_link("Authentication failures (audit log)", _AUTH_FAILED)],
        ),
        timeseries(
            "Authentication failures by client (logs)",
            "Failed validations per client in the audit log; Loki's ruler alerts on a burst from one client.",
            [loki_query(f"sum by (client) (count_over_time({_AUTH_FAILED} [$__auto]))", "{{client}}")],
            links=[logs_link("Authentication failures (audit log)", _AUTH_FAILED)],
        ),
        timeseries(
            "RBAC denials",
            "Calls refused because the caller's role lacks the permission (the admin-only tool).",
            [
                prom(
                    f"sum by (tool) (rate(agent_rbac_denials_total{{{BACKEND}}}[$__rate_interval]))"
                    f" or {_ZERO}",
                    "{{tool}}",
                )
            ],
            unit="ops",
            links=[
                logs_link(
                    "RBAC denials (audit log)",
                    _AUDIT + ' | event="MCP_TOOL_INVOKE_ATTEMPT" | status="ERROR_FORBIDDEN"',
                )
            ],
        ),
        timeseries(
            "Guardrail violations",
            "User inputs the guardrail refused, by rule.",
            [
                prom(
                    f"sum by (rule) (rate(agent_guardrail_violations_total{{{BACKEND}}}[$__rate_interval]))"
                    f" or {_ZERO}",
                    "{{rule}}",
                )
            ],
            unit="ops",
            links=[
                logs_link(
                    "Guardrail violations (audit log)", _AUDIT + ' | event="GUARDRAIL_VIOLATION_DETECTED"'
                )
            ],
        ),
        timeseries(
            "Critical errors (logs)",
            "ERROR and CRITICAL log records per instance.",
            [
                loki_query(
                    "sum by (instance) (count_over_time("
                    '{instance=~"$instance", level=~"ERROR|CRITICAL"} [$__auto]))',
                    "{{instance}}",
                )
            ],
            links=[logs_link("Error logs", '{instance=~"$instance", level=~"ERROR|CRITICAL"}')],
        ),
    ]


def _records() -> list[PanelBuilder]:
    return [
        logs("Authentication failures", "Failed AUTH_GATEWAY_VALIDATION records.", _AUTH_FAILED, span=12),
        logs(
            "RBAC denials",
            "MCP_TOOL_INVOKE_ATTEMPT records refused with ERROR_FORBIDDEN.",
            _AUDIT + ' | event="MCP_TOOL_INVOKE_ATTEMPT" | status="ERROR_FORBIDDEN"',
            span=12,
        ),
        logs(
            "Guardrail violations",
            "GUARDRAIL_VIOLATION_DETECTED records with the rule that tripped.",
            _AUDIT + ' | event="GUARDRAIL_VIOLATION_DETECTED"',
            span=12,
        ),
        logs(
            "Fault changes",
            "FAULT_CHANGED records: who switched which fault on or off.",
            _AUDIT + ' | event="FAULT_CHANGED"',
            span=12,
        ),
        logs(
            "Critical errors",
            "ERROR and CRITICAL records of the backends.",
            '{instance=~"$instance", level=~"ERROR|CRITICAL"}',
        ),
    ]


def build() -> Dashboard:
    return board(
        "audit-security",
        "Audit Log & Security",
        "Audit events, authentication failures, RBAC denials, guardrail violations and critical errors.",
        [instance_variable()],
        [("Security signals", _metrics()), ("Audit records", _records())],
    )

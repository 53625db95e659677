"""MCP Tools (strategy section 3c): call rate, latency and errors per tool, credential errors.

Filtered by ``$instance`` and ``$tool``; each per-tool series links to that tool's
``execute_tool`` spans in Tempo and its ``MCP_TOOL_INVOKE_ATTEMPT`` audit records in Loki.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from ._board import BACKEND, PanelBuilder, board, instance_variable, tool_variable
from ._panels import logs, logs_link, prom, timeseries, traces_link

__all__ = ["build"]

_SEL = BACKEND + ', tool=~"$tool"'
_CALLS = f"rate(agent_tool_calls_total{{{_SEL}}}[$__rate_interval])"
_FAILED = f'rate(agent_tool_calls_total{{{_SEL}, status!="OK"}}[$__rate_interval])'
_BUCKETS = f"rate(agent_tool_call_duration_seconds_bucket{{{_SEL}}}[$__rate_interval])"

_TOOL_TRACES = traces_link(
    "Traces of ${__field.labels.tool}", '{span.gen_ai.tool.name="${__field.labels.tool}"}'
)
_TOOL_FAILED_TRACES = traces_link(
    "Failed calls of ${__field.labels.tool} (traces)",
    '{span.gen_ai.tool.name="${__field.labels.tool}" && status=error}',
)
_TOOL_AUDIT = logs_link(
    "Audit records of ${__field.labels.tool}",
    '{logger="audit", instance=~"$instance"} | json | event="MCP_TOOL_INVOKE_ATTEMPT"'
    ' | tool="${__field.labels.tool}"',
)


def _panels() -> list[PanelBuilder]:
    return [
        timeseries(
            "Call rate per tool",
            "Tool invocation attempts per second, any outcome.",
            [prom(f"sum by (tool) ({_CALLS})", "{{tool}}")],
            unit="ops",
            links=[_TOOL_TRACES, _TOOL_AUDIT],
        ),
        timeseries(
            "Error ratio per tool",
            "Share of a tool's invocations that did not return OK (any ERROR_* status).",
            [
                # `or ... * 0` gives a 0 line for tools that have not failed yet.
                prom(
                    f"(sum by (tool) ({_FAILED}) or sum by (tool) ({_CALLS}) * 0) / sum by (tool) ({_CALLS})",
                    "{{tool}}",
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.1, "orange")),
            links=[_TOOL_FAILED_TRACES, _TOOL_AUDIT],
        ),
        timeseries(
            "Latency per tool p50",
            "Median duration of each tool's invocations.",
            [prom(f"histogram_quantile(0.50, sum by (le, tool) ({_BUCKETS}))", "{{tool}}", exemplar=True)],
            unit="s",
            span=8,
            links=[_TOOL_TRACES],
        ),
        timeseries(
            "Latency per tool p95",
            "95th percentile; the HTTP tools' latency alert watches this.",
            [prom(f"histogram_quantile(0.95, sum by (le, tool) ({_BUCKETS}))", "{{tool}}", exemplar=True)],
            unit="s",
            span=8,
            steps=((None, "green"), (1, "orange")),
            links=[_TOOL_TRACES],
        ),
        timeseries(
            "Latency per tool p99",
            "99th percentile of each tool's invocations.",
            [prom(f"histogram_quantile(0.99, sum by (le, tool) ({_BUCKETS}))", "{{tool}}", exemplar=True)],
            unit="s",
            span=8,
            links=[_TOOL_TRACES],
        ),
        timeseries(
            "Invocations by tool and status",
            "ERROR_EXECUTION (local tool raised), ERROR_HTTP (upstream failed), ERROR_FORBIDDEN (RBAC), "
            "ERROR_CREDENTIALS (credential missing).",
            [prom(f"sum by (tool, status) ({_CALLS})", "{{tool}} {{status}}")],
            unit="ops",
            links=[_TOOL_FAILED_TRACES, _TOOL_AUDIT],
        ),
        timeseries(
            "Credential loading errors",
            "Invocations refused because the tool's credential is missing (ERROR_CREDENTIALS).",
            [
                prom(
                    f'sum by (tool) (rate(agent_tool_calls_total{{{_SEL}, status="ERROR_CREDENTIALS"}}'
                    f"[$__rate_interval])) or sum by (tool) ({_CALLS}) * 0",
                    "{{tool}}",
                )
            ],
            unit="ops",
            links=[_TOOL_AUDIT],
        ),
        logs(
            "Credential errors (audit log)",
            "MCP_TOOL_INVOKE_ATTEMPT records with status ERROR_CREDENTIALS; trace_id opens the trace.",
            '{logger="audit", instance=~"$instance"} | json | event="MCP_TOOL_INVOKE_ATTEMPT"'
            ' | status="ERROR_CREDENTIALS"',
            span=12,
            height=8,
        ),
    ]


def build() -> Dashboard:
    return board(
        "mcp-tools",
        "MCP Tools",
        "Per-tool call rate, latency and errors of the agent's MCP tools.",
        [instance_variable(), tool_variable()],
        [("Tools", _panels())],
    )
